import { describe, expect, it } from 'vitest';
import { baselineDetector, baselineParamsSchema, type BaselineState } from '../../../../src/analytics/detectors/baseline.js';
import { run, series, timeline } from './run.js';

const params = (p: Record<string, unknown>) => baselineParamsSchema.parse({ metric: 'temperature_c', warmupSamples: 20, zRaise: 4, zClear: 2, minStd: 0.01, ...p });

/** Deterministic noise in [-1, 1] with std ≈ 0.58. */
const noise = (i: number): number => ((i * 7919) % 201) / 100 - 1;

describe('baseline detector', () => {
  const normal = series(100, 10, (i) => 50 + noise(i));

  it('learns a baseline and raises on a large deviation, with baseline and threshold on the event', () => {
    const { events } = run(baselineDetector, params({}), [...normal, [1000, 60]]);
    expect(timeline(events)).toEqual(['raise@1000']);
    const e = events[0];
    expect(e?.baseline).toBeGreaterThan(49);
    expect(e?.baseline).toBeLessThan(51);
    expect(e?.threshold).toBeGreaterThan(e?.baseline ?? Infinity);
    expect(e?.threshold).toBeLessThan(60);
    expect(e?.message.en).toMatch(/^temperature_c 60 °C is [\d.]+σ above its baseline [\d.]+ °C \(threshold [\d.]+ °C\)$/);
    expect(e?.message.zh).toMatch(/^温度 60 °C 高于基线 [\d.]+ °C [\d.]+ 个标准差（阈值 [\d.]+ °C）$/);
  });

  it('does not raise on ordinary noise', () => {
    expect(run(baselineDetector, params({}), series(500, 10, (i) => 50 + noise(i))).events).toEqual([]);
  });

  it('never raises during warm-up', () => {
    const { events } = run(baselineDetector, params({ warmupSamples: 20 }), [...series(10, 10, (i) => 50 + noise(i)), [100, 500], [110, -500]]);
    expect(events).toEqual([]);
  });

  it('repeats raise while active, does not learn from the anomaly, clears once back within zClear', () => {
    const anomaly = series(200, 10, () => 58, 1000); // a long plateau: a learning baseline would chase it
    const back = series(3, 10, (i) => 50 + noise(i), 3000);
    const { events } = run(baselineDetector, params({}), [...normal, ...anomaly, ...back]);
    expect(events.filter((e) => e.kind === 'raise')).toHaveLength(200);
    expect(timeline(events.filter((e) => e.kind === 'clear'))).toEqual(['clear@3000']);
    // The baseline on the last raise is still the pre-anomaly one.
    expect(events[199]?.baseline).toBeCloseTo(events[0]?.baseline ?? 0, 9);
  });

  it('one spike does not widen the learned variance', () => {
    const before = run(baselineDetector, params({}), normal).state;
    const after = run(baselineDetector, params({}), [[1000, 500]], before).state;
    const afterNormal = run(baselineDetector, params({}), [[1010, 50]], after).state;
    expect(afterNormal.variance).toBeLessThan(before.variance * 1.1);
  });

  it('direction above ignores drops (and does not learn them)', () => {
    const p = params({ direction: 'above' });
    const { events, state } = run(baselineDetector, p, [...normal, ...series(50, 10, () => 0, 1000)]);
    expect(events).toEqual([]);
    expect(state.mean).toBeGreaterThan(49);
  });

  it('the std floor keeps a perfectly flat signal from making z infinite', () => {
    const flat = series(50, 10, () => 20);
    const small = run(baselineDetector, params({ minStd: 0.5 }), [...flat, [500, 21]]);
    expect(small.events).toEqual([]); // 1 °C is 2σ with a 0.5 floor
    const big = run(baselineDetector, params({ minStd: 0.5 }), [...flat, [500, 23]]);
    expect(timeline(big.events)).toEqual(['raise@500']);
    expect(big.events[0]?.threshold).toBeCloseTo(22, 9);
    const rel = run(baselineDetector, params({ minStd: 1e-6, minStdRel: 0.05 }), [...flat, [500, 23]]);
    expect(rel.events).toEqual([]); // floor 1 °C: 3 °C is 3σ
  });

  it('minimum duration before raising', () => {
    const { events } = run(baselineDetector, params({ minDurationS: 30 }), [...normal, [1000, 60], [1010, 60], [1020, 60], [1030, 60]]);
    expect(timeline(events)).toEqual(['raise@1030']);
  });

  it('a long gap restarts warm-up and clears an active alert, saying why', () => {
    const p = params({ maxGapS: 600 });
    const { events, state } = run(baselineDetector, p, [...normal, [1000, 60], [1000 + 3600, 60]]);
    expect(timeline(events)).toEqual(['raise@1000', 'clear@4600']);
    expect(events[1]?.message.en).toMatch(/re-learning after a 60 min gap/);
    expect(state.n).toBe(1);
    // …and after the gap nothing is judged until warm-up is over again.
    expect(run(baselineDetector, p, series(19, 10, () => 1000, 4610), state).events).toEqual([]);
  });

  it('relearnAfterS: a level held that long becomes the new baseline', () => {
    const p = params({ relearnAfterS: 600 });
    const shifted = series(100, 10, (i) => 70 + noise(i), 1000);
    const { events } = run(baselineDetector, p, [...normal, ...shifted]);
    const clears = events.filter((e) => e.kind === 'clear');
    expect(timeline(clears)).toEqual(['clear@1600']);
    expect(clears[0]?.message.en).toMatch(/new level .* for 10 min: re-learning/);
    // Raised from 1000 to 1590 (60 samples), then quiet: the new level was learned.
    expect(events.filter((e) => e.kind === 'raise')).toHaveLength(60);
  });

  it('the rolling-window method (simple-statistics) raises and clears too', () => {
    const p = params({ method: 'window', windowSamples: 50 });
    const { events, state } = run(baselineDetector, p, [...normal, [1000, 60], [1010, 50]]);
    expect(timeline(events)).toEqual(['raise@1000', 'clear@1010']);
    expect((state as BaselineState).window).toHaveLength(50);
  });

  it('rejects zClear ≥ zRaise and unknown params', () => {
    expect(baselineParamsSchema.safeParse({ zRaise: 3, zClear: 3 }).success).toBe(false);
    expect(baselineParamsSchema.safeParse({ alpha: 0 }).success).toBe(false);
    expect(baselineParamsSchema.safeParse({ warmup: 10 }).success).toBe(false);
  });
});
