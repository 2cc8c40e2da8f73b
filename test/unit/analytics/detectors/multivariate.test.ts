import { describe, expect, it } from 'vitest';
import { chiSquareZ, multivariateDetector, multivariateParamsSchema, type MultivariateState } from '../../../../src/analytics/detectors/multivariate.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';

const T0 = Date.UTC(2024, 0, 1);
const params = (p: Record<string, unknown> = {}) => multivariateParamsSchema.parse({ metric: '+', warmupSamples: 100, holdSamples: 5, ...p });

/** Deterministic pseudo-random numbers in [-1, 1) (a small LCG): the tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** A pump: current follows flow (strongly correlated), vibration and temperature on their own, all in different units and scales. */
function pump(r: () => number, flow = 50 + 5 * r()): Record<string, number> {
  return { flow_m3_h: flow, current_a: 10 + 0.2 * (flow - 50) + 0.05 * r(), vibration_g: 0.02 + 0.0004 * r(), temperature_c: 60 + 0.3 * r() };
}

function feed(p: ReturnType<typeof params>, rows: Record<string, number>[], state?: MultivariateState, from = 0, machine?: (i: number) => number, stepMs = 5000): { events: DetectorEvent[]; state: MultivariateState } {
  let s = state ?? multivariateDetector.initial(p);
  const events: DetectorEvent[] = [];
  rows.forEach((values, i) => {
    const at = { ts: T0 + (from + i) * stepMs, values };
    const r = multivariateDetector.stepSample!(p, s, machine ? { ...at, state: machine(from + i) } : at);
    s = r.state;
    events.push(...r.events);
  });
  return { events, state: s };
}

