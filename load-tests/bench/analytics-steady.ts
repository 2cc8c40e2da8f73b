/**
 * npx tsx load-tests/bench/analytics-steady.ts [--baseline DIR]... [--rules FILE] [--devices 50] [--samples 3000] [--rounds 5] [--alloc]
 *
 * The analytics engine's cost per sample on machines in steady running, the case `bench:micro`
 * does not reach (its machines are fresh, so rules limited to settled running only learn or wait).
 * Each device reports 8 metrics (catalogue gauges and two outside it) with `state` 2, one sample
 * a second, AR(1) noise of about 1 % around healthy levels (no limit rule raises); the first 5,700 samples (95 min, past every
 * default rule's settling, 90 min for `deviation`, and warm-up) are not timed, then `--samples` more are, per device.
 * Each `--baseline DIR` (a checkout of another commit, e.g. made with `git worktree add`, with its
 * node_modules) is timed on the same data in the same run, engine by engine, each round starting with the next, median
 * of 5 rounds each (`--rounds`: more, for a change of a few % on a loaded machine); ratios are this checkout's median over each baseline's
 * (`roundCpuRatio`: the median of the rounds' own ratios). The events each engine
 * raised are printed too: two commits with the same detection raise the same number. Rates are
 * given per wall second and per CPU second of this process (the latter is steadier on a shared
 * machine). `--rules FILE` (an analytics file, as PP_ANALYTICS_FILE takes) applies to this
 * checkout only: with `--baseline .` the ratio is what the file's rules add. `--alloc` then times
 * this checkout's engine once more under V8's sampling heap profiler (collected objects included)
 * and prints the bytes it allocated per sample, in all and by the functions that allocated most:
 * garbage made per sample is CPU spent collecting it. Run from another checkout's directory with
 * this file's path, it measures that checkout's engine.
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { loadCheckout, type CheckoutEngineCtor } from './analytics-checkout.js';

const { values: args } = parseArgs({ options: { baseline: { type: 'string', multiple: true }, rules: { type: 'string' }, devices: { type: 'string', default: '50' }, samples: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '5' }, alloc: { type: 'boolean', default: false } } });
const DEVICES = Number(args.devices);
const TIMED = Number(args.samples);
const ROUNDS = Number(args.rounds);
const WARM = 5700;
const METRICS = ['temperature_c', 'power_kw', 'current_a', 'vibration_mm_s', 'pressure_bar', 'power_factor', 'flow_x', 'speed_x'];

/** Deterministic AR(1) series per device and metric (no Math.random: both engines see the same data). */
function makeData(): { ts: number; m: Record<string, number> }[][] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const t0 = Date.UTC(2026, 0, 5);
  return Array.from({ length: DEVICES }, (_, d) => {
    // Levels inside every catalogue range and limit: a healthy machine, so no rule raises.
    const level = [60 + d, 20 + d, 30 + d, 2 + 0.05 * d, 6, 0.9, 100 + d, 1500 + d];
    const noise = METRICS.map(() => 0);
    return Array.from({ length: WARM + TIMED }, (_, k) => {
      const m: Record<string, number> = { state: 2 };
      METRICS.forEach((name, i) => {
        noise[i] = 0.9 * noise[i]! + rnd();
        m[name] = level[i]! + noise[i]! * (0.01 * level[i]!);
      });
      return { ts: t0 + k * 1000, m };
    });
  });
}

function run(Engine: CheckoutEngineCtor, config: { rules: unknown; energy: unknown }, data: ReturnType<typeof makeData>): number {
  const engine = new Engine(config.rules, config.energy);
  const batch = (d: number, k: number) => ({ site: 's', line: 'l', device: `d${d}`, seq: k, samples: [data[d]![k]!] });
  for (let k = 0; k < WARM; k++) for (let d = 0; d < DEVICES; d++) engine.process(batch(d, k), data[d]![k]!.ts);
  let n = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let k = WARM; k < WARM + TIMED; k++) for (let d = 0; d < DEVICES; d++) n += engine.process(batch(d, k), data[d]![k]!.ts).events.length;
  const cpu = process.cpuUsage(cpu0);
  const ns = Number(process.hrtime.bigint() - start);
  events = n;
  cpuRate = (DEVICES * TIMED) / ((cpu.user + cpu.system) / 1e6);
  return (DEVICES * TIMED) / (ns / 1e9);
}

