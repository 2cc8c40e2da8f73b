import { probit } from 'simple-statistics';
import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import { isStale, metricParam, QUIET, type Latch } from './latch.js';
import { messages } from './messages.js';
import { pureStep, type DetectorModule } from './module.js';
import { gapRestart, learnInto, LEARNED, NEVER, usableScale } from './robust-scale.js';

/**
 * A distribution-change test, in the spirit of the relative-entropy detector: the histogram of the
 * last `windowSamples` values is compared with a small set of "normal" histograms learned so far;
 * when it matches none of them for `minRunSamples` samples in a row, the signal behaves in a way
 * not seen before and the detector raises. A shape no single value betrays (wider or narrower
 * noise, a new oscillation, a cycle out of phase) shows here.
 *
 * Scale-free: the bins are cut at fixed multiples of the signal's own robust spread about its
 * robust location (robust-scale.ts), so the same defaults fit any unit. A window matches a
 * learned histogram when 2·W·KL(window ‖ learned) stays below the chi-square quantile of
 * (bins − 1) degrees of freedom at `level` (the G-test). A matched histogram follows its windows
 * slowly; a new one (the one that raised) becomes one of the normal set at once, which holds at most `maxHistograms` (the one matched longest ago makes room), so a signal with a
 * few regimes (a daily cycle's phases) learns them all. An open alert clears once the windows
 * have matched for `holdSamples` in a row. During `warmupSamples` it learns the location and spread
 * only, during the next `warmupSamples` the histograms too, without raising.
 *
 * State per metric (from the last W samples of warm-up on): the window's W values twice (in arrival order, and sorted, so a step bins
 * them by binary search instead of a pass) plus maxHistograms × (2·bins + 1) numbers (each
 * histogram keeps its logs) and a dozen scalars; with the defaults (W = 50, 8 histograms of
 * 5 bins) about 200 numbers in 4 arrays.
 */
export const distributionParamsSchema = z
  .strictObject({
    ...metricParam,
    windowSamples: z.number().int().min(10).default(50),
    /** Bin edges in units of the robust spread about the location (ascending); the defaults cut a normal signal into 5 equally likely bins. */
    edges: z.array(z.number()).min(1).max(15).default([-0.84, -0.25, 0.25, 0.84]),
    /** Significance level of the G-test: a window unlike every learned histogram at this level does not match. */
    level: z.number().gt(0).lt(1).default(1e-8),
    maxHistograms: z.number().int().min(1).max(32).default(8),
    /** Unmatched windows in a row before raising (and adopting the window's histogram as normal). */
    minRunSamples: z.number().int().positive().default(30),
    /** Matched windows in a row before an open alert clears. */
    holdSamples: z.number().int().positive().default(50),
    warmupSamples: z.number().int().min(2).default(300),
    /** EWMA weight of the location and spread that the bins are cut by. */
    alpha: z.number().gt(0).max(1).default(0.003),
    clip: z.number().positive().default(3),
    /** Weight of each matched window in its learned histogram (memory ≈ 1/learnRate windows). */
    learnRate: z.number().gt(0).max(1).default(0.001),
    maxGapS: z.number().positive().default(86_400),
    /**
     * In a rule on every metric, a device reporting faster than this is judged about this often,
     * on the mean of each metric since the last judged sample (cadence.ts, read by the engine);
     * data this far apart or further is judged sample by sample as it comes. 0: every sample.
     */
    judgeEveryS: z.number().min(0).default(10),
  })
  .refine((p) => p.edges.every((e, i) => i === 0 || e > (p.edges[i - 1] as number)), { message: 'edges must be ascending', path: ['edges'] });

export type DistributionParams = z.output<typeof distributionParamsSchema>;

