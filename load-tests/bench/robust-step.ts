/**
 * `npx tsx load-tests/bench/robust-step.ts [--baseline DIR]... [--states 160] [--samples 3000] [--rounds 7] [--interval 1] [--cycle]`
 *
 * The `robust` detector's own cost per step (`robustDetector.update`, default params) on the
 * signal the steady analytics bench feeds it: one sample a second, AR(1) noise of about 1 % around
 * a healthy level, `states` metric states, 5,700 samples each untimed (past warm-up and the
 * settling of every rule), then `samples` timed. `--interval S`: a sample every S seconds instead;
 * `--cycle`: plus a daily cycle of 20 times the noise (at `--interval 60` its profile is judged
 * against from about the second day, so the timed samples are judged as residuals). Each `--baseline DIR` (a checkout of another
 * commit) has its own `robust.ts` timed on the same data in the same process, interleaved round by
 * round (each round starting with the next detector); prints the medians in ns of CPU time (user +
 * system) per step, and the ratio of each baseline's median to this checkout's. The events each
 * raised are counted: an event-identical change raises the same number.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { baseline: { type: 'string', multiple: true }, states: { type: 'string', default: '160' }, samples: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '7' }, interval: { type: 'string', default: '1' }, cycle: { type: 'boolean', default: false } } });
const INTERVAL_MS = Number(args.interval) * 1000;
const STATES = Number(args.states);
const TIMED = Number(args.samples);
const ROUNDS = Number(args.rounds);
const WARM = 5700;

interface Detector {
  initial(p: unknown): unknown;
  update?(p: unknown, s: unknown, input: { ts: number; value: number }): readonly unknown[];
}
interface RobustModule {
  robustDetector: Detector;
  robustParamsSchema: { parse(x: unknown): unknown };
}

async function load(dir: string): Promise<RobustModule> {
  return (await import(pathToFileURL(resolve(dir, 'src/analytics/detectors/robust.ts')).href)) as RobustModule;
}

/** Deterministic AR(1) series per state (no Math.random: every detector sees the same data). */
function makeData(): Float64Array[] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  return Array.from({ length: STATES }, (_, d) => {
    const level = 20 + d;
    const out = new Float64Array(WARM + TIMED);
    let noise = 0;
    for (let k = 0; k < out.length; k++) {
      noise = 0.9 * noise + rnd();
      const phase = (2 * Math.PI * k * INTERVAL_MS) / 86_400_000;
      out[k] = level + (noise + (args.cycle ? 20 * Math.sin(phase) : 0)) * 0.01 * level;
    }
    return out;
  });
}

const data = makeData();
const t0 = Date.UTC(2026, 0, 5);

/** One run: fresh states, warmed untimed, then timed; ns of CPU per step and the events raised. */
function run(m: RobustModule): { ns: number; events: number } {
  const p = m.robustParamsSchema.parse({ metric: 'value' });
  const states = Array.from({ length: STATES }, () => m.robustDetector.initial(p));
  const input = { ts: 0, value: 0 };
  const update = m.robustDetector.update!;
  let events = 0;
  const feed = (from: number, to: number): void => {
    for (let k = from; k < to; k++) {
      input.ts = t0 + k * INTERVAL_MS;
      for (let d = 0; d < STATES; d++) {
        input.value = data[d]![k]!;
        events += update(p, states[d], input).length;
      }
    }
  };
  feed(0, WARM);
  const c0 = process.cpuUsage();
  feed(WARM, WARM + TIMED);
  const used = process.cpuUsage(c0);
  return { ns: ((used.user + used.system) * 1000) / (TIMED * STATES), events };
}

const engines = [{ name: 'current', m: await load(process.cwd()) }];
for (const dir of args.baseline ?? []) engines.push({ name: dir, m: await load(dir) });
const times = engines.map(() => [] as number[]);
const events = engines.map(() => 0);
for (let r = 0; r < ROUNDS; r++) {
  for (let j = 0; j < engines.length; j++) {
    const i = (r + j) % engines.length;
    const out = run(engines[i]!.m);
    times[i]!.push(out.ns);
    events[i] = out.events;
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const current = median(times[0]!);
console.log(
  JSON.stringify({
    states: STATES,
    samples: TIMED,
    rounds: ROUNDS,
    detectors: engines.map((e, i) => ({ name: e.name, nsPerStep: Number(median(times[i]!).toFixed(1)), events: events[i], speedup: Number((median(times[i]!) / current).toFixed(2)) })),
  }),
);
