import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput, type Step } from '../types.js';
import { isStale, metricParam, QUIET, type Latch } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';
import { robustUpdate, usableScale } from './robust-scale.js';

/**
 * A scale-free outlier and level-shift detector for any metric, including ones whose unit and
 * noise level nobody configured. Every threshold is in units of the signal's own learned spread,
 * so the same defaults fit a 0.0004 g vibration channel and a 70 °C temperature.
 *
 * Location and scale are robust EWMAs (robust-scale.ts: Huber-clipped, so one spike neither drags
 * the location nor widens the scale). The scale's floor is relative to the signal, never absolute:
 * `minScaleRel` × |location| (at least 0.1 %), and 0.1 % of the largest spread seen since the last
 * restart, so a perfectly flat signal does not make every step infinite.
 *
 * Two tests raise, on the standardised signal z = (x − location) / scale:
 * - outlier: |z| > zRaise;
 * - level shift / drift: a two-sided CUSUM of z (slack `cusumK`, decision `cusumH`), which
 *   accumulates evidence from a run of moderately high values that no single sample would show.
 *   Its sums restart after every alert and while the signal sits near its location.
 * An alert stays open while either holds and clears once |z| has stayed ≤ zClear for `holdSamples`
 * samples in a row, so a burst or a sustained anomaly is one alert, not one per spike. After an
 * alert the bar rises: the outlier test then needs more than that alert's peak |z| (the CUSUM a
 * proportionally higher sum), sinking back to zRaise over ~`barMemory` samples. A signal whose
 * ordinary spikes are heavy-tailed thus raises on the first of them and then only on a larger
 * one, instead of on every spike of the same size. While open, nothing is learned; an alert
 * open for `relearnAfterSamples` is taken as the new normal: it clears (saying so) and the
 * detector re-learns from the new level. During `warmupSamples` it only learns.
 */
export const robustParamsSchema = z
  .strictObject({
    ...metricParam,
    /** EWMA weight of each new sample once warmed up (memory ≈ 1/alpha samples). */
    alpha: z.number().gt(0).max(1).default(0.003),
    warmupSamples: z.number().int().min(2).default(100),
    zRaise: z.number().positive().default(8),
    zClear: z.number().min(0).default(2),
    /** Huber clip of each update, in scales. */
    clip: z.number().positive().default(3),
    /** Scale floor as a fraction of |location|. */
    minScaleRel: z.number().min(0).default(1e-3),
    cusumK: z.number().min(0).default(1),
    /** CUSUM decision level, in scales; 0 disables the change test. */
    cusumH: z.number().min(0).default(40),
    /** Samples an alert may stay open before its level is accepted as the new normal. */
    relearnAfterSamples: z.number().int().positive().default(300),
    /** Consecutive samples back within zClear before an open alert clears (one quiet sample amid a burst is not the end). */
    holdSamples: z.number().int().positive().default(100),
    /** After an alert, the outlier test's bar rises to the alert's peak |z| and sinks back to zRaise over about this many samples; 0: fixed bar. */
    barMemory: z.number().min(0).default(1000),
    /**
     * Quiet samples beyond this |z| are not learned at all. Clipping alone is not enough: a ramp
     * (wear, a drift) of a fraction of σ per sample keeps every sample under the clip, and the
     * clipped deviations still widen the scale by a few % per sample, so location and scale follow
     * it into the new level without ever raising.
     */
    learnBelow: z.number().positive().default(5),
    direction: z.enum(['both', 'above', 'below']).default('both'),
    /** A gap longer than this restarts warm-up (the machine may have been stopped or re-set). */
    maxGapS: z.number().positive().default(86_400),
  })
  .refine((p) => p.zClear < p.zRaise, { message: 'zClear must be smaller than zRaise', path: ['zClear'] });

export type RobustParams = z.output<typeof robustParamsSchema>;

export interface RobustState {
  /** Samples learned since the last (re)start. */
  n: number;
  loc: number;
  scale: number;
  /** Largest scale seen since the last restart: the relative floor's reference. */
  maxScale: number;
  /** CUSUM sums of z above and below. */
  up: number;
  down: number;
  /** Samples since the alert opened. */
  openFor: number;
  /** Consecutive samples within zClear while the alert is open. */
  calm: number;
  /** Current raise level of the outlier test (≥ zRaise), and the largest |z| of the open alert. */
  bar: number;
  peak: number;
  lastTs: number | null;
  latch: Latch;
  side: 1 | -1;
}

const FRESH: RobustState = { n: 0, loc: 0, scale: 0, maxScale: 0, up: 0, down: 0, openFor: 0, calm: 0, bar: 0, peak: 0, lastTs: null, latch: QUIET, side: 1 };

function scaleOf(p: RobustParams, s: RobustState): number {
  return usableScale(s.loc, s.scale, Math.max(p.minScaleRel * Math.abs(s.loc), 1e-3 * s.maxScale));
}