export interface DistributionState {
  n: number;
  loc: number;
  scale: number;
  /**
   * The last windowSamples values, a ring: in arrival order until it is full, then `head` is the
   * index of the oldest (the next to be overwritten). Bin counts do not depend on the order.
   */
  window: number[];
  head: number;
  /**
   * The same values in ascending order: the bins are cut at the edges of z = (v − loc) / scale,
   * which grows with v, so a bin's count is the distance between two binary searches instead of
   * a pass over the window (loc and scale move with every sample, so the values' bins cannot be kept).
   */
  sorted: number[];
  /**
   * The learned histograms, one after another in one array (2·bins numbers each): each one's
   * probability per bin, then Math.log of each, kept with it (the G-tests of every sample against
   * it need only Σ p·log q). One flat array, not an object and an array per histogram: there are
   * up to maxHistograms of these per metric of every device.
   */
  histograms: number[];
  /** Per histogram (same order), the sample count at which it last matched (the least recent makes room for a new one). */
  seen: number[];
  /** Unmatched windows in a row, and matched windows in a row while open. */
  unmatched: number;
  calm: number;
  /** The last sample's time; NEVER before the first. */
  lastTs: number;
  latch: Latch;
}

/** A new state: each one is its own object, since the engine updates its states in place. */
function fresh(): DistributionState {
  return { n: 0, loc: 0, scale: 0, window: [], head: 0, sorted: [], histograms: [], seen: [], unmatched: 0, calm: 0, lastTs: NEVER, latch: QUIET };
}

/** Chi-square quantile (Wilson–Hilferty): accurate to a few % for the few degrees of freedom used here. */
export function chiSquareQuantile(df: number, upperTail: number): number {
  const z = probit(1 - upperTail);
  const c = 2 / (9 * df);
  return df * Math.pow(1 - c + z * Math.sqrt(c), 3);
}

/**
 * What depends on the params alone, computed once per params object instead of per sample: the
 * G-test's limit, and Σ p·log p of a full window's histogram by bin count (a bin holding c of the W
 * values has p = (c + ½) / (W + ½·bins)), so a window's own term is a table look-up per bin.
 */
interface Derived {
  limit: number;
  total: number;
  pLogP: Float64Array;
}
const DERIVED = new WeakMap<DistributionParams, Derived>();
/**
 * The last params asked for. A rule on every metric has one params object per metric, all copies
 * of the rule's (same edges array, window and level), so the look-up is skipped when those match.
 */
let lastParams: DistributionParams | null = null;
let lastDerived: Derived | null = null;
function derivedOf(p: DistributionParams): Derived {
  if (lastParams !== null && (p === lastParams || (p.edges === lastParams.edges && p.windowSamples === lastParams.windowSamples && p.level === lastParams.level))) return lastDerived!;
  let d = DERIVED.get(p);
  if (d === undefined) {
    const total = p.windowSamples + 0.5 * (p.edges.length + 1);
    const pLogP = new Float64Array(p.windowSamples + 1);
    for (let c = 0; c <= p.windowSamples; c++) pLogP[c] = ((c + 0.5) / total) * Math.log((c + 0.5) / total);
    d = { limit: chiSquareQuantile(p.edges.length, p.level), total, pLogP };
    DERIVED.set(p, d);
  }
  lastParams = p;
  lastDerived = d;
  return d;
}

/** Bin counts of the current window and its smoothed histogram (scratch, reused by every step: steps never interleave). */
let COUNTS = new Int32Array(16);
let WINDOW_P = new Float64Array(16);

/**
 * Count the window's values per bin into COUNTS (bins = edges + 1), from the ascending values:
 * a value is in bin b when z = (v − loc) / scale is above b of the (ascending) edges, so the
 * values above edge b are those from the first one whose z is above it. That first one is found
 * by a binary search on the edge's value loc + edge·scale (no division), then settled by the
 * exact test on z, which the edge's value can miss by a rounding: the counts are exactly those of
 * cutting each value's z.
 */
function countBins(sorted: readonly number[], edges: readonly number[], judged: { judgedLoc: number; usable: number }): Int32Array {
  // Read here, not passed: a number passed to a call the compiler did not inline is a new heap object.
  const loc = judged.judgedLoc;
  const scale = judged.usable;
  const bins = edges.length + 1;
  if (COUNTS.length < bins) COUNTS = new Int32Array(bins);
  const counts = COUNTS;
  const w = sorted.length;
  let below = 0;
  for (let b = 0; b < edges.length; b++) {
    const edge = edges[b]!;
    const cut = loc + edge * scale;
    let lo = below;
    let hi = w;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! > cut) hi = mid;
      else lo = mid + 1;
    }
    while (lo > below && (sorted[lo - 1]! - loc) / scale > edge) lo--;
    while (lo < w && !((sorted[lo]! - loc) / scale > edge)) lo++;
    counts[b] = lo - below;
    below = lo;
  }
  counts[edges.length] = w - below;
  return counts;
}

