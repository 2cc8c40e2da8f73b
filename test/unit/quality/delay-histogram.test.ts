import { describe, expect, it } from 'vitest';
import { DelayHistogram, quantiseDelay } from '../../../src/quality/delay-histogram.js';

describe('quantiseDelay: 3 significant figures, whole ms below 1 s', () => {
  it.each([
    [0, 0],
    [999, 999],
    [1234, 1230],
    [1235, 1240],
    [59_999, 60_000],
    [2_290_000, 2_290_000],
    [2_294_999, 2_290_000],
    [-1234, -1230],
  ])('%d ms → %d ms', (input, expected) => expect(quantiseDelay(input)).toBe(expected));

  it('gives the 3 significant figures of log10 and a power for every delay up to a day, and at each decade edge', () => {
    const general = (ms: number) => {
      const abs = Math.abs(ms);
      if (abs < 1000) return Math.round(ms);
      const factor = 10 ** (Math.floor(Math.log10(abs)) - 2);
      return Math.round(ms / factor) * factor;
    };
    const edges = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000].flatMap((p) => [p - 0.5, p - 1, p, p + 0.5, p + 1]);
    const spread = Array.from({ length: 20_000 }, (_, i) => Math.round(1.0011 ** i) + (i % 3) * 0.25);
    for (const ms of [...edges, ...spread, 86_400_000, 4.5e9]) {
      expect(quantiseDelay(ms)).toBe(general(ms));
      expect(quantiseDelay(-ms)).toBe(general(-ms));
    }
  });
});

describe('DelayHistogram', () => {
  it('nearest-rank percentiles: the ⌈p·n⌉-th smallest delay', () => {
    const h = new DelayHistogram();
    for (const d of [100, 20, 30, 40, 50, 60, 70, 80, 90, 10]) h.add(d);
    expect(h.count).toBe(10);
    expect(h.percentile(0.5)).toBe(50); // rank 5
    expect(h.percentile(0.95)).toBe(100); // rank ⌈9.5⌉ = 10
    expect(h.percentile(0.1)).toBe(10);
    expect(new DelayHistogram().percentile(0.5)).toBeNull();
  });

  it('equals the nearest-rank percentile of the sorted raw delays (reference: sorted[⌈p·n⌉ − 1])', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let n = 1; n < 200; n += 7) {
      const values = Array.from({ length: n }, () => Math.round(rand() * 999)); // below 1 s: kept exactly
      const h = new DelayHistogram();
      for (const v of values) h.add(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const p of [0.5, 0.95, 0.99]) expect(h.percentile(p)).toBe(sorted[Math.ceil(p * n) - 1]);
    }
  });

  it('merges counts and survives a JSON round trip', () => {
    const a = new DelayHistogram();
    const b = new DelayHistogram();
    a.add(1000, 3);
    b.add(1000);
    b.add(5_000_000);
    a.merge(b);
    expect(a.count).toBe(5);
    const back = DelayHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as [number, number][]);
    expect(back.count).toBe(5);
    expect(back.percentile(0.8)).toBe(1000);
    expect(back.percentile(0.81)).toBe(5_000_000);
  });
});
