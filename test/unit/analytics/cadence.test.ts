import { describe, expect, it } from 'vitest';
import { addSample, cadencesOf, inState, newCadence, type Cadence } from '../../../src/analytics/cadence.js';
import { AnalyticsEngine, type AnomalyEvent, type DeviceStateJson } from '../../../src/analytics/index.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../../src/analytics/rules/index.js';
import type { Sample } from '../../../src/contract/index.js';
import { machine as stateMachine } from './detectors/dynamics-machine.js';

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0);
const REF = { site: 's1', line: 'l1', device: 'd1' };

/** What addSample gives for one sample: the judged metrics and means, or null when not due. */
function add(c: ReturnType<typeof newCadence>, ts: number, m: Record<string, number>): Record<string, number> | null {
  const names: string[] = [];
  const values: number[] = [];
  const n = addSample(c, { ts }, Object.keys(m), Object.values(m), Object.keys(m).length, names, values);
  return n < 0 ? null : Object.fromEntries(names.slice(0, n).map((name, j) => [name, values[j]!]));
}

describe('cadence (judging fast devices on means)', () => {
  it('judges the first sample at once, then every period on the mean of the samples since the last judged one', () => {
    const c = newCadence(5);
    expect(add(c, T0, { a: 1, b: 10 })).toEqual({ a: 1, b: 10 });
    for (let t = 1; t <= 4; t++) expect(add(c, T0 + t * 1000, { a: t, b: 10 * t })).toBeNull();
    expect(add(c, T0 + 5000, { a: 5, b: 50 })).toEqual({ a: 3, b: 30 }); // the mean of seconds 1–5
    for (let t = 6; t <= 9; t++) expect(add(c, T0 + t * 1000, { a: 0, b: 0 })).toBeNull();
    expect(add(c, T0 + 10_000, { a: 10, b: 100 })).toEqual({ a: 2, b: 20 });
  });

  it('judges data at the period or slower sample by sample, on exactly its own values', () => {
    const c = newCadence(5);
    const values = [0.1 + 0.2, -0, 1e300, -7.25, Number.MIN_VALUE];
    values.forEach((v, i) => {
      const got = add(c, T0 + i * 5000, { a: v });
      expect(Object.is(got?.a, v)).toBe(true);
    });
  });

  it('judges data at about the period (jitter of up to a tenth) sample by sample', () => {
    const c = newCadence(10);
    let ts = T0;
    for (let i = 0; i < 20; i++) {
      ts += i % 2 === 0 ? 9100 : 10_900;
      expect(add(c, ts, { a: i })).toEqual({ a: i });
    }
    expect(add(c, ts + 8900, { a: 1 })).toBeNull(); // under 9 s: averaged into the next
  });

  it('a change of machine state drops what was pending: a mean never spans two states', () => {
    const c = newCadence(5);
    inState(c, 2);
    add(c, T0, { a: 1 });
    expect(add(c, T0 + 1000, { a: 100 })).toBeNull();
    inState(c, 2);
    expect(add(c, T0 + 2000, { a: 200 })).toBeNull();
    inState(c, 1);
    expect(add(c, T0 + 3000, { a: 5 })).toBeNull();
    expect(add(c, T0 + 5000, { a: 7 })).toEqual({ a: 6 }); // seconds 3 and 5, not 1 and 2
  });

  it('a metric gets the mean of its own values in the period; one absent for a whole period is not judged', () => {
    const c = newCadence(3);
    add(c, T0, { a: 1, b: 2 });
    expect(add(c, T0 + 1000, { a: 2 })).toBeNull();
    expect(add(c, T0 + 2000, { a: 4, c: 9 })).toBeNull();
    expect(add(c, T0 + 3000, { a: 6, c: 11 })).toEqual({ a: 4, c: 10 });
    expect(add(c, T0 + 4000, { c: 1 })).toBeNull();
    expect(add(c, T0 + 6000, { c: 3 })).toEqual({ c: 2 });
    expect(c.names).toEqual(['c']);
  });

  it('a pause longer than the period drops what was pending: a mean never spans it', () => {
    const c = newCadence(5);
    add(c, T0, { a: 1 });
    expect(add(c, T0 + 1000, { a: 100 })).toBeNull();
    // 20 s later: the lone pending sample of second 1 is dropped, this one is judged alone.
    expect(add(c, T0 + 21_000, { a: 7 })).toEqual({ a: 7 });
  });
});

