import { probit } from 'simple-statistics';
import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput, type Step } from '../types.js';
import { isStale, metricParam, QUIET, type Latch } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';
import { restartAfterGap, robustUpdate, usableScale } from './robust-scale.js';

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
 * State per metric: the window's W values plus maxHistograms × (bins + 2) numbers and a dozen
 * scalars; with the defaults (W = 50, 8 histograms of 5 bins) about 120 numbers.
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
  })
  .refine((p) => p.edges.every((e, i) => i === 0 || e > (p.edges[i - 1] as number)), { message: 'edges must be ascending', path: ['edges'] });

export type DistributionParams = z.output<typeof distributionParamsSchema>;

export interface Histogram {
  /** Probability of each bin. */
  p: readonly number[];
  /** Sample count at which it last matched (the least recent makes room for a new one). */
  seen: number;
}

export interface DistributionState {
  n: number;
  loc: number;
  scale: number;
  /** The last windowSamples values, oldest first. */
  window: readonly number[];
  histograms: readonly Histogram[];
  /** Unmatched windows in a row, and matched windows in a row while open. */
  unmatched: number;
  calm: number;
  lastTs: number | null;
  latch: Latch;
}

const FRESH: DistributionState = { n: 0, loc: 0, scale: 0, window: [], histograms: [], unmatched: 0, calm: 0, lastTs: null, latch: QUIET };

/** Chi-square quantile (Wilson–Hilferty): accurate to a few % for the few degrees of freedom used here. */
export function chiSquareQuantile(df: number, upperTail: number): number {
  const z = probit(1 - upperTail);
  const c = 2 / (9 * df);
  return df * Math.pow(1 - c + z * Math.sqrt(c), 3);
}

/** The G-test's limit depends on the params alone: computed once per params object, not per sample. */
const LIMITS = new WeakMap<DistributionParams, number>();
function limitOf(p: DistributionParams): number {
  let limit = LIMITS.get(p);
  if (limit === undefined) {
    limit = chiSquareQuantile(p.edges.length, p.level);
    LIMITS.set(p, limit);
  }
  return limit;
}

/** The window's histogram over the bins, smoothed (half a count per bin) so no bin is empty. */
function histogramOf(values: readonly number[], edges: readonly number[], loc: number, scale: number): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0.5);
  for (const v of values) {
    const z = (v - loc) / scale;
    let b = 0;
    while (b < edges.length && z > (edges[b] as number)) b++;
    counts[b] = (counts[b] as number) + 1;
  }
  const total = values.length + 0.5 * counts.length;
  return counts.map((c) => c / total);
}

/** G statistic 2·W·KL(p ‖ q) of a window of W values with histogram p against the learned q. */
function gStat(p: readonly number[], q: readonly number[], w: number): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) kl += (p[i] as number) * Math.log((p[i] as number) / (q[i] as number));
  return 2 * w * kl;
}

export const distributionDetector: DetectorModule<DistributionParams, DistributionState> = {
  kind: 'distribution',
  summary: "distribution-change test: the recent values' histogram matches none of the learned normal ones (scale-free)",
  paramsSchema: distributionParamsSchema,
  defaultCategory: 'safety',

  initial: () => FRESH,

  step(p: DistributionParams, s: DistributionState, { ts, value }: DetectorInput): Step<DistributionState> {
    if (isStale(s.lastTs, ts)) return { state: s, events: NO_EVENTS };
    const restart = restartAfterGap(p, s, FRESH, ts, value);
    const events = restart.events;
    const st = restart.st;
    const n = st.n + 1;
    const m = robustUpdate(n, st.loc, st.scale, value, p.alpha, p.warmupSamples, p.clip);
    const window = st.window.length < p.windowSamples ? [...st.window, value] : [...st.window.slice(1), value];
    const base = { ...st, n, loc: m.loc, scale: m.scale, window, lastTs: ts };
    // Histograms are cut by the location and spread, so none is learned before those have
    // settled (warm-up): cut by a spread learned from a few samples, a window looks wide and
    // would be taken as normal.
    if (window.length < p.windowSamples || n < p.warmupSamples) return { state: base, events };

    // Judged against the spread learned before this sample, like every window value.
    const hist = histogramOf(window, p.edges, st.loc, usableScale(st.loc, st.scale));
    const limit = limitOf(p);
    let best = -1;
    let bestG = Infinity;
    st.histograms.forEach((h, i) => {
      const g = gStat(hist, h.p, p.windowSamples);
      if (g < bestG) [best, bestG] = [i, g];
    });
    let histograms = st.histograms;
    let unmatched = st.unmatched;
    const matched = best >= 0 && bestG <= limit;
    if (matched) {
      unmatched = 0;
      const h = histograms[best] as Histogram;
      const learned: Histogram = { p: h.p.map((q, i) => q + p.learnRate * ((hist[i] as number) - q)), seen: n };
      histograms = histograms.map((x, i) => (i === best ? learned : x));
    } else unmatched++;
    // A distribution unlike every learned one for minRunSamples in a row is news (raised once
    // warmed up) and joins the normal set at once: when it recurs (the same phase of a daily
    // cycle, the same load) it is known, and one that persists ends its own alert. The first
    // window has nothing to compare with.
    const novel = unmatched >= p.minRunSamples || histograms.length === 0;
    if (novel) {
      const kept = histograms.length < p.maxHistograms ? histograms : dropLeastRecent(histograms);
      histograms = [...kept, { p: hist, seen: n }];
      unmatched = 0;
    }
    const next: DistributionState = { ...base, histograms, unmatched, calm: 0 };
    if (n < 2 * p.warmupSamples) return { state: next, events };

    if (st.latch.active) {
      const calm = matched ? st.calm + 1 : 0;
      if (calm >= p.holdSamples) {
        return { state: { ...next, latch: QUIET }, events: [...events, { kind: 'clear', ts, value, baseline: st.loc, message: messages.distributionCleared(p.metric, value, calm) }] };
      }
      return { state: { ...next, calm }, events };
    }
    if (novel) {
      const spread = usableScale(st.loc, st.scale);
      const ev: DetectorEvent = { kind: 'raise', ts, value, baseline: st.loc, message: messages.distributionRaised(p.metric, value, st.loc, spread, p.windowSamples, p.minRunSamples) };
      return { state: { ...next, latch: { active: true, since: ts } }, events: [...events, ev] };
    }
    return { state: next, events };
  },
};

function dropLeastRecent(histograms: readonly Histogram[]): Histogram[] {
  let oldest = 0;
  histograms.forEach((h, i) => {
    if (h.seen < (histograms[oldest] as Histogram).seen) oldest = i;
  });
  return histograms.filter((_, i) => i !== oldest);
}
