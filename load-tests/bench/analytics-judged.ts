/**
 * `npx tsx load-tests/bench/analytics-judged.ts [--baseline DIR]... [--rule ID]... [--devices 20] [--rounds 7]`:
 * what one judged sample costs each of the rules on every metric that judge on a cadence
 * (`distribution-change`, `off-dynamics`, `joint-deviation`: their detectors with the default
 * rules' params), alone, in interleaved rounds of one process. Each device has 8 metrics of AR(1)
 * noise around healthy levels (as analytics-steady.ts) in state 2, one judged sample every 9 s as
 * the engine hands them (per-value detectors one metric at a time, per-sample ones the sample with
 * its list); 1,000 judged samples per device untimed (past warm-up), then 500 timed. Prints the
 * medians in ns of CPU time (user + system) per judged 8-metric sample: a 1 Hz device's engine
 * judges one sample in nine, so a ninth of each is its share of the steady bench's cost per sample.
 * Each `--baseline DIR` (another commit's checkout with its node_modules) has its detectors timed
 * on the same data in the same rounds, tree after tree, each round starting with the next; the
 * ratios are this checkout's median over the baseline's, and the median of the rounds' own ratios.
 * `--rule ID`: time only these rules (default: the three).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { DetectorInput, SampleInput } from '../../src/analytics/types.js';

const { values: args } = parseArgs({ options: { baseline: { type: 'string', multiple: true }, devices: { type: 'string', default: '20' }, rounds: { type: 'string', default: '7' }, rule: { type: 'string', multiple: true } } });
const devices = Number(args.devices);
const rounds = Number(args.rounds);
const WARM = 1000;
const TIMED = 500;
const METRICS = ['temperature_c', 'power_kw', 'current_a', 'vibration_mm_s', 'pressure_bar', 'power_factor', 'flow_x', 'speed_x'];
const RULES = args.rule ?? ['distribution-change', 'off-dynamics', 'joint-deviation'];

/** What the bench needs of a checkout's detectors (loosely typed: another commit's may differ). */
interface Tree {
  root: string;
  rules: { id: string; detector: string; params: unknown }[];
  detectorFor: (kind: string) => {
    initial: (p: never) => unknown;
    update?: (p: never, s: never, input: DetectorInput) => unknown;
    updateSample?: (p: never, s: never, input: SampleInput) => unknown;
  };
}
async function loadTree(root: string): Promise<Tree> {
  const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(resolve(root, path)).href)) as T;
  const { loadAnalyticsConfig } = await load<{ loadAnalyticsConfig: (p: undefined) => { rules: unknown } }>('src/analytics/config.ts');
  const { createRuleResolver } = await load<{ createRuleResolver: (r: unknown) => (key: string) => Tree['rules'] }>('src/analytics/rules/index.ts');
  const { detectorFor } = await load<{ detectorFor: Tree['detectorFor'] }>('src/analytics/detectors/index.ts');
  return { root, rules: createRuleResolver(loadAnalyticsConfig(undefined).rules)('s/l/d'), detectorFor };
}
const here = resolve(import.meta.dirname, '../..');
const trees = [await loadTree(here), ...(await Promise.all((args.baseline ?? []).map((dir) => loadTree(dir))))];

/** Deterministic AR(1) values per device, judged sample and metric (no Math.random: every round sees the same data). */
function makeInputs(): SampleInput[][] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  return Array.from({ length: devices }, (_, d) => {
    const noise = METRICS.map(() => 0);
    return Array.from({ length: WARM + TIMED }, (_, k) => {
      const row = METRICS.map((_, i) => {
        noise[i] = 0.9 * noise[i]! + rnd();
        return (50 + d + 10 * i) * (1 + 0.01 * noise[i]!);
      });
      const values = Object.fromEntries(METRICS.map((name, i) => [name, row[i]!]));
      return { ts: Date.UTC(2026, 0, 5) + k * 9000, values, state: 2, list: { names: METRICS, values: row, count: METRICS.length } };
    });
  });
}
const inputs = makeInputs();

/** Source of the timed loop (see nsPerJudged): per-sample detectors get the sample, per-value ones each metric's value. */
const LOOP_SOURCE = `return (from, to) => {
  for (let k = from; k < to; k++) {
    for (let d = 0; d < devices; d++) {
      const input = inputs[d][k];
      if (def.updateSample) def.updateSample(ruleParams, states[d][0], input);
      else {
        for (let i = 0; i < metrics; i++) {
          one.ts = input.ts;
          one.value = input.list.values[i];
          def.update(params[i], states[d][i], one);
        }
      }
    }
  }
};`;
type Loop = (devices: number, metrics: number, inputs: SampleInput[][], def: ReturnType<Tree['detectorFor']>, ruleParams: unknown, params: unknown[], states: unknown[][], one: DetectorInput) => (from: number, to: number) => void;
const LOOP = (...args: Parameters<Loop>): ReturnType<Loop> => (new Function('devices', 'metrics', 'inputs', 'def', 'ruleParams', 'params', 'states', 'one', LOOP_SOURCE) as Loop)(...args);

/** ns of CPU per judged sample of one rule's detector on fresh states. */
function nsPerJudged(tree: Tree, id: string): number {
  const rule = tree.rules.find((r) => r.id === id)!;
  const def = tree.detectorFor(rule.detector);
  // Per-value detectors: one params object per metric, as the engine makes them (engine.ts, withMetric).
  const params = METRICS.map((metric) => ({ ...(rule.params as object), metric }));
  const states = inputs.map(() => (def.updateSample ? [def.initial(rule.params as never)] : params.map((p) => def.initial(p as never))));
  const one: DetectorInput = { ts: 0, value: 0 };
  // A loop compiled for this call alone (its own type feedback): one shared by every rule and tree
  // would see each tree's detectors at its call sites, and time them through calls that V8 no
  // longer inlines or predicts, differently by the order they came in.
  const judge = LOOP(devices, METRICS.length, inputs, def, rule.params, params, states, one);
  judge(0, WARM);
  const t0 = process.cpuUsage();
  judge(WARM, WARM + TIMED);
  const used = process.cpuUsage(t0);
  return ((used.user + used.system) * 1000) / (TIMED * devices);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// ns[tree][rule][round]
const ns = trees.map(() => RULES.map(() => [] as number[]));
for (let r = 0; r < rounds; r++) {
  // Each round starts with the next rule and tree, so none is always timed first.
  for (let k = 0; k < RULES.length; k++) {
    const i = (r + k) % RULES.length;
    for (let t = 0; t < trees.length; t++) {
      const at = (r + t) % trees.length;
      ns[at]![i]!.push(nsPerJudged(trees[at]!, RULES[i]!));
    }
  }
}
const medians = (t: number): Record<string, number> => Object.fromEntries(RULES.map((id, i) => [id, Math.round(median(ns[t]![i]!))]));
const baselines = trees.slice(1).map((tree, b) => ({
  baseline: tree.root,
  nsPerJudgedSample: medians(b + 1),
  ratio: Object.fromEntries(RULES.map((id, i) => [id, Number((median(ns[0]![i]!) / median(ns[b + 1]![i]!)).toFixed(3))])),
  roundRatio: Object.fromEntries(RULES.map((id, i) => [id, Number(median(ns[0]![i]!.map((x, r) => x / ns[b + 1]![i]![r]!)).toFixed(3))])),
}));
process.stdout.write(`${JSON.stringify({ devices, rounds, metrics: METRICS.length, nsPerJudgedSample: medians(0), baselines })}\n`);