/**
 * Replace `window[at]` (a value of the ascending `sorted`) by the input's value, keeping the order.
 * Given where the numbers are, not the numbers: V8 leaves this call out of line, and a number
 * passed to such a call is a new heap object (two per judged value otherwise).
 */
function replaceSorted(sorted: number[], window: readonly number[], at: number, input: DetectorInput): void {
  const old = window[at]!;
  const value = input.value;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < old) lo = mid + 1;
    else hi = mid;
  }
  let i = lo;
  if (value >= old) {
    while (i + 1 < sorted.length && sorted[i + 1]! < value) {
      sorted[i] = sorted[i + 1]!;
      i++;
    }
  } else {
    while (i > 0 && sorted[i - 1]! > value) {
      sorted[i] = sorted[i - 1]!;
      i--;
    }
  }
  sorted[i] = value;
}

/** Add `value` to the ascending `sorted`. */
function insertSorted(sorted: number[], value: number): void {
  let i = sorted.length;
  sorted.push(value);
  while (i > 0 && sorted[i - 1]! > value) {
    sorted[i] = sorted[i - 1]!;
    i--;
  }
  sorted[i] = value;
}

/** Append the window's histogram from its bin counts, smoothed (half a count per bin) so no bin is empty. */
function pushHistogram(histograms: number[], counts: Int32Array, bins: number, total: number): void {
  // In index order (probabilities, then their logs), so the array never has a hole.
  for (let b = 0; b < bins; b++) histograms.push((counts[b]! + 0.5) / total);
  for (let b = 0; b < bins; b++) histograms.push(Math.log((counts[b]! + 0.5) / total));
}

function copyState(s: DistributionState): DistributionState {
  return { ...s, window: s.window.slice(), sorted: s.sorted.slice(), histograms: s.histograms.slice(), seen: s.seen.slice() };
}

/**
 * Put the input's value in the window (the ring and its sorted copy). Given the input object, not
 * its value: a number passed to a call the compiler did not inline is a new heap object.
 */
function enterWindow(s: DistributionState, W: number, input: DetectorInput): void {
  const value = input.value;
  if (s.window.length < W) {
    s.window.push(value);
    insertSorted(s.sorted, value);
    if (s.window.length === W) {
      // Full for good: copies of the exact length, since an array grown by push keeps room for
      // more (about 80 numbers for 50), which would be most of a device's memory.
      s.window = s.window.slice();
      s.sorted = s.sorted.slice();
    }
  } else {
    replaceSorted(s.sorted, s.window, s.head, input);
    s.window[s.head] = value;
    s.head = s.head + 1 === W ? 0 : s.head + 1;
  }
}

/** Reset a state in place to a fresh one (after a long gap). */
function restart(s: DistributionState): void {
  Object.assign(s, fresh());
}

/**
 * One value, updating `s` in place. The G statistic of a window of W values with histogram p
 * against a learned q is 2·W·KL(p ‖ q) = 2·W·(Σ p·log p − Σ p·log q): the first sum is the
 * window's own (a table look-up per bin), the second uses the learned histogram's kept logs.
 */
