import { z } from 'zod';

/**
 * The raise/clear state machine shared by the threshold detectors (limit, rate of change,
 * baseline): a condition must hold continuously for a minimum duration before it raises, and an
 * active condition clears only once the value is back inside by a margin (hysteresis), so a value
 * hovering at the limit neither floods nor flaps.
 *
 *   quiet ──breach──▶ pending (since = first breaching ts) ──held ≥ minDuration──▶ active
 *   pending ──no breach──▶ quiet            active ──breach──▶ active (raise again: updates the alert)
 *   active ──inside clear band──▶ quiet (clear, once)   active ──between limit and clear band──▶ active, silent
 *
 * Inside the hysteresis band an active condition emits nothing: the alert stays open but its
 * "last seen" and count track only samples that really breach.
 */
export interface Latch {
  active: boolean;
  /** Timestamp from which the condition has held continuously (pending or active); null when quiet. */
  since: number | null;
}

export const QUIET: Latch = { active: false, since: null };

export type LatchOutcome = 'raise' | 'clear' | 'none';

export interface LatchStep {
  latch: Latch;
  outcome: LatchOutcome;
  /** How long the condition has held at this input (ms), for messages. */
  heldMs: number;
}

/**
 * @param breach the condition holds at this input.
 * @param insideClear the value is back inside the limit by the hysteresis margin (implies !breach).
 * @param startTs when the condition began if it begins now (a rate breach began at the previous sample).
 */
export function stepLatch(latch: Latch, ts: number, breach: boolean, insideClear: boolean, minDurationMs: number, startTs = ts): LatchStep {
  if (breach) {
    const since = latch.since ?? startTs;
    const heldMs = ts - since;
    if (latch.active || heldMs >= minDurationMs) return { latch: { active: true, since }, outcome: 'raise', heldMs };
    return { latch: { active: false, since }, outcome: 'none', heldMs };
  }
  if (!latch.active) return { latch: QUIET, outcome: 'none', heldMs: 0 };
  if (insideClear) return { latch: QUIET, outcome: 'clear', heldMs: 0 };
  return { latch, outcome: 'none', heldMs: latch.since === null ? 0 : ts - latch.since };
}

/**
 * After a gap longer than the rule allows, a pending condition starts over: nothing is known about
 * the time in between, so it cannot count as "held continuously". An active one stays active
 * (the next sample decides whether it clears).
 */
export function afterGap(latch: Latch, gapMs: number, maxGapMs: number | undefined): Latch {
  if (maxGapMs === undefined || gapMs <= maxGapMs || latch.active) return latch;
  return QUIET;
}

/** Parameters every threshold-style detector shares. */
export const durationParams = {
  /** Raise only after the condition has held this long, judged on sample timestamps. 0: at once. */
  minDurationS: z.number().min(0).default(0),
};

/**
 * The metric the rule watches. Filled in by the rules resolver from the rule's `metric`; used in
 * messages (name, unit) and by `range` for the catalogue range.
 */
export const metricParam = {
  metric: z.string().min(1).default('value'),
};

/** Skip an input at or before the last one seen: the platform drops out-of-order data, and a replay must too. */
export function isStale(lastTs: number | null, ts: number): boolean {
  return lastTs !== null && ts <= lastTs;
}
