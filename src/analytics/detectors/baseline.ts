import { mean as meanOf, sampleStandardDeviation } from 'simple-statistics';
import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import { durationParams, isStale, metricParam, QUIET, stepLatch, type Latch } from './latch.js';
import { messages } from './messages.js';
import { pureStep, type DetectorModule } from './module.js';
import { NEVER } from './robust-scale.js';

/**
 * Deviation from a learned baseline, as a z-score: z = (value − mean) / std.
 *
 * - `ewma` (default): exponentially weighted mean and variance, memory ≈ 1/alpha samples. The
 *   first samples use the plain running mean (weight max(alpha, 1/n)), so the start is not biased
 *   towards the first value.
 * - `window`: mean and sample standard deviation (simple-statistics) of the last `windowSamples`
 *   learned values.
 *
 * What it learns from, and why:
 * - nothing while an alert is active (the baseline would chase the anomaly and clear it);
 * - no sample beyond `zRaise` in either direction, even one not watched or still pending: one
 *   spike must not widen the variance, and a stopped machine's low vibration must not drag the
 *   running baseline down when the rule only watches "above".
 * During `warmupSamples` it only learns and never raises. The std is floored at
 * max(minStd, minStdRel × |mean|) so a perfectly flat signal does not make every change infinite.
 *
 * Gaps: a gap longer than `maxGapS` restarts warm-up (the machine may have been stopped, serviced
 * or re-set; the old baseline is stale). An active alert is then cleared, saying why, because the
 * detector can no longer vouch for it; it raises again after warm-up if the deviation persists
 * relative to the new baseline.
 * A level that has stayed beyond the threshold for `relearnAfterS` (if set) is accepted as the new
 * normal: the alert clears (saying so) and warm-up restarts from it, instead of staying open forever.
 */
export const baselineParamsSchema = z
  .strictObject({
    ...metricParam,
    method: z.enum(['ewma', 'window']).default('ewma'),
    /** EWMA weight of each new sample (0 < alpha ≤ 1). */
    alpha: z.number().gt(0).max(1).default(0.01),
    /** Window length for method `window`. */
    windowSamples: z.number().int().min(3).default(100),
    /** Samples learned before anything is judged (after start and after every reset). */
    warmupSamples: z.number().int().min(2).default(60),
    zRaise: z.number().positive().default(4),
    zClear: z.number().min(0).default(2),
    /** above: only values above the baseline raise; below: only below; both: either. */
    direction: z.enum(['both', 'above', 'below']).default('both'),
    /** Std floor in metric units (sensor resolution / accuracy). */
    minStd: z.number().positive().default(1e-6),
    /** Std floor as a fraction of |mean| (for metrics whose scale is not known in advance). */
    minStdRel: z.number().min(0).default(0),
    ...durationParams,
    /** A gap longer than this restarts warm-up. */
    maxGapS: z.number().positive().default(3600),
    /** An alert active this long is taken as a new normal: cleared and re-learned. Unset: never. */
    relearnAfterS: z.number().positive().optional(),
  })
  .refine((p) => p.zClear < p.zRaise, { message: 'zClear must be smaller than zRaise', path: ['zClear'] });

export type BaselineParams = z.output<typeof baselineParamsSchema>;

export interface BaselineState {
  /** Samples learned since the last (re)start. */
  n: number;
  /** EWMA model (method ewma). */
  mean: number;
  variance: number;
  /** Learned values, oldest first (method window). Replaced, never mutated. */
  window: number[];
  lastTs: number | null;
  latch: Latch;
  /** Side of the active deviation: +1 above, −1 below. */
  side: 1 | -1;
}

/**
 * What a restart resets (Object.assign), lastTs NEVER like a fresh state's: one object of the same
 * shape holding null there would make V8 box every timestamp stored in any state's lastTs, once
 * per sample (each restart sets lastTs again before returning).
 */
const FRESH: BaselineState = { n: 0, mean: 0, variance: 0, window: [], lastTs: NEVER, latch: QUIET, side: 1 };

/**
 * A fresh state of its own (the engine updates its states in place), made by a literal (see
 * robust.ts's fresh), its lastTs NEVER, a number: a field that starts null makes V8 box every
 * timestamp stored in it (robust-scale.ts).
 */
function fresh(): BaselineState {
  return { n: 0, mean: 0, variance: 0, window: [], lastTs: NEVER, latch: QUIET, side: 1 };
}

