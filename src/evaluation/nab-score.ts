/**
 * The NAB (Numenta Anomaly Benchmark) scoring rule, as its reference scorer computes it, so that
 * figures from this evaluator compare with NAB's published scoreboard:
 *
 * - The first min(⌊0.15 × rows⌋, 750) rows of a file are probation: neither detections nor window
 *   rows there count (a learning detector is still warming up).
 * - A detection in a window of width w rows whose last row is R, at row i, is worth
 *   σs(−(R − i + 1) / w) × tpWeight / σs(−1), with σs(x) = 2 / (1 + e^(5x)) − 1: the earlier, the
 *   better. A window scores its best detection, or −fnWeight if it has none.
 * - A detection outside every window costs σs(|R_prev − i| / (w_prev − 1)) × fpWeight, measured
 *   from the previous window (fully, −fpWeight, before the first one); false positives add up.
 * - A file's raw score is the sum; the corpus's is the sum over files, normalised to
 *   100 × (raw − null) / (perfect − null), null = −fnWeight × windows, perfect = tpWeight × windows.
 *
 * Windows are given as row ranges (see windowRows): NAB places them on the rows whose timestamps
 * equal the window's bounds.
 */

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export const NAB_PROFILES = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
} as const satisfies Record<string, CostMatrix>;

export type NabProfile = keyof typeof NAB_PROFILES;
export const NAB_PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfile[];

export const PROBATION_FRACTION = 0.15;
const PROBATION_MAX_ROWS = 750;

/** Rows of a file's probationary period. */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(PROBATION_FRACTION * rows), PROBATION_MAX_ROWS);
}

/** An anomaly window as rows of its file, both inclusive. */
export interface RowWindow {
  first: number;
  last: number;
}

export function scaledSigmoid(x: number): number {
  return x >= 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1;
}

export interface NabFileScore {
  score: number;
  /** Windows with at least one row after probation: the ones that count, for the null and perfect scores. */
  windows: number;
  /** Detection rows after probation inside a window (tp) and outside every window (fp). */
  tp: number;
  fp: number;
}

/**
 * One file's raw score. `detections` are row indices (any order, duplicates ignored); windows
 * must be in time order and not overlap.
 */
export function nabFileScore(rows: number, windows: readonly RowWindow[], detections: Iterable<number>, cost: CostMatrix): NabFileScore {
  const probation = probationRows(rows);
  const maxTp = scaledSigmoid(-1);
  const detected = new Set<number>();
  for (const i of detections) if (i >= probation && i < rows) detected.add(i);
  const sorted = [...detected].sort((a, b) => a - b);

  const scored = windows.filter((w) => w.last >= probation);
  const best = new Map<RowWindow, number>(scored.map((w) => [w, -cost.fnWeight]));
  let fpScore = 0;
  let tp = 0;
  let fp = 0;
  let wi = 0;
  let prev: RowWindow | undefined;
  for (const i of sorted) {
    while (wi < windows.length && windows[wi]!.last < i) prev = windows[wi++];
    const w = windows[wi];
    if (w && i >= w.first) {
      const width = w.last - w.first + 1;
      const value = (scaledSigmoid(-(w.last - i + 1) / width) * cost.tpWeight) / maxTp;
      best.set(w, Math.max(best.get(w) ?? -cost.fnWeight, value));
      tp++;
    } else {
      // Past a window of one row NAB divides by zero; that is as far from it as can be.
      const position = prev === undefined ? 3 : prev.last === prev.first ? 3 : Math.abs(prev.last - i) / (prev.last - prev.first);
      fpScore += scaledSigmoid(position) * cost.fpWeight;
      fp++;
    }
  }
  let score = fpScore;
  for (const v of best.values()) score += v;
  return { score, windows: scored.length, tp, fp };
}

/** NAB's normalised score, 100 for a perfect detector, 0 for one that never detects. */
export function nabNormalised(rawTotal: number, windows: number, cost: CostMatrix): number {
  const nullScore = -cost.fnWeight * windows;
  const perfect = cost.tpWeight * windows;
  return perfect === nullScore ? 0 : (100 * (rawTotal - nullScore)) / (perfect - nullScore);
}

/**
 * Places windows (epoch ms bounds, inclusive) on the rows of a file, timestamps in file order.
 * NAB's rule: a bound is the first row with exactly that time. Bounds between rows (other data
 * sets) take the first row at or after the start and the last row at or before the end.
 * Windows holding no row are dropped.
 */
export function windowRows(timestamps: readonly number[], windows: readonly { start: number; end: number }[]): RowWindow[] {
  const firstAt = new Map<number, number>();
  timestamps.forEach((t, i) => {
    if (!firstAt.has(t)) firstAt.set(t, i);
  });
  const out: RowWindow[] = [];
  for (const w of windows) {
    let first = firstAt.get(w.start) ?? timestamps.findIndex((t) => t >= w.start);
    const last = firstAt.get(w.end) ?? findLastIndex(timestamps, (t) => t <= w.end);
    if (first < 0 || last < 0 || last < first) continue;
    // Overlapping windows would score one detection twice: a later window starts after the previous.
    first = Math.max(first, (out.at(-1)?.last ?? -1) + 1);
    if (last < first) continue;
    out.push({ first, last });
  }
  return out;
}

function findLastIndex(xs: readonly number[], f: (x: number) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i]!)) return i;
  return -1;
}
