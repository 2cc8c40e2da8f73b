import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput, type Step } from '../types.js';
import { messages } from './messages.js';
import { isStale } from './latch.js';
import { pureStep, type DetectorModule } from './module.js';
import { NEVER } from './robust-scale.js';

/**
 * Silence (heartbeat): the platform calls `tick` on its own clock; it raises once `timeoutS` has
 * passed since the last input, and again on every later tick while the silence lasts (each raise
 * updates the open alert). Never before the first input: a device that has never reported is not
 * "silent", it is unknown. The next input clears it, once. `value` is the silence in seconds.
 * The usual rule watches metric `*` (any sample of the device).
 */
export const silenceParamsSchema = z.strictObject({
  metric: z.string().min(1).default('*'),
  timeoutS: z.number().positive().default(120),
});

export type SilenceParams = z.output<typeof silenceParamsSchema>;

export interface SilenceState {
  /**
   * The last input's arrival time; NEVER (a number) before the first. Null, in a state handed over
   * from an older version, means the same. A field that starts null makes V8 box every time stored
   * in it, once per batch (robust-scale.ts).
   */
  lastTs: number | null;
  active: boolean;
}

/** Whether the device has had an input (a device that never reported is unknown, not silent). */
function heard(lastTs: number | null): lastTs is number {
  return lastTs !== null && lastTs !== NEVER;
}

/** An input (a batch's arrival), updating `s` in place: the silence, if any, is over. */
function update(p: SilenceParams, s: SilenceState, input: DetectorInput): readonly DetectorEvent[] {
  const ts = input.ts;
  const last = s.lastTs;
  if (isStale(last, ts)) return NO_EVENTS; // nothing is at or before NEVER
  const was = s.active;
  s.lastTs = ts;
  s.active = false;
  if (!was || !heard(last)) return NO_EVENTS;
  return [{ kind: 'clear', ts, value: (ts - last) / 1000, threshold: p.timeoutS, message: messages.silenceCleared(p.metric, ts - last) }];
}

export const silenceDetector: DetectorModule<SilenceParams, SilenceState> = {
  kind: 'silence',
  summary: 'no input for timeoutS after the last one (device stopped reporting)',
  paramsSchema: silenceParamsSchema,
  defaultCategory: 'data',

  // Each state its own object: the engine updates its states in place (update), once per batch.
  initial: () => ({ lastTs: NEVER, active: false }),
  update,
  step: pureStep((s: SilenceState) => ({ ...s }), update),

  /**
   * A device that says it is gone is silent now, not only after `timeoutS`: raised at once, so
   * the silence alert opens with the death. The timeout passing later raises again under the same
   * rule, which updates the open alert: one outage, one alert (the death is not raised twice).
   * (Retained statuses redelivered on a resubscription are not news: the platform does not pass
   * them here.)
   */
  offline(p: SilenceParams, s: SilenceState, at: number, reason: string | null): Step<SilenceState> {
    if (!heard(s.lastTs) || s.active) return { state: s, events: NO_EVENTS };
    const silentMs = Math.max(0, at - s.lastTs);
    return {
      state: { ...s, active: true },
      events: [{ kind: 'raise', ts: at, value: silentMs / 1000, threshold: p.timeoutS, message: messages.silenceOffline(p.metric, reason) }],
    };
  },

  tick(p: SilenceParams, s: SilenceState, now: number): Step<SilenceState> {
    if (!heard(s.lastTs)) return { state: s, events: NO_EVENTS };
    const silentMs = now - s.lastTs;
    if (silentMs < p.timeoutS * 1000) return { state: s, events: NO_EVENTS };
    return {
      state: s.active ? s : { ...s, active: true },
      events: [{ kind: 'raise', ts: now, value: silentMs / 1000, threshold: p.timeoutS, message: messages.silenceRaised(p.metric, silentMs, p.timeoutS) }],
    };
  },
};
