import { describe, expect, it } from 'vitest';
import { dynamicsDetector, dynamicsParamsSchema, type DynamicsState } from '../../../../src/analytics/detectors/dynamics.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';

const T0 = Date.UTC(2024, 0, 1);
const DT_S = 10;
const HOUR = 3600 / DT_S;
const params = (p: Record<string, unknown> = {}) => dynamicsParamsSchema.parse({ metric: '+', ...p });

/** Deterministic pseudo-random numbers in [-1, 1) (a small LCG): the tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

interface Row {
  state: number;
  values: Record<string, number>;
}

/**
 * A machine that runs (state 2) for a quarter of an hour or so, then idles (state 1) for a few
 * minutes; its load wanders; power follows load and state, current follows power, and the
 * temperature follows its heat (a share of the rise over ambient set by state and load) with a
 * thermal time constant of 10 min, with process and sensor noise. `cooling` adds 60 % to the heat
 * from sample `from` on (lost cooling); `drift` makes the sensor read 2 °C an hour higher from
 * `from` on, the true temperature unchanged.
 */
function machine(n: number, seed: number, fault: { kind: 'cooling' | 'drift'; from: number } | null = null): Row[] {
  const r = rng(seed);
  const rows: Row[] = [];
  let load = 0.8;
  let state = 2;
  let temp = 50;
  for (let i = 0; i < n; i++) {
    if (state === 2 && r() > 1 - (2 * DT_S) / 900) state = 1;
    else if (state === 1 && r() > 1 - (2 * DT_S) / 150) state = 2;
    load = Math.min(1, Math.max(0.55, load + (0.8 - load) * (DT_S / 900) + 0.02 * Math.sqrt(DT_S / 60) * r()));
    const on = fault !== null && i >= fault.from;
    let heat = state === 2 ? 30 * (0.7 + (0.3 * load) / 0.8) : 12;
    if (on && fault.kind === 'cooling') heat *= 1.6;
    temp += (22 + heat - temp) * (1 - Math.exp(-DT_S / 600)) + 0.06 * r();
    const power = 20 * (state === 2 ? load : 0.2) * (1 + 0.015 * r());
    const pf = state === 2 ? 0.8 + 0.1 * load : 0.6;
    const drift = on && fault.kind === 'drift' ? (2 * (i - fault.from)) / HOUR : 0;
    rows.push({
      state,
      values: { power_kw: power, temperature_c: temp + 0.05 * r() + drift, current_a: (power * 1000) / (1.732 * 400 * pf), power_factor: pf + 0.01 * r() },
    });
  }
  return rows;
}

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
    // q = 2 × 3 metrics + 4 state columns.
    expect(state.cov.length).toBe(100);
    expect(state.mean.length).toBe(10);
    expect(state.codes.length).toBeLessThanOrEqual(4);
    const copy = JSON.parse(JSON.stringify(state)) as DynamicsState;
    const more = machine(3 * HOUR, 8, { kind: 'cooling', from: 100 }).map(({ state: st, values }, i) => ({ state: st, values: { ...values, extra_a: i, extra_b: -i } }));
    expect(feed(p, more, copy, 3 * HOUR)).toEqual(feed(p, more, state, 3 * HOUR));
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
