import { z } from 'zod';
import { NO_EVENTS, type DetectorInput, type Step } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';

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
  /** First value of the current run of unchanged values. */
  anchor: number | null;
  runStart: number;
  runCount: number;
  lastTs: number | null;
  active: boolean;
}

export const flatlineDetector: DetectorModule<FlatlineParams, FlatlineState> = {
  kind: 'flatline',
  summary: 'value unchanged (within epsilon) for a minimum duration and number of samples: stuck sensor',
  paramsSchema: flatlineParamsSchema,
  defaultCategory: 'sensor',

  initial: () => ({ anchor: null, runStart: 0, runCount: 0, lastTs: null, active: false }),

  step(p: FlatlineParams, s: FlatlineState, { ts, value }: DetectorInput): Step<FlatlineState> {
    if (isStale(s.lastTs, ts)) return { state: s, events: NO_EVENTS };
    const newRun: FlatlineState = { anchor: value, runStart: ts, runCount: 1, lastTs: ts, active: false };
    if (s.anchor === null) return { state: newRun, events: NO_EVENTS };
    if (Math.abs(value - s.anchor) > p.epsilon) {
      return {
        state: newRun,
        events: s.active ? [{ kind: 'clear', ts, value, message: messages.flatlineCleared(p.metric, s.anchor, value) }] : NO_EVENTS,
      };
    }
    const runCount = s.runCount + 1;
    const heldMs = ts - s.runStart;
    const stuck = heldMs >= p.minDurationS * 1000 && runCount >= p.minSamples;
    return {
      state: { ...s, runCount, lastTs: ts, active: stuck },
      events: stuck ? [{ kind: 'raise', ts, value, message: messages.flatlineRaised(p.metric, value, heldMs, runCount) }] : NO_EVENTS,
    };
  },
};
