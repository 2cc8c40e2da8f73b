import { describe, expect, it } from 'vitest';
import { dynamicsDetector, dynamicsParamsSchema, type DynamicsState } from '../../../../src/analytics/detectors/dynamics.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';
import { machine as machineAt, type Row } from './dynamics-machine.js';

const T0 = Date.UTC(2024, 0, 1);
const DT_S = 10;
const HOUR = 3600 / DT_S;
const params = (p: Record<string, unknown> = {}) => dynamicsParamsSchema.parse({ metric: '+', ...p });
const machine = (n: number, seed: number, fault: Parameters<typeof machineAt>[2] = null): Row[] => machineAt(n, seed, fault, DT_S);

function feed(p: ReturnType<typeof params>, rows: readonly Row[], state?: DynamicsState, from = 0): { events: { at: number; e: DetectorEvent }[]; state: DynamicsState } {
  let s = state ?? dynamicsDetector.initial(p);
  const events: { at: number; e: DetectorEvent }[] = [];
  rows.forEach(({ state: st, values }, i) => {
    const r = dynamicsDetector.stepSample!(p, s, { ts: T0 + (from + i) * DT_S * 1000, values, state: st });
    s = r.state;
    for (const e of r.events) events.push({ at: from + i, e });
  });
  return { events, state: s };
}

const raises = (events: readonly { at: number; e: DetectorEvent }[]) => events.filter(({ e }) => e.kind === 'raise');

