import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import { afterGap, durationParams, isStale, metricParam, QUIET, stepLatch, type Latch } from './latch.js';
import { messages, type Side } from './messages.js';
import { pureStep, type DetectorModule } from './module.js';
import { NEVER } from './robust-scale.js';

/**
 * High and/or low limit. Raises while the value is beyond a limit (strictly: a value equal to the
 * limit is inside), after it has been beyond for `minDurationS`; clears once the value is back
 * inside by `hysteresis` (a high limit of 95 with hysteresis 5 clears at ≤ 90).
 */
export const limitParamsSchema = z
  .strictObject({
    ...metricParam,
    high: z.number().optional(),
    low: z.number().optional(),
    /** Margin (metric units) the value must come back inside the limit by before the alert clears. */
    hysteresis: z.number().min(0).default(0),
    ...durationParams,
    /** A gap between samples longer than this restarts the minimum-duration clock. Unset: gaps do not matter. */
    maxGapS: z.number().positive().optional(),
  })
  .refine((p) => p.high !== undefined || p.low !== undefined, { message: 'set high and/or low', path: ['high'] })
  .refine((p) => p.high === undefined || p.low === undefined || p.high - p.low > 2 * p.hysteresis, {
    message: 'high must exceed low by more than twice the hysteresis (otherwise the alert could never clear)',
    path: ['hysteresis'],
  });

export type LimitParams = z.output<typeof limitParamsSchema>;

export interface LimitState {
  latch: Latch;
  /** The side last breached: which limit the clear message names. */
  side: Side | null;
  lastTs: number | null;
}

function breachedSide(p: LimitParams, v: number): Side | null {
  if (p.high !== undefined && v > p.high) return 'high';
  if (p.low !== undefined && v < p.low) return 'low';
  return null;
}

function insideClear(p: LimitParams, v: number): boolean {
  return (p.high === undefined || v <= p.high - p.hysteresis) && (p.low === undefined || v >= p.low + p.hysteresis);
}

function limitOf(p: LimitParams, side: Side): number {
  // The schema guarantees the breached side's limit exists.
  return (side === 'high' ? p.high : p.low) ?? Number.NaN;
}

/** One value, updating `s` in place (the engine owns its states; `step` copies first): no new state and step object per sample. */
function update(p: LimitParams, s: LimitState, input: DetectorInput): readonly DetectorEvent[] {
  const { ts, value } = input;
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  const latch = afterGap(s.latch, s.lastTs === null || s.lastTs === NEVER ? 0 : ts - s.lastTs, p.maxGapS === undefined ? undefined : p.maxGapS * 1000);
  const side = breachedSide(p, value);
  if (side === null && !latch.active) {
    // Inside and quiet, as nearly every sample is: what stepLatch would say (quiet, nothing to tell)
    // without the object it returns.
    s.latch = QUIET;
    s.lastTs = ts;
    return NO_EVENTS;
  }
  const r = stepLatch(latch, ts, side !== null, insideClear(p, value), p.minDurationS * 1000);
  let events: readonly DetectorEvent[] = NO_EVENTS;
  if (r.outcome === 'raise' && side) {
    const limit = limitOf(p, side);
    events = [{ kind: 'raise', ts, value, threshold: limit, message: messages.limitRaised(p.metric, value, limit, side, r.heldMs) }];
  } else if (r.outcome === 'clear') {
    const was = s.side ?? (p.high !== undefined ? 'high' : 'low');
    const limit = limitOf(p, was);
    const clearAt = was === 'high' ? limit - p.hysteresis : limit + p.hysteresis;
    events = [{ kind: 'clear', ts, value, threshold: limit, message: messages.limitCleared(p.metric, value, limit, was, clearAt) }];
  }
  s.latch = r.latch;
  s.side = side ?? s.side;
  s.lastTs = ts;
  return events;
}

export const limitDetector: DetectorModule<LimitParams, LimitState> = {
  kind: 'limit',
  summary: 'value above a high and/or below a low limit, with hysteresis and minimum duration',
  paramsSchema: limitParamsSchema,
  defaultCategory: 'safety',

  // Each state its own object: the engine updates its states in place. lastTs starts as NEVER, a
  // number: a field that starts null makes V8 box every timestamp stored in it (robust-scale.ts).
  initial: () => ({ latch: QUIET, side: null, lastTs: NEVER }),
  update,
  step: pureStep((s: LimitState) => ({ ...s }), update),
};
