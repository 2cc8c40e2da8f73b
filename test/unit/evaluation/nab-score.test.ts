import { describe, expect, it } from 'vitest';
import { nabFileScore, nabNormalised, NAB_PROFILES, probationRows, scaledSigmoid, windowRows } from '../../../src/evaluation/nab-score.js';

const standard = NAB_PROFILES.standard;

describe('NAB scoring on hand-made series', () => {
  it('probation is 15 % of the rows, at most 750', () => {
    expect(probationRows(100)).toBe(15);
    expect(probationRows(101)).toBe(15);
    expect(probationRows(5000)).toBe(750);
    expect(probationRows(100_000)).toBe(750);
  });

  it('the scaled sigmoid: 0.98661 at the window start, 0 at its end, −1 from 3 windows past', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.986614, 6);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.986614, 6);
  });

  // 100 rows: probation 15; window A rows 40–49 (width 10), window B rows 80–89.
  const windows = [
    { first: 40, last: 49 },
    { first: 80, last: 89 },
  ];

  it('no detection: −fnWeight per window (the null score)', () => {
    expect(nabFileScore(100, windows, [], standard)).toEqual({ score: -2, windows: 2, tp: 0, fp: 0 });
  });

  it('the earliest detection in a window is worth tpWeight; later detections add nothing', () => {
    // Row 40: x = −(49 − 40 + 1)/10 = −1 → σ/σ(−1) = 1. Row 45 in the same window: no extra credit.
    const r = nabFileScore(100, windows, [40, 45], standard);
    expect(r.score).toBeCloseTo(1 - 1, 12);
    expect(r.tp).toBe(2);
    // Late in B (row 89): x = −1/10 → σs(−0.1)/σs(−1).
    const late = nabFileScore(100, windows, [40, 89], standard);
    expect(late.score).toBeCloseTo(1 + scaledSigmoid(-0.1) / scaledSigmoid(-1), 12);
    expect(late.score).toBeLessThan(2);
  });

  it('false positives: −fpWeight before the first window, less right after a window, all added up', () => {
    // Row 20 precedes every window: −0.11. Row 50 is one row past A: σs(1/9) × 0.11 (positive: almost in the window).
    // Row 70: σs(21/9) × 0.11. Detections in probation (row 3) count for nothing.
    const r = nabFileScore(100, windows, [3, 20, 50, 70], standard);
    const expected = -2 - 0.11 + scaledSigmoid(1 / 9) * 0.11 + scaledSigmoid(21 / 9) * 0.11;
    expect(r.score).toBeCloseTo(expected, 12);
    expect(r.fp).toBe(3);
    expect(r.tp).toBe(0);
  });

  it('a window wholly in probation is not scored; one that ends after it is', () => {
    const r = nabFileScore(100, [{ first: 2, last: 10 }, { first: 12, last: 20 }], [], standard);
    expect(r.windows).toBe(1);
    expect(r.score).toBe(-1);
  });

  it('normalisation: 0 for the null score, 100 for the perfect score', () => {
    expect(nabNormalised(-116, 116, standard)).toBe(0);
    expect(nabNormalised(116, 116, standard)).toBe(100);
    expect(nabNormalised(-24.0131054891, 116, standard)).toBeCloseTo(39.6495, 4);
    expect(nabNormalised(-67.013, 116, NAB_PROFILES.reward_low_FN_rate)).toBeCloseTo(47.41, 2);
  });

  it('windows go on the rows with their times, or the rows inside them', () => {
    const ts = [0, 10, 20, 30, 40, 50];
    expect(windowRows(ts, [{ start: 10, end: 30 }])).toEqual([{ first: 1, last: 3 }]);
    expect(windowRows(ts, [{ start: 5, end: 35 }])).toEqual([{ first: 1, last: 3 }]);
    // Holding no row: dropped.
    expect(windowRows(ts, [{ start: 11, end: 19 }])).toEqual([]);
  });
});
