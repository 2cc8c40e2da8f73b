import { describe, expect, it } from 'vitest';
import { residualDetector, residualParamsSchema, type ResidualState } from '../../../../src/analytics/detectors/residual.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';

const T0 = Date.UTC(2024, 0, 1);
const DT_S = 10;
const params = (p: Record<string, unknown> = {}) => residualParamsSchema.parse({ metric: '+', ...p });

/** Deterministic pseudo-random numbers in [-1, 1) (a small LCG): the tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/**
 * A machine whose load changes every few minutes; its temperature follows the load with a thermal
 * time constant of 10 min (first order), as a motor's or an oven's does. `fault` adds heat (lost
 * cooling: the same load heats the machine `heat` × more) from sample `from` on.
 */
function machine(n: number, seed: number, fault: { from: number; heat: number } | null = null): Record<string, number>[] {
  const r = rng(seed);
  const rows: Record<string, number>[] = [];
  let load = 0.7;
  let temp = 60;
  for (let i = 0; i < n; i++) {
    if (i % 30 === 0) load = Math.min(1, Math.max(0.3, load + 0.25 * r()));
    const on = fault !== null && i >= fault.from;
    const target = 20 + 60 * load * (on ? 1 + fault.heat : 1);
    temp += (target - temp) * (1 - Math.exp(-DT_S / 600));
    rows.push({ power_kw: 40 * load * (1 + 0.01 * r()), current_a: 70 * load * (1 + 0.01 * r()), temperature_c: temp + 0.1 * r() });
  }
  return rows;
}

function feed(p: ReturnType<typeof params>, rows: readonly Record<string, number>[], state?: ResidualState): { events: DetectorEvent[]; state: ResidualState } {
  let s = state ?? residualDetector.initial(p);
  const events: DetectorEvent[] = [];
  rows.forEach((values, i) => {
    const r = residualDetector.stepSample!(p, s, { ts: T0 + i * DT_S * 1000, values });
    s = r.state;
    events.push(...r.events);
  });
  return { events, state: s };
}

const raises = (events: readonly DetectorEvent[]) => events.filter((e) => e.kind === 'raise');

describe('residual detector', () => {
  it('stays quiet while the temperature follows the load as learned (lagged by its time constant)', () => {
    for (const seed of [1, 2, 3, 4]) expect(feed(params(), machine(6000, seed)).events).toEqual([]);
  });

  it('raises on lost cooling: hotter than the load explains, naming the temperature', () => {
    const { events } = feed(params(), machine(6000, 4, { from: 4000, heat: 0.6 }));
    const r = raises(events);
    expect(r.length).toBeGreaterThan(0);
    const at = (r[0]!.ts - T0) / 1000 / DT_S;
    expect(at).toBeGreaterThanOrEqual(4000);
    // Within an hour of onset (360 samples of 10 s), while each metric alone stays in its range.
    expect(at).toBeLessThan(4360);
    expect(r[0]!.message.en).toMatch(/^temperature_c .* higher than the device's other metrics explain/);
    expect(r[0]!.message.zh).toMatch(/温度/);
  });

  it('takes the machine state as an input: idle spells and a first stop raise nothing, lost cooling still does', () => {
    const p = params();
    // Idle (state 1, load 0.2) for 60 of every 400 samples, one stop (state 0, nothing drawn) of 200 samples at 5000.
    const stateAt = (i: number) => (i >= 5000 && i < 5200 ? 0 : i % 400 >= 340 ? 1 : 2);
    // Running draws the load, idling a fifth of it, a stop nothing; the temperature follows with its 10-min lag.
    const withStates = (n: number, seed: number, heatFrom = Infinity) => {
      const r = rng(seed);
      let load = 0.7;
      let temp = 60;
      return Array.from({ length: n }, (_, i) => {
        if (i % 30 === 0) load = Math.min(1, Math.max(0.3, load + 0.25 * r()));
        const st = stateAt(i);
        const drawn = load * (st === 2 ? 1 : st === 1 ? 0.2 : 0);
        temp += (20 + 60 * drawn * (i >= heatFrom ? 1.6 : 1) - temp) * (1 - Math.exp(-DT_S / 600));
        return { st, values: { power_kw: 40 * drawn * (1 + 0.01 * r()), current_a: 70 * drawn * (1 + 0.01 * r()), temperature_c: temp + 0.1 * r() } };
      });
    };
    const feedStates = (rows: { st: number; values: Record<string, number> }[]) => {
      let s = residualDetector.initial(p);
      const events: DetectorEvent[] = [];
      rows.forEach(({ st, values }, i) => {
        const r = residualDetector.stepSample!(p, s, { ts: T0 + i * DT_S * 1000, values, state: st });
        s = r.state;
        events.push(...r.events);
      });
      return { events, state: s };
    };
    const healthy = feedStates(withStates(7000, 9));
    expect(healthy.events).toEqual([]);
    expect(healthy.state.names).toEqual(['power_kw', 'current_a', 'temperature_c', 'state=2', 'state=1', 'state=0']);
    const faulty = feedStates(withStates(8000, 9, 6500));
    expect(raises(faulty.events).length).toBeGreaterThan(0);
    expect((raises(faulty.events)[0]!.ts - T0) / 1000 / DT_S).toBeGreaterThanOrEqual(6500);
  });

  it('does not raise on one metric alone (nothing to predict it from)', () => {
    const rows = machine(3000, 6, { from: 1500, heat: 0.5 }).map((m) => ({ temperature_c: m.temperature_c! }));
    expect(feed(params(), rows).events).toEqual([]);
  });

  it('keeps bounded state (maxMetrics) that round-trips through JSON', () => {
    const p = params({ maxMetrics: 3 });
    const rows = machine(1500, 7).map((m, i) => ({ ...m, extra_a: i, extra_b: -i }));
    const { state } = feed(p, rows);
    expect(state.names).toEqual(['power_kw', 'current_a', 'temperature_c']);
    expect(state.cov.length).toBe(81);
    expect(state.beta.length).toBe(27);
    const copy = JSON.parse(JSON.stringify(state)) as ResidualState;
    const more = machine(500, 8, { from: 100, heat: 0.4 });
    expect(feed(p, more, copy)).toEqual(feed(p, more, state));
  });

  it('a gap longer than maxGapS starts over, clearing an open alert', () => {
    const p = params();
    const open = feed(p, machine(6000, 4, { from: 4000, heat: 0.6 }));
    expect(open.state.active).toBe(true);
    const r = residualDetector.stepSample!(p, open.state, { ts: T0 + 6000 * DT_S * 1000 + 7200_000, values: { power_kw: 30, current_a: 50, temperature_c: 60 } });
    expect(r.events.map((e) => e.kind)).toEqual(['clear']);
    expect(r.state.active).toBe(false);
    expect(r.state.n).toBe(1);
  });

  it('refuses parameters that make no sense', () => {
    expect(() => residualParamsSchema.parse({ metric: '+', zRaise: 2, zClear: 3 })).toThrow(/zClear/);
    expect(() => residualParamsSchema.parse({ metric: '+', lagShortS: 900, lagLongS: 600 })).toThrow(/lagShortS/);
  });
});
