import { describe, expect, it } from 'vitest';
import { AnalyticsEngine, type AnomalyEvent } from '../../../src/analytics/index.js';
import type { DetectorEvent } from '../../../src/analytics/types.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../../src/analytics/rules/index.js';
import { multivariateDetector } from '../../../src/analytics/detectors/multivariate.js';
import type { Sample } from '../../../src/contract/index.js';

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0);
const REF = { site: 's1', line: 'l1', device: 'd1' };

/**
 * The engine finds a `+` rule's per-metric states by the position of their metric in the sample
 * while the sample names the same metrics in the same order (Slots, engine.ts), and by name when
 * it does not: either way each metric must be judged by its own state.
 */
describe('engine: per-metric states found by position', () => {
  const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'dev', metric: '+', detector: 'robust', params: { warmupSamples: 20, holdSamples: 5 } }] } } });
  /** Three metrics of different levels; a spike on `b` at sample 300, on `c` at 400. */
  const values = (i: number): Record<string, number> => ({
    a: 10 + Math.sin(i / 5),
    b: 100 + 3 * Math.sin(i / 7) + (i === 300 ? 60 : 0),
    c: 1000 + 20 * Math.sin(i / 3) + (i === 400 ? -500 : 0),
  });
  /** The sample's metrics in the given order of names, `c` left out every 50th sample. */
  const sample = (i: number, order: readonly string[]): Sample => {
    const all = values(i);
    const m: Record<string, number> = {};
    for (const name of order) if (!(name === 'c' && i % 50 === 7)) m[name] = all[name]!;
    return { ts: T0 + i * 1000, m };
  };
  const run = (orderOf: (i: number) => readonly string[]): { events: AnomalyEvent[]; state: unknown } => {
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const events: AnomalyEvent[] = [];
    for (let i = 0; i < 600; i++) events.push(...engine.process({ ...REF, seq: null, samples: [sample(i, orderOf(i))] }, T0 + i * 1000).events);
    // Each metric's state by name (the map keeps them in order of first appearance, which differs).
    const perMetric = engine.exportDevice('s1/l1/d1')!.rules.dev!.state as { $map: [string, unknown][] };
    return { events, state: Object.fromEntries([...perMetric.$map].sort((x, y) => x[0].localeCompare(y[0]))) };
  };

  it('gives the same events and states whatever the order of the metrics, changing or not', () => {
    const steady = run(() => ['a', 'b', 'c']);
    expect(steady.events.filter((e) => e.kind === 'raise').map((e) => [e.metric, e.ts - T0])).toEqual([
      ['b', 300_000],
      ['c', 400_000],
    ]);
    // Another fixed order, and one that changes every few samples.
    expect(run(() => ['c', 'a', 'b'])).toEqual(steady);
    const orders = [
      ['a', 'b', 'c'],
      ['b', 'c', 'a'],
      ['c', 'b', 'a'],
    ];
    expect(run((i) => orders[Math.floor(i / 3) % 3]!)).toEqual(steady);
  });
});

/**
 * A per-sample detector gets the sample as a record whose values the engine does not copy in but
 * reads by position (sampleRecord, engine.ts), beside the same values as a list: read by name or
 * by position, and whether the metrics keep their order or not, it must see each sample's values.
 */
describe('engine: the record handed to per-sample detectors', () => {
  const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'joint', metric: '+', detector: 'multivariate', params: { warmupSamples: 30, judgeEveryS: 0 } }] } } });
  /** Three metrics moving together; from sample 300 `b` stops following `a`. `c` is left out every 40th sample, and the order changes every few samples. */
  const sample = (i: number): Sample => {
    // Varying from one sample to the next: a slow wave's samples count as few independent ones, not judged yet.
    const x = Math.sin(i * 2.3) + 0.05 * Math.sin(i * 1.7);
    const all: Record<string, number> = { a: 10 + x, b: 50 + 4 * x + (i >= 300 ? 6 * Math.sin(i / 2) : 0), c: 200 - 8 * x + 0.1 * Math.cos(i) };
    const order = [['a', 'b', 'c'], ['c', 'a', 'b'], ['b', 'c', 'a']][Math.floor(i / 7) % 3]!;
    const m: Record<string, number> = {};
    for (const name of order) if (!(name === 'c' && i % 40 === 13)) m[name] = all[name]!;
    return { ts: T0 + i * 1000, m };
  };

  it('raises as the detector does when stepped with plain records of the same samples', () => {
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const rule = engine.rules('s1/l1/d1')[0]!;
    const events: AnomalyEvent[] = [];
    let state = multivariateDetector.initial(rule.params as never);
    const direct: DetectorEvent[] = [];
    for (let i = 0; i < 500; i++) {
      const s = sample(i);
      events.push(...engine.process({ ...REF, seq: null, samples: [s] }, s.ts).events);
      const step = multivariateDetector.stepSample!(rule.params as never, state, { ts: s.ts, values: { ...s.m } });
      state = step.state;
      direct.push(...step.events);
    }
    expect(direct.length).toBeGreaterThan(0);
    const told = ({ kind, ts, value, message }: DetectorEvent) => ({ kind, ts, value, message });
    expect(events.map(told)).toEqual(direct.map(told));
  });
});