/** A 1 Hz machine with two related metrics; from second `faultAt` the noise of `b` grows fivefold. */
function machine(seconds: number, faultAt: number): Sample[] {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const out: Sample[] = [];
  for (let t = 0; t < seconds; t++) {
    const load = Math.sin(t / 300);
    const wide = t >= faultAt ? 5 : 1;
    out.push({ ts: T0 + t * 1000, m: { a: 50 + 5 * load + rnd(), b: 20 + 2 * load + wide * rnd() } });
  }
  return out;
}

function rulesWith(judgeEveryS: number) {
  const params = { judgeEveryS, warmupSamples: 30 };
  return parseRulesConfig({
    classes: {
      default: {
        inherit: false,
        rules: [
          { id: 'dist', metric: '+', detector: 'distribution', params: { ...params, windowSamples: 20, minRunSamples: 5, holdSamples: 10 } },
          { id: 'joint', metric: '+', detector: 'multivariate', params: { ...params, holdSamples: 10 } },
          { id: 'dyn', metric: '+', detector: 'dynamics', params: { ...params, blockSamples: 10, warmupBlocks: 5, stateWarmupSamples: 20 } },
        ],
      },
    },
  });
}

function feed(engine: AnalyticsEngine, samples: Sample[]): AnomalyEvent[] {
  const events: AnomalyEvent[] = [];
  for (const s of samples) events.push(...engine.process({ ...REF, seq: null, samples: [s] }, s.ts).events);
  return events;
}

describe('engine: rules with a cadence', () => {
  const samples = machine(6000, 4000);

  it('judge a 1 Hz device as its 5 s means judged sample by sample would be: same events, same state', () => {
    const every5 = new AnalyticsEngine(rulesWith(5), parseEnergyConfig({}));
    const got = feed(every5, samples);
    // The means by hand: the first sample alone, then seconds 1–5, 6–10, …, each judged at its last second.
    const means: Sample[] = [samples[0]!];
    for (let i = 1; i + 4 < samples.length; i += 5) {
      const group = samples.slice(i, i + 5);
      const mean = (k: string): number => group.reduce((sum, s) => sum + s.m[k]!, 0) / group.length;
      means.push({ ts: group.at(-1)!.ts, m: { a: mean('a'), b: mean('b') } });
    }
    const each = new AnalyticsEngine(rulesWith(0), parseEnergyConfig({}));
    const want = feed(each, means);
    expect(want.filter((e) => e.kind === 'raise').length).toBeGreaterThan(0); // the fault shows
    expect(got).toEqual(want);
    const key = 's1/l1/d1';
    for (const id of ['dist', 'joint', 'dyn']) expect(every5.exportDevice(key)!.rules[id]!.state).toEqual(each.exportDevice(key)!.rules[id]!.state);
  });

  it('a device handed over in the middle of a period goes on with its pending means', () => {
    const one = new AnalyticsEngine(rulesWith(5), parseEnergyConfig({}));
    const whole = feed(one, samples);
    const split = 4503; // two samples into a period (judged at second 4500), after the fault
    const first = new AnalyticsEngine(rulesWith(5), parseEnergyConfig({}));
    const before = feed(first, samples.slice(0, split));
    const saved = JSON.parse(JSON.stringify(first.exportDevice('s1/l1/d1'))) as DeviceStateJson;
    expect(saved.rules.dist!.cadence).toMatchObject({ pending: 2 });
    const second = new AnalyticsEngine(rulesWith(5), parseEnergyConfig({}));
    second.importDevice(saved);
    const after = feed(second, samples.slice(split));
    expect([...before, ...after]).toEqual(whole);
    expect(JSON.stringify(second.exportDevice('s1/l1/d1'))).toBe(JSON.stringify(one.exportDevice('s1/l1/d1')));
  });
});

