import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import { pureStep, type DetectorModule } from './module.js';
import { NEVER } from './robust-scale.js';

/**
 * Stuck sensor: the value has stayed within `epsilon` of the value that started the run for at
 * least `minDurationS` AND at least `minSamples` samples (both: a fast sampler proves nothing in
 * 2 s, a slow one proves nothing with 2 samples). Compared with the run's first value, not the
 * previous sample, so a slow drift in tiny steps does not count as flat. Clears on the first
 * sample that differs. Gaps do not restart the run: a sensor that reports the same value before
 * and after an outage is still stuck.
 */
export const flatlineParamsSchema = z.strictObject({
  ...metricParam,
  /** Largest change that still counts as "unchanged" (metric units). 0: bit-identical values. */
  epsilon: z.number().min(0).default(0),
  minDurationS: z.number().positive().default(3600),
  minSamples: z.number().int().min(2).default(10),
});

export type FlatlineParams = z.output<typeof flatlineParamsSchema>;

export interface FlatlineState {
  /** First value of the current run of unchanged values (no run yet: runCount 0; null in a state from an older version). */
  anchor: number | null;
  runStart: number;
  /** Samples in the current run; 0: none yet. */
  runCount: number;
  lastTs: number | null;
  active: boolean;
}

/** Start a new run at `value` (in place). */
function newRun(s: FlatlineState, input: DetectorInput): void {
  s.anchor = input.value;
  s.runStart = input.ts;
  s.runCount = 1;
  s.lastTs = input.ts;
  s.active = false;
}

/** One value, updating `s` in place (the engine owns its states; `step` copies first): no new state and step object per sample. */
function update(p: FlatlineParams, s: FlatlineState, input: DetectorInput): readonly DetectorEvent[] {
  const { ts, value } = input;
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  const anchor = s.anchor;
  if (s.runCount === 0 || anchor === null) {
    newRun(s, input);
    return NO_EVENTS;
  }
  if (Math.abs(value - anchor) > p.epsilon) {
    const was = s.active;
    newRun(s, input);
    return was ? [{ kind: 'clear', ts, value, message: messages.flatlineCleared(p.metric, anchor, value) }] : NO_EVENTS;
  }
  const runCount = s.runCount + 1;
  const heldMs = ts - s.runStart;
  const stuck = heldMs >= p.minDurationS * 1000 && runCount >= p.minSamples;
  s.runCount = runCount;
  s.lastTs = ts;
  s.active = stuck;
  return stuck ? [{ kind: 'raise', ts, value, message: messages.flatlineRaised(p.metric, value, heldMs, runCount) }] : NO_EVENTS;
}

export const flatlineDetector: DetectorModule<FlatlineParams, FlatlineState> = {
  kind: 'flatline',
  summary: 'value unchanged (within epsilon) for a minimum duration and number of samples: stuck sensor',
  paramsSchema: flatlineParamsSchema,
  defaultCategory: 'sensor',

  // Each state its own object: the engine updates its states in place. Numbers from the start (no
  // run: runCount 0; lastTs NEVER): a field that starts null makes V8 box every number later
  // stored in it (robust-scale.ts), two heap objects per sample of a noisy metric, which starts a
  // new run with each.
  initial: () => ({ anchor: 0, runStart: 0, runCount: 0, lastTs: NEVER, active: false }),
  update,
  step: pureStep((s: FlatlineState) => ({ ...s }), update),
};