/**
 * Samples per CPU second of the last timed run (this process's user + system time): on a machine
 * shared with other work, wall time counts the time the process waited for a core; CPU time
 * mostly does not.
 */
let cpuRate = 0;

/** Events of the last timed run (a healthy fleet should have next to none). */
let events = 0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const data = makeData();
const engines = [{ name: 'current', ...(await loadCheckout(process.cwd(), args.rules)) }];
for (const dir of args.baseline ?? []) engines.push({ name: dir, ...(await loadCheckout(dir)) });
const rates = engines.map(() => [] as number[]);
const cpuRates = engines.map(() => [] as number[]);
const eventCounts = engines.map(() => 0);
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts with the next engine: whichever runs first in a round reads about 4 % low
  // (a checkout against itself: 0.95–0.96), so no engine may always be first.
  for (let k = 0; k < engines.length; k++) {
    const i = (round + k) % engines.length;
    const e = engines[i]!;
    rates[i]!.push(run(e.Engine, e.config, data));
    cpuRates[i]!.push(cpuRate);
    eventCounts[i] = events;
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} (samples/s wall, per CPU s): ${engines.map((e, i) => `${e.name} ${Math.round(rates[i]!.at(-1)!)}, ${Math.round(cpuRates[i]!.at(-1)!)}`).join('; ')}\n`);
}
const current = median(rates[0]!);
const currentCpu = median(cpuRates[0]!);
const out: Record<string, unknown> = { devices: DEVICES, timedSamplesPerDevice: TIMED, metrics: METRICS.length, current: Math.round(current), currentPerCpuS: Math.round(currentCpu), currentEvents: eventCounts[0] };
if (engines.length > 1) {
  out.baselines = engines.slice(1).map((e, j) => ({
    dir: e.name,
    samplesPerS: Math.round(median(rates[j + 1]!)),
    perCpuS: Math.round(median(cpuRates[j + 1]!)),
    events: eventCounts[j + 1],
    ratio: Number((current / median(rates[j + 1]!)).toFixed(2)),
    cpuRatio: Number((currentCpu / median(cpuRates[j + 1]!)).toFixed(2)),
    // The same, round by round (both engines timed moments apart): steadier when the machine's load drifts during a run.
    roundCpuRatio: Number(median(cpuRates[0]!.map((c, r) => c / cpuRates[j + 1]![r]!)).toFixed(3)),
  }));
}
if (args.alloc) out.alloc = await allocations();
process.stdout.write(`${JSON.stringify(out)}\n`);

interface HeapNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per timed sample by this checkout's engine (one more run, profiled), in all and by function. */
async function allocations(): Promise<{ bytesPerSample: number; top: Record<string, number> }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  run(engines[0]!.Engine, engines[0]!.config, data);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
  session.disconnect();
  // The warm-up's samples are allocated in the same run: counted per sample of the whole run.
  const samples = DEVICES * (WARM + TIMED);
  const byFn = new Map<string, number>();
  const walk = (n: HeapNode): void => {
    const name = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|load-tests)\//, '$1/')}`;
    byFn.set(name, (byFn.get(name) ?? 0) + n.selfSize);
    n.children.forEach(walk);
  };
  walk(profile.head);
  const total = [...byFn.values()].reduce((a, b) => a + b, 0);
  const top = Object.fromEntries([...byFn].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => [k, Math.round(v / samples)]));
  return { bytesPerSample: Math.round(total / samples), top };
}
