import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput, type Step } from '../types.js';
import { afterGap, durationParams, isStale, metricParam, QUIET, stepLatch, type Latch } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';

/**
 * Rate of change: |Δvalue / Δt| in metric units per minute, between consecutive samples, above a
 * limit (or only rising / only falling). A pair of samples further apart than `maxGapS` is not
 * judged: a rate over a long gap says nothing about how fast the value moved.
 *
 * Events carry the rate (units per minute) as `value` and the limit as `threshold`, so the two
 * compare and the alert's peak is the fastest change seen.
 */
export const rateOfChangeParamsSchema = z
  .strictObject({
    ...metricParam,
    /** Metric units per minute. */
    limitPerMin: z.number().positive(),
    direction: z.enum(['both', 'rising', 'falling']).default('both'),
    /** Units per minute the rate must fall below the limit by before the alert clears. */
    hysteresis: z.number().min(0).default(0),
    ...durationParams,
    /** Consecutive samples further apart than this are not compared (and restart the duration clock). */
    maxGapS: z.number().positive().default(600),
  })
  .refine((p) => p.hysteresis < p.limitPerMin, { message: 'hysteresis must be smaller than limitPerMin', path: ['hysteresis'] });

export type RateOfChangeParams = z.output<typeof rateOfChangeParamsSchema>;

export interface RateOfChangeState {
  prev: DetectorInput | null;
  latch: Latch;
}

/** The rate as the rule's direction sees it: positive means "in the watched direction". */
function watched(p: RateOfChangeParams, rate: number): number {
  if (p.direction === 'rising') return rate;
  if (p.direction === 'falling') return -rate;
  return Math.abs(rate);
}

export const rateOfChangeDetector: DetectorModule<RateOfChangeParams, RateOfChangeState> = {
  kind: 'rate-of-change',
  summary: 'value changing faster than a limit per minute (optionally only rising or falling)',
  paramsSchema: rateOfChangeParamsSchema,
  defaultCategory: 'safety',

  initial: () => ({ prev: null, latch: QUIET }),

  step(p: RateOfChangeParams, s: RateOfChangeState, input: DetectorInput): Step<RateOfChangeState> {
    const { prev } = s;
    if (isStale(prev?.ts ?? null, input.ts)) return { state: s, events: NO_EVENTS };
    if (prev === null) return { state: { prev: input, latch: s.latch }, events: NO_EVENTS };
    const dtMs = input.ts - prev.ts;
    const maxGapMs = p.maxGapS * 1000;
    if (dtMs > maxGapMs) return { state: { prev: input, latch: afterGap(s.latch, dtMs, maxGapMs) }, events: NO_EVENTS };

    const rate = ((input.value - prev.value) / dtMs) * 60_000;
    const w = watched(p, rate);
    // The change happened over the whole interval: a breach began at the previous sample.
    const r = stepLatch(s.latch, input.ts, w > p.limitPerMin, w <= p.limitPerMin - p.hysteresis, p.minDurationS * 1000, prev.ts);
    let events: readonly DetectorEvent[] = NO_EVENTS;
    if (r.outcome === 'raise') {
      events = [{ kind: 'raise', ts: input.ts, value: rate, threshold: p.limitPerMin, message: messages.rateRaised(p.metric, rate, p.limitPerMin, r.heldMs) }];
    } else if (r.outcome === 'clear') {
      events = [{ kind: 'clear', ts: input.ts, value: rate, threshold: p.limitPerMin, message: messages.rateCleared(p.metric, rate, p.limitPerMin) }];
    }
    return { state: { prev: input, latch: r.latch }, events };
  },
};
