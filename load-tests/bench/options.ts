/** What `npm run bench` does in each mode: sizes and durations, in one place. */
import type { BackpressureOptions } from './backpressure.js';
import type { WorkloadShape } from './workload.js';
import { shippedWindow } from './platform-process.js';

export interface BenchOptions {
  mode: 'quick' | 'full';
  /** Run the platform under `node --cpu-prof` (profile in .tmp/, summary in the results). Slows it down. */
  profile: boolean;
  /** Results file name, without extension, in load-tests/results/. */
  out: string;
  fleet: WorkloadShape;
  /** Interleaved repetitions of the three saturation measurements (broker, InfluxDB, platform); medians reported. */
  repetitions: number;
  saturationMs: number;
  /** Start of a saturation run left out of its rate (connections, JIT, queues filling). */
  warmupMs: number;
  /**
   * Closed loop: most samples published and not yet consumed. Three times the platform's own
   * in-flight bound (receive-maximum × samples per message), so the harness never is the limit.
   */
  aheadSamples: number;
  /** Ramp steps, as fractions of the platform's measured saturation rate. */
  rampSteps: number[];
  stepMs: number;
  /** Fault injections (alert latency) during the half-rate step. */
  faults: number;
  /** Devices tracked in the memory-per-device measurement. */
  memoryDevices: number;
  /** The platform's batch writer settings (also used by the InfluxDB-alone writer). */
  batchLines: number;
  receiveMaximum: number;
  /** Horizontal scale (scale.ts): several instances on one shared subscription; null with `--no-scale`. */
  scale: ScaleConfig | null;
  /** Backpressure side by side with `--baseline-rev <rev>` (backpressure.ts); null without it. */
  backpressure: BackpressureOptions | null;
  /** `--only-backpressure`: skip every other phase. */
  onlyBackpressure: boolean;
  /** `--only-scale-out`: 1–3 NATS workers beside 1–3 instances on a Mosquitto shared subscription (scale-out.ts), nothing else. */
  onlyScaleOut: boolean;
}

export interface ScaleConfig {
  /** Instance counts, measured interleaved (rotated per repetition). */
  instances: number[];
  repetitions: number;
  /** The fixed offered load, as a fraction of one platform's maximum measured before. */
  fixedFraction: number;
  fixedMs: number;
  /** Closed loop at the instances' maximum: length, and the start left out of the rate. */
  durationMs: number;
  warmupMs: number;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--out');
  const common = { profile: argv.includes('--profile'), batchLines: 5000, receiveMaximum: shippedWindow(), aheadSamples: 60_000 };
  const scale = (c: ScaleConfig) => (argv.includes('--no-scale') ? null : c);
  const rev = argv.indexOf('--baseline-rev');
  // `--backlog <samples>`: the backlog phase's size instead of the mode's (e.g. a million with --quick).
  const backlogAt = argv.indexOf('--backlog');
  const backlogSamples = backlogAt >= 0 ? Number(argv[backlogAt + 1]) : null;
  if (backlogSamples !== null && !(Number.isInteger(backlogSamples) && backlogSamples > 0)) throw new Error(`--backlog needs a positive number of samples, got ${argv[backlogAt + 1]}`);
  const backpressure = (c: Omit<BackpressureOptions, 'baselineRev' | 'receiveMaximum' | 'batchLines' | 'onlyOverload' | 'currentEnv'>): BackpressureOptions | null =>
    rev >= 0 ? { ...c, ...(backlogSamples !== null ? { backlogSamples } : {}), baselineRev: argv[rev + 1]!, receiveMaximum: null, batchLines: common.batchLines, onlyOverload, currentEnv } : null;
  // `--only-overload`: of the backpressure phase, only the 10-sample closed loop (the maximum) and
  // the overload, for both variants; `--current-env K=V,...`: environment of this tree's platform only.
  const onlyOverload = argv.includes('--only-overload');
  const envAt = argv.indexOf('--current-env');
  const currentEnv = envAt >= 0 ? parseEnvList(argv[envAt + 1] ?? '') : {};
  const onlyBackpressure = argv.includes('--only-backpressure') || onlyOverload;
  const onlyScaleOut = argv.includes('--only-scale-out');
  if (onlyBackpressure && rev < 0) throw new Error(`${onlyOverload ? '--only-overload' : '--only-backpressure'} needs --baseline-rev <git rev>`);
  if (quick) {
    return {
      ...common,
      mode: 'quick',
      out: at >= 0 ? argv[at + 1]! : 'bench-quick',
      fleet: { sites: 10, linesPerSite: 10, machinesPerLine: 20, samplesPerMessage: 10 },
      repetitions: 1,
      saturationMs: 10_000,
      warmupMs: 3_000,
      rampSteps: [0.5, 1],
      stepMs: 8_000,
      faults: 6,
      memoryDevices: 20_000,
      scale: scale({ instances: [1, 2, 3], repetitions: 1, fixedFraction: 0.75, fixedMs: 6_000, durationMs: 8_000, warmupMs: 3_000 }),
      backpressure: backpressure({ repetitions: 1, closedLoopMs: 12_000, warmupMs: 4_000, overloadMs: 20_000, backlogSamples: 300_000 }),
      onlyBackpressure,
      onlyScaleOut,
    };
  }
  return {
    ...common,
    mode: 'full',
    out: at >= 0 ? argv[at + 1]! : 'bench',
    fleet: { sites: 20, linesPerSite: 10, machinesPerLine: 25, samplesPerMessage: 10 },
    repetitions: 3,
    saturationMs: 20_000,
    warmupMs: 5_000,
    rampSteps: [0.25, 0.5, 0.75, 0.9, 1, 1.1],
    stepMs: 15_000,
    faults: 20,
    memoryDevices: 100_000,
    scale: scale({ instances: [1, 2, 3], repetitions: 3, fixedFraction: 0.75, fixedMs: 6_000, durationMs: 10_000, warmupMs: 3_000 }),
    backpressure: backpressure({ repetitions: 2, closedLoopMs: 20_000, warmupMs: 5_000, overloadMs: 60_000, backlogSamples: 1_000_000 }),
    onlyBackpressure,
    onlyScaleOut,
  };
}

/** `K=V,K=V` (PP_* variables only: the platform refuses unknown ones, and nothing else is passed). */
function parseEnvList(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list.split(',').filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq < 1 || !item.startsWith('PP_')) throw new Error(`--current-env takes PP_NAME=value pairs separated by commas, got ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