function update(p: DistributionParams, s: DistributionState, input: DetectorInput): readonly DetectorEvent[] {
  const { ts, value } = input;
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  const gap = gapRestart(p, s, input);
  if (gap !== null) restart(s);
  const events = gap ?? NO_EVENTS;
  // Judged against the location and spread learned before this sample, like every window value.
  const loc0 = s.loc;
  const scale0 = s.scale;
  const n = s.n + 1;
  s.n = n;
  learnInto(n, loc0, scale0, value, p.alpha, p.warmupSamples, p.clip);
  s.loc = LEARNED.loc;
  s.scale = LEARNED.scale;
  s.lastTs = ts;
  const W = p.windowSamples;
  // The window is first binned at the end of warm-up (n = warmupSamples), when it holds the last W
  // values: the values before those are never binned, so they are not kept (most of the state's
  // memory during warm-up). A window saved with older values is overwritten by the W values that
  // come before it is read, oldest first.
  if (n > p.warmupSamples - W) enterWindow(s, W, input);
  // Histograms are cut by the location and spread, so none is learned before those have
  // settled (warm-up): cut by a spread learned from a few samples, a window looks wide and
  // would be taken as normal.
  if (s.window.length < W || n < p.warmupSamples) return events;

  const { limit, total, pLogP } = derivedOf(p);
  const bins = p.edges.length + 1;
  const counts = countBins(s.sorted, p.edges, LEARNED);
  if (WINDOW_P.length < bins) WINDOW_P = new Float64Array(bins);
  const wp = WINDOW_P;
  let own = 0;
  for (let b = 0; b < bins; b++) {
    own += pLogP[counts[b]!]!;
    wp[b] = (counts[b]! + 0.5) / total;
  }
  const histograms = s.histograms;
  const seen = s.seen;
  const size = 2 * bins;
  let best = -1;
  let bestG = Infinity;
  for (let i = 0; i < seen.length; i++) {
    const logs = i * size + bins;
    let cross = 0;
    for (let b = 0; b < bins; b++) cross += wp[b]! * histograms[logs + b]!;
    const g = 2 * W * (own - cross);
    if (g < bestG) {
      best = i;
      bestG = g;
    }
  }
  const matched = best >= 0 && bestG <= limit;
  if (matched) {
    s.unmatched = 0;
    const at = best * size;
    for (let b = 0; b < bins; b++) {
      const learned = histograms[at + b]! + p.learnRate * (wp[b]! - histograms[at + b]!);
      histograms[at + b] = learned;
      histograms[at + bins + b] = Math.log(learned);
    }
    seen[best] = n;
  } else s.unmatched++;
  // A distribution unlike every learned one for minRunSamples in a row is news (raised once
  // warmed up) and joins the normal set at once: when it recurs (the same phase of a daily
  // cycle, the same load) it is known, and one that persists ends its own alert. The first
  // window has nothing to compare with.
  const novel = s.unmatched >= p.minRunSamples || seen.length === 0;
  if (novel) {
    if (seen.length >= p.maxHistograms) {
      const oldest = leastRecent(seen);
      seen.splice(oldest, 1);
      histograms.splice(oldest * size, size);
    }
    pushHistogram(histograms, counts, bins, total);
    seen.push(n);
    // Exact-length copies (see the window's): a new histogram is rare.
    s.histograms = histograms.slice();
    s.seen = seen.slice();
    s.unmatched = 0;
  }
  const calm = s.calm;
  s.calm = 0;
  if (n < 2 * p.warmupSamples) return events;

  if (s.latch.active) {
    const run = matched ? calm + 1 : 0;
    if (run >= p.holdSamples) {
      s.latch = QUIET;
      return [...events, { kind: 'clear', ts, value, baseline: loc0, message: messages.distributionCleared(p.metric, value, run) }];
    }
    s.calm = run;
    return events;
  }
  if (novel) {
    s.latch = { active: true, since: ts };
    const spread = usableScale(loc0, scale0);
    return [...events, { kind: 'raise', ts, value, baseline: loc0, message: messages.distributionRaised(p.metric, value, loc0, spread, p.windowSamples, p.minRunSamples) }];
  }
  return events;
}

export const distributionDetector: DetectorModule<DistributionParams, DistributionState> = {
  kind: 'distribution',
  summary: "distribution-change test: the recent values' histogram matches none of the learned normal ones (scale-free)",
  paramsSchema: distributionParamsSchema,
  defaultCategory: 'safety',

  initial: fresh,
  update,
  step: pureStep(copyState, update),
};

/** The index of the histogram matched longest ago (the first of equals), from each one's last match. */
function leastRecent(seen: readonly number[]): number {
  let oldest = 0;
  for (let i = 1; i < seen.length; i++) if (seen[i]! < seen[oldest]!) oldest = i;
  return oldest;
}