describe('rules whose cadences always agree share one', () => {
  it('same period, states and settling: one cadence; any of them different, or no `+`, or no period: not', () => {
    const rule = (metric: string, judgeEveryS: number, states?: number[], settleS?: number) => ({ metric, params: { judgeEveryS }, states, settleS });
    const got = cadencesOf(
      [rule('+', 10, [2], 3600), rule('+', 10, [2], 3600), rule('+', 10), rule('+', 10, [2], 60), rule('+', 5, [2], 3600), rule('+', 10, [2, 1], 3600), rule('+', 10, [1, 2], 3600), rule('+', 0, [2], 3600), rule('x', 10), rule('+', 10)],
      '+',
    );
    expect(got[0]).toBe(got[1]);
    expect(got[5]).toBe(got[6]); // the same states in another order
    expect(got[2]).toBe(got[9]);
    const distinct = new Set([got[0], got[2], got[3], got[4], got[5]]);
    expect(distinct.size).toBe(5);
    expect([got[7], got[8]]).toEqual([null, null]);
    expect(got[0]).toEqual(newCadence(10));
  });

  /** Two rules sharing a cadence (running only, settling a minute) and one judged in every state, at 1 Hz on a machine that runs and idles. */
  const shared = [
    { id: 'dist', metric: '+', detector: 'distribution', states: [2], settleS: 60, params: { warmupSamples: 30, windowSamples: 20, minRunSamples: 5, holdSamples: 10 } },
    { id: 'joint', metric: '+', detector: 'multivariate', states: [2], settleS: 60, params: { warmupSamples: 30, holdSamples: 10 } },
    { id: 'dyn', metric: '+', detector: 'dynamics', params: { warmupSamples: 30, blockSamples: 10, warmupBlocks: 5, stateWarmupSamples: 20 } },
  ];
  const engineOf = (rules: typeof shared) => new AnalyticsEngine(parseRulesConfig({ classes: { default: { inherit: false, rules } } }), parseEnergyConfig({}));
  const cadencesIn = (engine: AnalyticsEngine) => (engine as unknown as { devices: Map<string, { cadences: (Cadence | null)[] }> }).devices.get('s1/l1/d1')!.cadences;
  // A fault from 2 h on: power reads 30 % high.
  const samples: Sample[] = stateMachine(3 * 3600, 3, null, 1).map(({ state, values }, i) => ({ ts: T0 + i * 1000, m: { ...values, power_kw: values.power_kw! * (i >= 7200 ? 1.3 : 1), state } }));

  it('judge and learn exactly as each rule on its own cadence would', () => {
    const together = engineOf(shared);
    const all = feed(together, samples);
    expect(cadencesIn(together)[0]).toBe(cadencesIn(together)[1]);
    expect(cadencesIn(together)[2]).not.toBe(cadencesIn(together)[0]);
    expect(new Set(all.map((e) => e.rule.split(':')[0])).size).toBeGreaterThan(1); // more than one rule raised
    for (const rule of shared) {
      const alone = engineOf([rule]);
      expect(all.filter((e) => e.rule.split(':')[0] === rule.id)).toEqual(feed(alone, samples));
      expect(together.exportDevice('s1/l1/d1')!.rules[rule.id]).toEqual(alone.exportDevice('s1/l1/d1')!.rules[rule.id]);
    }
  });

  it('share one again after a hand-over, going on with its pending means', () => {
    const one = engineOf(shared);
    const whole = feed(one, samples);
    const split = 7203;
    const first = engineOf(shared);
    const before = feed(first, samples.slice(0, split));
    const saved = JSON.parse(JSON.stringify(first.exportDevice('s1/l1/d1'))) as DeviceStateJson;
    expect(saved.rules.joint!.cadence).toEqual(saved.rules.dist!.cadence);
    const second = engineOf(shared);
    second.importDevice(saved);
    expect(cadencesIn(second)[0]).toBe(cadencesIn(second)[1]);
    expect(cadencesIn(second)[2]).not.toBe(cadencesIn(second)[0]);
    expect([...before, ...feed(second, samples.slice(split))]).toEqual(whole);
    expect(JSON.stringify(second.exportDevice('s1/l1/d1'))).toBe(JSON.stringify(one.exportDevice('s1/l1/d1')));
  });
});