describe('multivariate detector', () => {
  const r = rng(7);
  const normal = Array.from({ length: 1500 }, () => pump(r));
  const learned = feed(params(), normal);

  it('does not raise while the metrics move together as learned, even over their whole range', () => {
    expect(learned.events).toEqual([]);
    const r2 = rng(99);
    expect(feed(params(), Array.from({ length: 1000 }, () => pump(r2)), learned.state, 2000).events).toEqual([]);
  });

  it('raises when the correlation breaks though each metric stays within its own range, naming the metrics that moved most', () => {
    // Current of a normal flow with flow itself at the other end of its range: each value is
    // ordinary on its own (within ±1 learned σ), together they are not.
    const broken = { ...pump(rng(1), 54), current_a: 10 - 0.8 };
    const { events } = feed(params(), [broken], learned.state, 2000);
    expect(events.map((e) => e.kind)).toEqual(['raise']);
    expect(events[0]!.message.en).toMatch(/^4 metrics no longer move together as learned \([\d.]+σ\); moved most: (current_a|flow_m3_h) /);
    expect(events[0]!.message.en).toMatch(/current_a −/);
    expect(events[0]!.message.zh).toMatch(/电流 −/);
    expect(events[0]!.value).toBeGreaterThan(events[0]!.threshold!);
  });

  it('clears after holdSamples normal samples, and does not learn the anomaly meanwhile', () => {
    const broken = Array.from({ length: 20 }, () => ({ ...pump(rng(1), 54), current_a: 9.2 }));
    const r3 = rng(5);
    // The MEWMA remembers the break for a while (r = 0.05): back to normal long enough to forget it.
    const back = Array.from({ length: 200 }, () => pump(r3));
    const { events, state } = feed(params(), [...broken, ...back], learned.state, 2000);
    expect(events.filter((e, i) => e.kind === 'raise' && events[i - 1]?.kind !== 'raise')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'clear')).toHaveLength(1);
    // The broken samples were not learned: at most the normal ones after them were.
    expect(state.models.all!.n).toBeLessThanOrEqual(learned.state.models.all!.n + back.length);
  });

  describe('the end of an alert', () => {
    // Current off what the flow explains: by 1.5 A about 14σ (raises), by 0.5 A about 5σ (between
    // zClear and calmBelow: a noisy calm sample, or a fault that lingers below the raise level).
    const off = (r: () => number, by: number) => {
      const row = pump(r);
      return { ...row, current_a: row.current_a! + by };
    };
    const p = params({ holdSamples: 30, holdS: 600, relearnAfterSamples: 100_000 });
    const opened = (seed: number) => {
      const r = rng(seed);
      return feed(p, Array.from({ length: 20 }, () => off(r, 1.5)), learned.state, 2000);
    };
    const clears = (events: DetectorEvent[]) => events.filter((e) => e.kind === 'clear');

    it('clears once the calm samples are back on average, though some lie between zClear and calmBelow', () => {
      const r = rng(41);
      // Every 8th sample 5σ out, by turns above and below (no shift for the MEWMA to see): with
      // "every calm sample within zClear" the run never lasted.
      const back = Array.from({ length: 400 }, (_, i) => (i % 8 === 7 ? off(r, i % 16 === 7 ? 0.5 : -0.5) : pump(r)));
      const start = opened(41);
      expect(start.state.active).toBe(true);
      const { events, state } = feed(p, back, start.state, 2020);
      expect(clears(events)).toHaveLength(1);
      expect(state.active).toBe(false);
      // The old rule on the same samples: every calm sample within zClear, for as many samples.
      const strict = params({ holdSamples: 120, holdS: 0, calmBelow: 3, relearnAfterSamples: 100_000 });
      expect(clears(feed(strict, back, opened(41).state, 2020).events)).toEqual([]);
    });

    it('stays open while a fault goes on with calm samples inside it', () => {
      const r = rng(43);
      // Three normal samples, then one 14σ out: calm runs of three, never long enough.
      const flapping = Array.from({ length: 1000 }, (_, i) => (i % 4 === 3 ? off(r, 1.5) : pump(r)));
      const a = feed(p, flapping, opened(43).state, 2020);
      expect(clears(a.events)).toEqual([]);
      expect(a.state.active).toBe(true);
      // A fault lingering at about 5σ, with a normal sample now and then: no sample beyond
      // calmBelow, but the run is not back on average. T² alone (the MEWMA would see the shift).
      const pT = params({ holdSamples: 30, holdS: 600, relearnAfterSamples: 100_000, mewmaR: 0 });
      const lingering = Array.from({ length: 1000 }, (_, i) => (i % 5 === 4 ? pump(r) : off(r, 0.5)));
      const start = feed(pT, Array.from({ length: 20 }, () => off(r, 1.5)), learned.state, 2000);
      expect(start.state.active).toBe(true);
      const b = feed(pT, lingering, start.state, 2020);
      expect(clears(b.events)).toEqual([]);
      expect(b.state.active).toBe(true);
    });

    it('counts the hold in time: samples every second clear after holdS, not after holdSamples', () => {
      const r = rng(47);
      // Open for 150 samples of 5 s (12.5 min), longer than holdS: the full calm run is needed.
      const r0 = rng(47);
      const start = feed(p, Array.from({ length: 150 }, () => off(r0, 1.5)), learned.state, 1870);
      const back = Array.from({ length: 1200 }, () => pump(r));
      const from = (2020 * 5000) / 1000;
      const { events } = feed(p, back, start.state, from, undefined, 1000);
      const [clear] = clears(events);
      expect(clear).toBeDefined();
      // At least holdS after the alert's last sample, and well within the samples given.
      const seconds = (clear!.ts - (T0 + 2019 * 5000)) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(600);
      expect(seconds).toBeLessThan(1200);
    });

    it('ends an alert that was open a few minutes after a calm run as long as it was open, a long one after the full run', () => {
      // 20 samples of 5 s open (100 s): back after max(holdMinSamples, 20) = 20 calm samples spanning 100 s, not 30 spanning 600 s.
      const r = rng(53);
      const back = Array.from({ length: 300 }, () => pump(r));
      const short = feed(p, back, opened(53).state, 2020);
      const [early] = clears(short.events);
      expect(early).toBeDefined();
      const afterShort = (early!.ts - (T0 + 2019 * 5000)) / 1000;
      expect(afterShort).toBeGreaterThanOrEqual(100);
      expect(afterShort).toBeLessThan(600);
      // The same calm after an alert open 150 samples (750 s): the full 600 s.
      const r0 = rng(53);
      const long = feed(p, Array.from({ length: 150 }, () => off(r0, 1.5)), learned.state, 1870);
      const [late] = clears(feed(p, back, long.state, 2020).events);
      expect(late).toBeDefined();
      expect((late!.ts - (T0 + 2019 * 5000)) / 1000).toBeGreaterThanOrEqual(600);
      // A short alert whose fault goes on below calmBelow but not back on average still does not clear.
      const lingering = Array.from({ length: 300 }, (_, i) => (i % 5 === 4 ? pump(r) : off(r, 0.5)));
      const pT = params({ holdSamples: 30, holdS: 600, relearnAfterSamples: 100_000, mewmaR: 0 });
      const start = feed(pT, Array.from({ length: 20 }, () => off(rng(59), 1.5)), learned.state, 2000);
      expect(start.state.active).toBe(true);
      expect(clears(feed(pT, lingering, start.state, 2020).events)).toEqual([]);
    });

    describe('after a fault that left a slow metric off', () => {
      // A fault of 20 samples (current 1.5 A off, about 14σ) that also heated the machine by 3 °C
      // (temperature's learned σ is about 0.19 °C: some 16σ). After it, current is normal at once;
      // the temperature is whatever `after(j)` says, j samples after the fault.
      const run = (pp: ReturnType<typeof params>, after: (j: number) => number, n: number, seed: number, faultSamples = 20) => {
        const r = rng(seed);
        const fault = Array.from({ length: faultSamples }, () => {
          const row: Record<string, number> = off(r, 1.5);
          return { ...row, temperature_c: row.temperature_c! + 3 };
        });
        const start = feed(pp, fault, learned.state, 2020 - faultSamples);
        expect(start.state.active).toBe(true);
        const back = Array.from({ length: n }, (_, j) => {
          const row = pump(r);
          return { ...row, temperature_c: row.temperature_c! + after(j) };
        });
        return feed(pp, back, start.state, 2020);
      };
      // Cooling back with a time constant of 60 samples (5 min at 5 s): still 8σ off after 40
      // samples, within 3σ only after some 100.
      const cooling = (j: number) => 3 * Math.exp(-j / 60);

      it('ends once the other metrics are back and the slow one is on its way back, and opens none on its way', () => {
        const { events, state } = run(p, cooling, 160, 61);
        const [clear] = clears(events);
        expect(clear).toBeDefined();
        // Some 40 samples to see the return, then a calm run as long as the alert was open until
        // the metric began to return (at least the 40 of the window), not until the run began
        // (that took 113 samples here): well before the temperature itself is back.
        const after = (clear!.ts - (T0 + 2019 * 5000)) / 5000;
        expect(after).toBeLessThan(100);
        expect(clears(events)).toHaveLength(1);
        expect(events.slice(events.indexOf(clear!)).filter((e) => e.kind === 'raise')).toEqual([]);
        expect(state.active).toBe(false);
        // Without the recovery (recoverySamples 0) the clipped MEWMA holds it open all along.
        const off0 = run(params({ holdSamples: 30, holdS: 600, relearnAfterSamples: 100_000, recoverySamples: 0 }), cooling, 160, 61);
        expect(clears(off0.events)).toEqual([]);
        expect(off0.state.active).toBe(true);
      });

      it('does not learn the samples of a metric on its way back', () => {
        // 100 samples after the fault the temperature is still 3.5σ off and recovering (the alert
        // has just ended): nothing learned since the fault.
        const { state } = run(p, cooling, 100, 67);
        expect(state.recovery?.excused[state.names.indexOf('temperature_c')]).toBe(1);
        expect(state.models.all!.n).toBe(learned.state.models.all!.n);
        // Once it is back, learning goes on, from samples that are normal again.
        const later = run(p, cooling, 400, 67).state;
        expect(later.recovery).toBeUndefined();
        expect(later.models.all!.n).toBeGreaterThan(learned.state.models.all!.n);
        expect(Math.abs(later.models.all!.loc[later.names.indexOf('temperature_c')]! - 60)).toBeLessThan(0.1);
      });

      it('stays open while the slow metric stays away (stuck where the fault left it)', () => {
        const { events, state } = run(p, () => 3, 600, 71);
        expect(clears(events)).toEqual([]);
        expect(state.active).toBe(true);
      });

      it('stays open while it drifts further away', () => {
        const { events, state } = run(p, (j) => 3 + 0.002 * j, 600, 73);
        expect(clears(events)).toEqual([]);
        expect(state.active).toBe(true);
      });

      it('stays open when the fault eases to a level where it stays: a step back is not a recovery', () => {
        // From 16σ down to 5σ at once, then there: the step looks like a return while it is in
        // the window; the calm run it let begin is void once the metric stops short of normal.
        const { events, state } = run(p, () => 1, 600, 79);
        expect(clears(events)).toEqual([]);
        expect(state.active).toBe(true);
        // A slow return that stops there may end the alert while it visibly returns (nothing
        // then tells it from a recovery), but a new one opens once it has stopped, within the
        // recovery's window, and stays open.
        const easing = run(p, (j) => 1 + 2 * Math.exp(-j / 40), 600, 83);
        const cleared = clears(easing.events);
        expect(cleared.length).toBeLessThanOrEqual(1);
        if (cleared.length === 1) {
          const reopened = easing.events.find((e) => e.kind === 'raise' && e.ts > cleared[0]!.ts);
          expect(reopened).toBeDefined();
          expect(reopened!.ts - cleared[0]!.ts).toBeLessThanOrEqual(p.recoverySamples * 5000);
        }
        expect(easing.state.active).toBe(true);
      });

      it('judged on T² alone (no MEWMA), stays open when the metric stops short of normal, or only wobbles where it stays', () => {
        const pT = params({ holdSamples: 30, holdS: 600, relearnAfterSamples: 100_000, mewmaR: 0 });
        // After a fault of 150 samples (12.5 min: a calm run of the full 600 s is needed), a
        // visible return that stops at 4σ: the calm run it let begin is void once it stops (its
        // samples while the metric was left out would otherwise pull the run's mean under zClear).
        const stops = run(pT, (j) => 0.75 + 2.25 * Math.exp(-j / 40), 600, 89, 150);
        expect(clears(stops.events)).toEqual([]);
        expect(stops.state.active).toBe(true);
        // At 5σ from the start, noise only: no slope passes for a return.
        const stays = run(pT, () => 0.85, 600, 97);
        expect(clears(stays.events)).toEqual([]);
        expect(stays.state.active).toBe(true);
      });

      it('keeps its state plain JSON while a metric recovers', () => {
        const { state } = run(p, cooling, 60, 61);
        expect(state.recovery).toBeDefined();
        const back = JSON.parse(JSON.stringify(state)) as MultivariateState;
        expect(back.recovery!.excused).toEqual(state.recovery!.excused);
      });

      it('refuses a recovery window too short to fit a line to', () => {
        expect(() => params({ recoverySamples: 3 })).toThrow(/recoverySamples/);
        expect(params({ recoverySamples: 0 }).recoverySamples).toBe(0);
      });
    });

    it('refuses a calmBelow under zClear', () => {
      expect(() => params({ zClear: 3, calmBelow: 2 })).toThrow(/calmBelow/);
    });
  });

  it('a metric that appears late joins once warmed up; one missing from a sample is left out of it', () => {
    const r4 = rng(3);
    const early = Array.from({ length: 300 }, () => {
      const all = pump(r4);
      return { flow_m3_h: all.flow_m3_h!, current_a: all.current_a! };
    });
    const s1 = feed(params(), early).state;
    expect(s1.names).toEqual(['flow_m3_h', 'current_a']);
    const s2 = feed(params(), Array.from({ length: 300 }, () => pump(r4)), s1, 300);
    expect(s2.events).toEqual([]);
    expect(s2.state.names).toEqual(['flow_m3_h', 'current_a', 'vibration_g', 'temperature_c']);
    // Only flow and vibration in this sample: judged on those two, nothing raised.
    const partial = pump(r4);
    expect(feed(params(), [{ flow_m3_h: partial.flow_m3_h!, vibration_g: partial.vibration_g! }], s2.state, 600).events).toEqual([]);
  });

  it('bounds its dimension: metrics beyond maxMetrics are not tracked', () => {
    const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`m${i}`, i]));
    expect(feed(params({ maxMetrics: 8 }), [wide]).state.names).toHaveLength(8);
  });

  it('turns T² into a z-score that does not depend on the number of metrics', () => {
    // The χ²(k) median is about k(1 − 2/(9k))³: z ≈ 0 there for any k.
    for (const k of [2, 8, 16]) expect(Math.abs(chiSquareZ(k * (1 - 2 / (9 * k)) ** 3, k))).toBeLessThan(1e-9);
    expect(chiSquareZ(100, 2)).toBeGreaterThan(chiSquareZ(100, 16));
  });

  it('raises on a small persistent break of a relation (MEWMA) that no single sample shows (T²)', () => {
    // Current 0.2 A above what the flow explains: each sample's T² stays far below its bar.
    const r5 = rng(11);
    const shifted = Array.from({ length: 200 }, () => {
      const row = pump(r5);
      return { ...row, current_a: row.current_a! + 0.2 };
    });
    expect(feed(params({ mewmaR: 0 }), normal).state.active).toBe(false);
    const withoutMewma = feed(params({ mewmaR: 0 }), shifted, feed(params({ mewmaR: 0 }), normal).state, 2000);
    expect(withoutMewma.events).toEqual([]);
    const { events } = feed(params(), shifted, learned.state, 2000);
    expect(events[0]?.kind).toBe('raise');
    // Flow and current are nearly collinear: either may carry the larger share of the break.
    expect(events[0]!.message.en).toMatch(/moved most: (current_a|flow_m3_h) /);
  });

  it('holds the MEWMA to a t bar while its limit rests on few independent samples, without learning what it does not raise on', () => {
    const shifted = (r: () => number) =>
      Array.from({ length: 100 }, () => {
        const row = pump(r);
        return { ...row, current_a: row.current_a! + 0.3 };
      });
    const young = params({ warmupSamples: 25, youngMewmaT: true });
    const youngPlain = params({ warmupSamples: 25, youngMewmaT: false });
    // 300 samples: the MEWMA limit has learned from about 200 judged ones, which count as 5.
    const rA = rng(7);
    const first = Array.from({ length: 300 }, () => pump(rA));
    const a = feed(young, first);
    const b = feed(youngPlain, first);
    const shiftA = feed(young, shifted(rng(3)), a.state, 300);
    const shiftB = feed(youngPlain, shifted(rng(3)), b.state, 300);
    // The plain limit raises on the shift (a persistent 0.3 A, 6σ of current's residual); the young t bar does not yet.
    expect(shiftB.events.some((e) => e.kind === 'raise')).toBe(true);
    expect(shiftA.events).toEqual([]);
    // …nor learns it: its MEWMA statistic is beyond learnBelow on the plain scale.
    expect(shiftA.state.models.all!.statN).toBeLessThan(a.state.models.all!.statN + 50);
    // A shift the sample's own T² puts beyond calmBelow (0.8 A, though below zRaise on the young
    // model's bar: T² alone does not raise) is there whatever the young limit's doubt: the plain
    // MEWMA bar raises on it.
    const bigRows = shifted(rng(3)).map((row) => ({ ...row, current_a: row.current_a! + 0.5 }));
    const tOnly = params({ warmupSamples: 25, mewmaR: 0 });
    expect(feed(tOnly, bigRows, feed(tOnly, first).state, 300).events).toEqual([]);
    const big = feed(young, bigRows, a.state, 300);
    expect(big.events[0]?.kind).toBe('raise');
    // Once the limit counts judgeAfterSamples independent samples, the bar is the plain one.
    const mature = feed(params({ youngMewmaT: true }), normal);
    const r5 = rng(11);
    const late = feed(params({ youngMewmaT: true }), shifted(r5), mature.state, 2000);
    expect(late.events[0]?.kind).toBe('raise');
  });

  it('does not raise on a healthy signal whose samples are strongly autocorrelated: the MEWMA limit is learned from the statistic itself', () => {
    // Flow wanders slowly (an AR(1) with memory of ~100 samples): the MEWMA of such a signal is
    // far wider than i.i.d. theory says; the learned limit takes that in.
    const r6 = rng(21);
    let flow = 50;
    const rows = Array.from({ length: 4000 }, () => {
      flow = 50 + 0.99 * (flow - 50) + 0.7 * r6();
      return pump(r6, flow);
    });
    expect(feed(params(), rows).events).toEqual([]);
  });

  describe('machine states', () => {
    // Running (2) and idle (1) alternate every 60 samples; idle draws a third of the flow and current.
    const state = (i: number) => (Math.floor(i / 60) % 2 === 0 ? 2 : 1);
    const rows = (r: () => number, n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => {
        const row = pump(r);
        return state(from + i) === 2 ? row : { ...row, flow_m3_h: row.flow_m3_h! / 3, current_a: row.current_a! / 3 };
      });
    const p = params({ settleSamples: 10 });
    const trained = feed(p, rows(rng(31), 3000), undefined, 0, state);

    it('keeps one model per state, so a device that changes state every few minutes is judged without raising on the change', () => {
      expect(trained.events).toEqual([]);
      expect(Object.keys(trained.state.models).sort()).toEqual(['1', '2']);
      expect(trained.state.models['2']!.n).toBeGreaterThan(p.warmupSamples);
    });

    it('raises on a broken relation in one state after the short settle, not during it', () => {
      const broken = rows(rng(32), 60, 3000).map((row) => ({ ...row, current_a: row.current_a! + 0.8 }));
      const settling = feed(p, broken.slice(0, p.settleSamples), trained.state, 3000, state);
      expect(settling.events).toEqual([]);
      const after = feed(p, broken.slice(p.settleSamples, p.settleSamples + 3), settling.state, 3000 + p.settleSamples, state);
      expect(after.events[0]?.kind).toBe('raise');
      expect(after.events[0]!.message.en).toMatch(/moved most: current_a \+/);
    });

    it('bounds the models: states beyond maxModels are not judged', () => {
      const many = (i: number) => Math.floor(i / 50);
      const s = feed(params({ maxModels: 3 }), rows(rng(34), 500), undefined, 0, many).state;
      expect(Object.keys(s.models)).toHaveLength(3);
    });
  });
});