/** Learn `v` into `s` in place (its model: count, mean and variance, or window; the window is replaced, never written into). */
function learn(p: BaselineParams, s: BaselineState, input: DetectorInput): void {
  const v = input.value;
  const n = s.n + 1;
  s.n = n;
  if (p.method === 'window') {
    s.window = s.window.length >= p.windowSamples ? [...s.window.slice(s.window.length - p.windowSamples + 1), v] : [...s.window, v];
    return;
  }
  const a = Math.max(p.alpha, 1 / n);
  const diff = v - s.mean;
  const incr = a * diff;
  s.mean = s.mean + incr;
  s.variance = (1 - a) * (s.variance + diff * incr);
}

/** The model's mean and standard deviation, written into MODEL (read at once): no object per sample. */
function model(p: BaselineParams, s: BaselineState): { mean: number; std: number } {
  if (p.method === 'window') {
    MODEL.mean = meanOf(s.window);
    MODEL.std = s.window.length > 1 ? sampleStandardDeviation(s.window) : 0;
  } else {
    MODEL.mean = s.mean;
    MODEL.std = Math.sqrt(Math.max(0, s.variance));
  }
  return MODEL;
}

const MODEL = { mean: 0.5, std: 0.5 };

/** One value, updating `s` in place (the engine owns its states; `step` copies first): no new state and step object per sample. */
function update(p: BaselineParams, s: BaselineState, input: DetectorInput): readonly DetectorEvent[] {
  const { ts, value } = input;
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  let events: readonly DetectorEvent[] = NO_EVENTS;
  if (s.lastTs !== null && s.lastTs !== NEVER && ts - s.lastTs > p.maxGapS * 1000) {
    if (s.latch.active) {
      const m = model(p, s);
      events = [{ kind: 'clear', ts, value, baseline: m.mean, message: messages.baselineResetAfterGap(p.metric, value, ts - s.lastTs) }];
    }
    Object.assign(s, FRESH);
  }
  if (s.n < p.warmupSamples) {
    learn(p, s, input);
    s.lastTs = ts;
    return events;
  }

  // Read at once: MODEL is overwritten by the next model() call.
  const { mean, std: learnedStd } = model(p, s);
  const std = Math.max(learnedStd, p.minStd, p.minStdRel * Math.abs(mean));
  const z = (value - mean) / std;
  const watched = p.direction === 'above' ? z : p.direction === 'below' ? -z : Math.abs(z);
  if (!s.latch.active && !(watched > p.zRaise)) {
    // Quiet and within the bar, as nearly every sample is: what the steps below do then (the latch
    // stays quiet, nothing is told, the value is learned unless it is beyond zRaise on the other
    // side) without the latch step's object.
    if (Math.abs(z) <= p.zRaise) learn(p, s, input);
    s.lastTs = ts;
    s.latch = QUIET;
    return events;
  }
  const r = stepLatch(s.latch, ts, watched > p.zRaise, watched <= p.zClear, p.minDurationS * 1000);
  const side: 1 | -1 = r.outcome === 'raise' ? (z >= 0 ? 1 : -1) : s.side;
  const threshold = mean + side * p.zRaise * std;

  if (r.latch.active && p.relearnAfterS !== undefined && r.latch.since !== null && ts - r.latch.since >= p.relearnAfterS * 1000) {
    events = [...events, { kind: 'clear', ts, value, baseline: mean, threshold, message: messages.baselineRelearned(p.metric, value, ts - r.latch.since) }];
    Object.assign(s, FRESH);
    learn(p, s, input);
    s.lastTs = ts;
    return events;
  }
  if (r.outcome === 'raise') {
    events = [...events, { kind: 'raise', ts, value, baseline: mean, threshold, message: messages.baselineRaised(p.metric, value, mean, z, threshold, r.heldMs) }];
  } else if (r.outcome === 'clear') {
    events = [...events, { kind: 'clear', ts, value, baseline: mean, threshold, message: messages.baselineCleared(p.metric, value, mean, p.zClear) }];
  }
  if (!r.latch.active && Math.abs(z) <= p.zRaise) learn(p, s, input);
  s.lastTs = ts;
  s.latch = r.latch;
  s.side = side;
  return events;
}

export const baselineDetector: DetectorModule<BaselineParams, BaselineState> = {
  kind: 'baseline',
  summary: 'deviation from a learned baseline (EWMA or rolling window z-score) with warm-up',
  paramsSchema: baselineParamsSchema,
  defaultCategory: 'safety',

  initial: fresh,
  update,
  // A shallow copy is enough: the window is replaced, never written into.
  step: pureStep((s: BaselineState) => ({ ...s }), update),
};
