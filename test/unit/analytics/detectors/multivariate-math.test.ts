import { describe, expect, it } from 'vitest';
import { chiSquareZ, hotellingZ } from '../../../../src/analytics/detectors/multivariate-math.js';

describe('hotellingZ', () => {
  it('is the F distribution of a new sample against n learned ones, on the χ² z scale: exact where both tails have a closed form (k = 2)', () => {
    // k = 2: P(F(2, m) > f) = (1 + 2f/m)^(−m/2), and P(χ²(2) > q) = e^(−q/2), so the χ² value with
    // the F's tail is q = m·ln(1 + 2f/m). From the middle of the distribution to far out in its tail.
    for (const [t2, n] of [[6, 30], [30, 20], [60, 12], [25, 50], [400, 40], [5000, 15]] as const) {
      const m = n - 2;
      const f = (t2 * n * m) / (2 * (n - 1) * (n + 1));
      expect(hotellingZ(t2, 2, n)).toBeCloseTo(chiSquareZ(m * Math.log1p((2 * f) / m), 2), 2);
    }
  });

  it('needs a far larger T² for the same z after few samples, and tends to the χ² z as they grow', () => {
    for (const k of [2, 8]) {
      const t2 = 60 * k;
      const zs = [k + 3, 20, 50, 200, 1000, 1e7].map((n) => hotellingZ(t2, k, n));
      for (let i = 1; i < zs.length; i++) expect(zs[i]!).toBeGreaterThan(zs[i - 1]!);
      expect(zs.at(-1)!).toBeCloseTo(chiSquareZ(t2, k), 2);
    }
    // Far out: a T² that χ² puts 35σ out is about 8σ after 30 samples of 8 metrics.
    expect(chiSquareZ(2568, 8)).toBeGreaterThan(30);
    expect(hotellingZ(2568, 8, 30)).toBeGreaterThan(7.5);
    expect(hotellingZ(2568, 8, 30)).toBeLessThan(9);
  });

  it('is continuous and increasing in T², across the hand-over to the exact tail, and 0 before the model can judge (n ≤ k)', () => {
    for (const [k, n] of [[8, 12], [8, 40], [4, 300], [2, 1000], [16, 5000]] as const) {
      let last = hotellingZ(1, k, n);
      for (let t2 = 1.05; t2 < 3000; t2 *= 1.05) {
        const z = hotellingZ(t2, k, n);
        expect(z).toBeGreaterThan(last);
        // No jump: within the z that matter, a 5 % larger T² moves z by well under half a σ.
        if (z < 12) expect(z - last).toBeLessThan(0.5);
        last = z;
      }
    }
    expect(hotellingZ(1e6, 8, 8)).toBe(0);
  });
});