describe('multivariate detector on short runs', () => {
  // The schema's own warm-up, not the 100 samples the tests above learn.
  const p = multivariateParamsSchema.parse({ metric: '+' });
  const healthy = (seed: number, n: number) => {
    const r = rng(seed);
    return Array.from({ length: n }, () => pump(r));
  };
  const broken = (rows: Record<string, number>[], from: number, by: number) => rows.map((row, i) => (i >= from ? { ...row, current_a: row.current_a! + by } : row));
  const raisesFrom = (events: DetectorEvent[], i: number) => events.filter((e) => e.kind === 'raise' && e.ts >= T0 + i * 5000);

  it('judges a device without state from its first tens of samples: a relation broken from sample 60 raises there', () => {
    const { events } = feed(p, broken(healthy(41, 200), 60, 6));
    expect(events[0]?.kind).toBe('raise');
    expect(events[0]!.ts).toBeGreaterThanOrEqual(T0 + 60 * 5000);
    expect(events[0]!.ts).toBeLessThanOrEqual(T0 + 65 * 5000);
    expect(events[0]!.message.en).toMatch(/moved most: current_a \+/);
    // With a warm-up of 100 samples per metric, then 100 vectors, nothing there would be judged.
    expect(feed(params({ holdSamples: 30, judgeAfterSamples: 100 }), broken(healthy(41, 200), 60, 6)).events).toEqual([]);
  });

  it('raises nothing on short healthy runs', () => {
    for (let seed = 100; seed < 130; seed++) expect(feed(p, healthy(seed, 300)).events).toEqual([]);
  });

  it('holds a model that has seen few samples to a stricter bar, which relaxes as it learns', () => {
    // The same break after 55 samples and after 1,000: at first only a gross one raises.
    const after = (n: number, by: number) => raisesFrom(feed(p, broken(healthy(43, n + 20), n, by)).events, n);
    expect(after(55, 0.8)).toEqual([]);
    expect(after(55, 6)).toEqual([]);
    expect(after(55, 12).length).toBeGreaterThan(0);
    expect(after(1000, 0.8).length).toBeGreaterThan(0);
  });

  it('does not learn a fault that starts while the bar is still wide: its samples are judged as if the model were exact', () => {
    // Current 6 A high from sample 55: under the young model's bar, far beyond the χ² one.
    const { state } = feed(p, broken(healthy(45, 200), 55, 6));
    const m = state.models.all!;
    const at = state.names.indexOf('current_a');
    expect(Math.abs(m.loc[at]! - 10)).toBeLessThan(0.5);
    expect(m.n).toBeLessThan(60);
  });

  it('waits longer on metrics that wander slowly: their first samples have shown little of their range', () => {
    // Flow an AR(1) with memory of ~100 samples: 60 samples are a few independent ones.
    const wandering = (seed: number, n: number) => {
      const r = rng(seed);
      let flow = 50;
      return Array.from({ length: n }, () => {
        flow = 50 + 0.99 * (flow - 50) + 0.7 * r();
        return pump(r, flow);
      });
    };
    expect(raisesFrom(feed(p, broken(wandering(44, 80), 60, 12)).events, 60)).toEqual([]);
    for (let seed = 200; seed < 220; seed++) expect(feed(p, wandering(seed, 600)).events).toEqual([]);
  });
});