describe('dynamics detector', () => {
  it('stays quiet on a healthy machine that runs, idles, and wanders in load for a day', () => {
    for (const seed of [1, 2, 3]) expect(feed(params(), machine(24 * HOUR, seed)).events).toEqual([]);
  });

  it('raises on lost cooling, naming the temperature, within hours of onset', () => {
    const from = 10 * HOUR;
    const { events } = feed(params(), machine(14 * HOUR, 4, { kind: 'cooling', from }));
    const r = raises(events);
    expect(r.length).toBeGreaterThan(0);
    expect(r[0]!.at).toBeGreaterThanOrEqual(from);
    expect(r[0]!.at).toBeLessThan(from + 3 * HOUR);
    expect(r[0]!.e.message.en).toMatch(/^temperature_c .* keeps rising faster than its own dynamics/);
    expect(r[0]!.e.message.zh).toMatch(/温度/);
  });

  it('raises on a temperature sensor drifting 2 °C an hour, though each reading stays within the usual range', () => {
    const from = 10 * HOUR;
    const rows = machine(16 * HOUR, 5, { kind: 'drift', from });
    const { events } = feed(params(), rows);
    const r = raises(events);
    expect(r.length).toBeGreaterThan(0);
    expect(r[0]!.at).toBeGreaterThanOrEqual(from);
    expect(r[0]!.at).toBeLessThan(from + 5 * HOUR);
    expect(r[0]!.e.message.en).toMatch(/^temperature_c /);
    // When it raised, the drift was a few °C, less than the temperature's swing between running and idling.
    const temps = rows.slice(0, from).map((x) => x.values.temperature_c!);
    expect((2 * (r[0]!.at - from)) / HOUR).toBeLessThan(Math.max(...temps) - Math.min(...temps));
  });

  it('does not raise on one metric alone (nothing else predicts it)', () => {
    const rows = machine(14 * HOUR, 6, { kind: 'cooling', from: 10 * HOUR }).map(({ state, values }) => ({ state, values: { temperature_c: values.temperature_c! } }));
    expect(feed(params(), rows).events).toEqual([]);
  });

  it('keeps bounded state (maxMetrics, maxStates) that round-trips through JSON and continues alike', () => {
    const p = params({ maxMetrics: 3 });
    const rows = machine(3 * HOUR, 7).map(({ state, values }, i) => ({ state: i % 500 === 0 ? 9 : state, values: { ...values, extra_a: i, extra_b: -i } }));
    const { state } = feed(p, rows);
    expect(state.metrics).toEqual(['power_kw', 'temperature_c', 'current_a']);
    // q = 2 × 3 metrics + 4 state columns; the covariance's upper triangle, packed: q(q + 1)/2.
    expect(state.cov.length).toBe(55);
    expect(state.pCross.length).toBe(55);
    expect(state.mean.length).toBe(10);
    expect(state.codes.length).toBeLessThanOrEqual(4);
    const copy = JSON.parse(JSON.stringify(state)) as DynamicsState;
    const more = machine(3 * HOUR, 8, { kind: 'cooling', from: 100 }).map(({ state: st, values }, i) => ({ state: st, values: { ...values, extra_a: i, extra_b: -i } }));
    expect(feed(p, more, copy, 3 * HOUR)).toEqual(feed(p, more, state, 3 * HOUR));
  });

  it('goes on alike from a state saved with full q × q covariance and pending products', () => {
    const p = params();
    const rows = machine(14 * HOUR, 5, { kind: 'cooling', from: 10 * HOUR });
    const split = 6 * HOUR;
    const { state } = feed(p, rows.slice(0, split));
    // The older form: row-major q × q, the upper triangle used, the rest 0.
    const q = state.mean.length;
    const unpack = (packed: readonly number[]): number[] => {
      const full: number[] = new Array<number>(q * q).fill(0);
      let at = 0;
      for (let i = 0; i < q; i++) for (let j = i; j < q; j++) full[i * q + j] = packed[at++]!;
      return full;
    };
    const old = { ...(JSON.parse(JSON.stringify(state)) as DynamicsState), cov: unpack(state.cov), pCross: unpack(state.pCross) };
    expect(old.cov.length).toBe(q * q);
    const fromOld = feed(p, rows.slice(split), old, split);
    const fromNew = feed(p, rows.slice(split), state, split);
    expect(raises(fromNew.events).length).toBeGreaterThan(0);
    expect(fromOld).toEqual(fromNew);
    expect(fromOld.state.cov.length).toBe((q * (q + 1)) / 2);
  });

  it('pends no residual before the model is fitted, then learns residual scales once it is', () => {
    const p = params();
    const s = dynamicsDetector.initial(p);
    let unfitted = 0;
    machine(3 * HOUR, 9).forEach(({ state: st, values }, i) => {
      dynamicsDetector.updateSample!(p, s, { ts: T0 + i * DT_S * 1000, values, state: st });
      if (s.beta.length > 0) return;
      unfitted += 1;
      // The residuals' sums run before the fit too, and must add nothing then.
      expect(s.pAbs.every((v) => v === 0) && s.pCnt.every((v) => v === 0) && s.rScale.every((v) => v === 0)).toBe(true);
    });
    expect(unfitted).toBeGreaterThan(p.warmupSamples);
    expect(s.beta.length).toBeGreaterThan(0);
    expect(s.rScale.some((v) => v > 0)).toBe(true);
    // Still plain JSON after all that.
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('a gap longer than maxGapS starts over, clearing an open alert', () => {
    const p = params();
    const open = feed(p, machine(14 * HOUR, 4, { kind: 'cooling', from: 10 * HOUR }));
    expect(open.state.active).toBe(true);
    const r = dynamicsDetector.stepSample!(p, open.state, { ts: T0 + 14 * HOUR * DT_S * 1000 + 7200_000, values: { power_kw: 16, temperature_c: 55, current_a: 30, power_factor: 0.88 }, state: 2 });
    expect(r.events.map((e) => e.kind)).toEqual(['clear']);
    expect(r.state.active).toBe(false);
    expect(r.state.n).toBe(0);
  });

  it('refuses parameters that make no sense', () => {
    expect(() => dynamicsParamsSchema.parse({ metric: '+', cusumH: 0 })).toThrow(/cusumH/);
    expect(() => dynamicsParamsSchema.parse({ metric: '+', clearBlocks: 0 })).toThrow(/clearBlocks/);
  });
});
