import { describe, expect, it } from 'vitest';
import { chiSquareQuantile, distributionDetector, distributionParamsSchema } from '../../../../src/analytics/detectors/distribution.js';
import { run, series, timeline } from './run.js';

const params = (p: Record<string, unknown> = {}) => distributionParamsSchema.parse({ metric: 'vibration_g', ...p });

/** Seeded standard normal noise (mulberry32 + Box–Muller): reproducible, and i.i.d. as the G-test assumes. */
function normals(seed: number): (i: number) => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

describe('distribution detector', () => {
  it('does not raise on ordinary noise at any scale', () => {
    for (const [level, spread] of [
      [0.02, 0.0004],
      [70, 0.5],
      [-3e6, 2e4],
    ] as const) {
      const noise = normals(7);
      expect(run(distributionDetector, params(), series(5000, 5, () => level + spread * noise(0))).events).toEqual([]);
    }
  });

  it('raises when the noise widens tenfold at the same level, and says so', () => {
    const noise = normals(11);
    const normal = series(1000, 5, () => 70 + 0.5 * noise(0));
    const wide = series(300, 5, () => 70 + 5 * noise(0), 5000);
    const { events } = run(distributionDetector, params(), [...normal, ...wide]);
    const raises = events.filter((e) => e.kind === 'raise');
    expect(raises).toHaveLength(1);
    const at = ((raises[0]?.ts ?? 0) - Date.UTC(2024, 0, 1)) / 1000;
    // Within 200 samples of the change (the first wide sample is at 5000 s, 5 s apart).
    expect(at).toBeGreaterThanOrEqual(5000);
    expect(at).toBeLessThan(5000 + 5 * 200);
    expect(raises[0]?.message.en).toMatch(/behaves unlike before/);
  });

  it('raises on a new oscillation whose values never leave the usual range', () => {
    const noise = normals(3);
    const normal = series(1000, 5, () => 10 + noise(0));
    // A square wave of ±0.6σ with little noise: every value inside the usual spread, but the
    // middle bins empty.
    const square = series(300, 5, (i) => 10 + (i % 2 ? 0.6 : -0.6) + 0.05 * noise(0), 5000);
    expect(timeline(run(distributionDetector, params(), [...normal, ...square]).events).filter((t) => t.startsWith('raise'))).toHaveLength(1);
  });

  // The bins are cut by the learned spread, which follows the regime: back in the narrow regime
  // after the wide one, the narrow windows are new too (all in the middle bins). Once both were
  // seen, switching between them raises no more.
  it('regimes seen before are known: alternating spreads raise on their first two switches only', () => {
    const noise = normals(5);
    const regime = (wide: boolean, from: number) => series(600, 5, () => 70 + (wide ? 5 : 0.5) * noise(0), from);
    const points = [regime(false, 0), regime(true, 3000), regime(false, 6000), regime(true, 9000), regime(false, 12000)].flat();
    const raises = run(distributionDetector, params(), points).events.filter((e) => e.kind === 'raise');
    const at = raises.map((e) => (e.ts - Date.UTC(2024, 0, 1)) / 1000);
    expect(at).toHaveLength(2);
    expect(at[0]).toBeGreaterThanOrEqual(3000);
    expect(at[0]).toBeLessThan(6000);
    expect(at[1]).toBeGreaterThanOrEqual(6000);
    expect(at[1]).toBeLessThan(9000);
  });

  it('an open alert clears once the windows match again', () => {
    const noise = normals(9);
    const points = [...series(1000, 5, () => 70 + 0.5 * noise(0)), ...series(200, 5, () => 70 + 5 * noise(0), 5000), ...series(600, 5, () => 70 + 0.5 * noise(0), 6000)];
    const kinds = run(distributionDetector, params(), points).events.map((e) => e.kind);
    expect(kinds).toEqual(['raise', 'clear']);
  });

  it('keeps a bounded state: the window and at most maxHistograms histograms', () => {
    const noise = normals(13);
    // Ten different spreads, each new: more shapes than the set may hold.
    const points = Array.from({ length: 10 }, (_, k) => series(400, 5, () => 1 + (k + 1) * 0.3 * noise(0), k * 2000)).flat();
    const { state } = run(distributionDetector, params({ maxHistograms: 4 }), points);
    expect(state.window).toHaveLength(50);
    expect(state.seen.length).toBeLessThanOrEqual(4);
    expect(state.histograms).toHaveLength(state.seen.length * 2 * 5);
  });

  it('keeps no window until the last windowSamples of warm-up, and goes on alike from a state saved with one', () => {
    const noise = normals(11);
    const p = params();
    const early = series(200, 5, () => 70 + 0.5 * noise(0));
    const { state } = run(distributionDetector, p, early);
    // 200 samples of a 300-sample warm-up: the window would not be binned before 50 more are in.
    expect(state.window).toEqual([]);
    expect(state.sorted).toEqual([]);
    // The older form kept the last 50 values all along.
    const last = early.slice(-50).map(([, v]) => v);
    const old = { ...structuredClone(state), window: last, sorted: [...last].sort((a, b) => a - b) };
    const later = [...series(800, 5, () => 70 + 0.5 * noise(0), 1000), ...series(300, 5, () => 70 + 5 * noise(0), 5000)];
    const fromNew = run(distributionDetector, p, later, state);
    const fromOld = run(distributionDetector, p, later, old);
    expect(fromNew.events.filter((e) => e.kind === 'raise')).toHaveLength(1);
    expect(fromOld.events).toEqual(fromNew.events);
    expect(fromOld.state.histograms).toEqual(fromNew.state.histograms);
    expect([...fromOld.state.sorted]).toEqual([...fromNew.state.sorted]);
  });

  it('a gap over maxGapS clears an open alert and restarts learning', () => {
    const noise = normals(11);
    let open = run(distributionDetector, params(), series(1000, 5, () => 70 + 0.5 * noise(0)));
    // Wide noise until the alert opens.
    for (let i = 0; i < 300 && !open.state.latch.active; i++) open = run(distributionDetector, params(), [[5000 + 5 * i, 70 + 5 * noise(0)]], open.state);
    expect(open.state.latch.active).toBe(true);
    const after = run(distributionDetector, params(), [[6000 + 2 * 86_400, 70]], open.state);
    expect(after.events.map((e) => e.kind)).toEqual(['clear']);
    expect(after.state.n).toBe(1);
    expect(after.state.histograms).toEqual([]);
    expect(after.state.seen).toEqual([]);
  });

  it('rejects bin edges that are not ascending', () => {
    expect(() => params({ edges: [0.5, -0.5] })).toThrow(/edges must be ascending/);
  });

  it('the chi-square quantile matches tabulated values', () => {
    // χ²(4) upper 1 % = 13.277, upper 0.1 % = 18.467 (standard tables).
    expect(chiSquareQuantile(4, 0.01)).toBeCloseTo(13.277, 0);
    expect(chiSquareQuantile(4, 0.001)).toBeCloseTo(18.467, 0);
  });
});