function learn(p: RobustParams, s: RobustState, v: number, ts: number, latch: Latch, side: 1 | -1, up: number, down: number): RobustState {
  const n = s.n + 1;
  const m = robustUpdate(n, s.loc, s.scale, v, p.alpha, p.warmupSamples, p.clip, Math.max(p.minScaleRel * Math.abs(s.loc), 1e-3 * s.maxScale));
  return { n, loc: m.loc, scale: m.scale, maxScale: Math.max(s.maxScale, m.scale), up, down, openFor: 0, calm: 0, bar: s.bar, peak: 0, lastTs: ts, latch, side };
}

export const robustDetector: DetectorModule<RobustParams, RobustState> = {
  kind: 'robust',
  summary: 'scale-free outlier and level-shift test on a robust EWMA location and scale (any metric, no units needed)',
  paramsSchema: robustParamsSchema,
  defaultCategory: 'safety',

  initial: () => FRESH,

  step(p: RobustParams, s: RobustState, { ts, value }: DetectorInput): Step<RobustState> {
    if (isStale(s.lastTs, ts)) return { state: s, events: NO_EVENTS };
    let events: readonly DetectorEvent[] = NO_EVENTS;
    let st = s;
    if (s.lastTs !== null && ts - s.lastTs > p.maxGapS * 1000) {
      if (s.latch.active) events = [{ kind: 'clear', ts, value, baseline: s.loc, message: messages.baselineResetAfterGap(p.metric, value, ts - s.lastTs) }];
      st = FRESH;
    }
    if (st.n < p.warmupSamples) return { state: learn(p, st, value, ts, QUIET, 1, 0, 0), events };

    const scale = scaleOf(p, st);
    const z = (value - st.loc) / scale;
    const watched = p.direction === 'above' ? z : p.direction === 'below' ? -z : Math.abs(z);
    // CUSUM on the clipped z: one huge spike is the outlier test's business, not evidence of a shift.
    const zc = Math.max(-p.clip * 2, Math.min(p.clip * 2, z));
    const up = p.direction === 'below' ? 0 : Math.max(0, st.up + zc - p.cusumK);
    const down = p.direction === 'above' ? 0 : Math.max(0, st.down - zc - p.cusumK);
    const bar = p.barMemory > 0 ? Math.max(p.zRaise, p.zRaise + (st.bar - p.zRaise) * (1 - 1 / p.barMemory)) : p.zRaise;
    const hBar = p.cusumH * (bar / p.zRaise);
    const breach = watched > bar || (p.cusumH > 0 && Math.max(up, down) > hBar);
    st = { ...st, bar };
    if (st.latch.active) {
      const openFor = st.openFor + 1;
      const calm = Math.abs(z) <= p.zClear ? st.calm + 1 : 0;
      const peak = Math.max(st.peak, watched);
      const threshold = st.loc + st.side * p.zRaise * scale;
      if (openFor >= p.relearnAfterSamples) {
        events = [...events, { kind: 'clear', ts, value, baseline: st.loc, threshold, message: messages.robustRelearned(p.metric, value, openFor) }];
        // The new level becomes the location; the scale carries on from the old one (not from 0).
        return { state: { ...FRESH, n: p.warmupSamples, loc: value, scale: st.scale, maxScale: st.maxScale, bar: p.zRaise, lastTs: ts }, events };
      }
      if (calm >= p.holdSamples) {
        events = [...events, { kind: 'clear', ts, value, baseline: st.loc, threshold, message: messages.baselineCleared(p.metric, value, st.loc, p.zClear) }];
        return { state: { ...st, up: 0, down: 0, openFor: 0, calm: 0, bar: Math.max(bar, peak), peak: 0, lastTs: ts, latch: QUIET }, events };
      }
      if (watched > p.zRaise) events = [...events, { kind: 'raise', ts, value, baseline: st.loc, threshold, message: messages.robustRaised(p.metric, value, st.loc, z, false) }];
      return { state: { ...st, up: 0, down: 0, openFor, calm, peak, lastTs: ts }, events };
    }
    if (breach) {
      const side: 1 | -1 = watched > bar ? (z >= 0 ? 1 : -1) : up >= down ? 1 : -1;
      const threshold = st.loc + side * p.zRaise * scale;
      events = [...events, { kind: 'raise', ts, value, baseline: st.loc, threshold, message: messages.robustRaised(p.metric, value, st.loc, z, watched <= bar) }];
      return { state: { ...st, up: 0, down: 0, openFor: 0, calm: 0, peak: watched, lastTs: ts, latch: { active: true, since: ts }, side }, events };
    }
    // Quiet: learn (clipped), keep the CUSUM sums. A sample beyond learnBelow is not learned at
    // all: a slow ramp (wear, a drift) must not be followed sample by sample until it is normal.
    if (Math.abs(z) > p.learnBelow) return { state: { ...st, up, down, lastTs: ts }, events };
    return { state: learn(p, st, value, ts, QUIET, st.side, up, down), events };
  },
};
