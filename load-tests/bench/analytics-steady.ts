/**
 * npx tsx load-tests/bench/analytics-steady.ts [--baseline DIR] [--rules FILE] [--devices 50] [--samples 3000]
 *
 * The analytics engine's cost per sample on machines in steady running, the case `bench:micro`
 * does not reach (its machines are fresh, so rules limited to settled running only learn or wait).
 * Each device reports 8 metrics (catalogue gauges and two outside it) with `state` 2, one sample
 * a second, AR(1) noise of about 1 % around healthy levels (no rule raises); the first 3,900 samples (65 min, past every
 * default rule's settling hour and warm-up) are not timed, then `--samples` more are, per device.
 * With `--baseline DIR` (a checkout of another commit, e.g. made with `git worktree add`), the same
 * run is timed on that checkout's engine, alternating, median of 5 rounds each. `--rules FILE` (an
 * analytics file, as PP_ANALYTICS_FILE takes) applies to the current checkout only: with
 * `--baseline .` the ratio is what the file's extra rules cost.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, rules: { type: 'string' }, devices: { type: 'string', default: '50' }, samples: { type: 'string', default: '3000' } } });
const DEVICES = Number(args.devices);
const TIMED = Number(args.samples);
const WARM = 3900;
const METRICS = ['temperature_c', 'power_kw', 'current_a', 'vibration_mm_s', 'pressure_bar', 'power_factor', 'flow_x', 'speed_x'];

interface Engine {
  process(batch: unknown, now: number): { events: unknown[] };
}
type EngineCtor = new (rules: unknown, energy: unknown) => Engine;

async function load(root: string, rules?: string): Promise<{ Engine: EngineCtor; config: { rules: unknown; energy: unknown } }> {
  const engine = (await import(pathToFileURL(resolve(root, 'src/analytics/engine.ts')).href)) as { AnalyticsEngine: EngineCtor };
  const cfg = (await import(pathToFileURL(resolve(root, 'src/analytics/config.ts')).href)) as { loadAnalyticsConfig: (p: string | undefined) => { rules: unknown; energy: unknown } };
  return { Engine: engine.AnalyticsEngine, config: cfg.loadAnalyticsConfig(rules) };
}

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

function run(Engine: EngineCtor, config: { rules: unknown; energy: unknown }, data: ReturnType<typeof makeData>): number {
  const engine = new Engine(config.rules, config.energy);
  const batch = (d: number, k: number) => ({ site: 's', line: 'l', device: `d${d}`, seq: k, samples: [data[d]![k]!] });
  for (let k = 0; k < WARM; k++) for (let d = 0; d < DEVICES; d++) engine.process(batch(d, k), data[d]![k]!.ts);
  let n = 0;
  const start = process.hrtime.bigint();
  for (let k = WARM; k < WARM + TIMED; k++) for (let d = 0; d < DEVICES; d++) n += engine.process(batch(d, k), data[d]![k]!.ts).events.length;
  const ns = Number(process.hrtime.bigint() - start);
  events = n;
  return (DEVICES * TIMED) / (ns / 1e9);
}

/** Events of the last timed run (a healthy fleet should have next to none). */
let events = 0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const data = makeData();
const current = await load(process.cwd(), args.rules);
const baseline = args.baseline ? await load(args.baseline) : null;
const cur: number[] = [];
const base: number[] = [];
for (let round = 0; round < 5; round++) {
  cur.push(run(current.Engine, current.config, data));
  if (baseline) base.push(run(baseline.Engine, baseline.config, data));
  process.stderr.write(`round ${round + 1}/5: current ${Math.round(cur.at(-1)!)}${baseline ? `, baseline ${Math.round(base.at(-1)!)}` : ''} samples/s\n`);
}
const out: Record<string, unknown> = { devices: DEVICES, timedSamplesPerDevice: TIMED, metrics: METRICS.length, current: Math.round(median(cur)), currentEvents: events };
if (baseline) Object.assign(out, { baseline: Math.round(median(base)), ratio: Number((median(cur) / median(base)).toFixed(2)) });
process.stdout.write(`${JSON.stringify(out)}\n`);
