import { DelayHistogram } from './delay-histogram.js';

/**
 * The additive figures of one window for one device, or summed over devices (line, site,
 * gateway). Percentages are derived from these (`percentages`), never averaged, so a rollup
 * weighs every sample (or millisecond) equally, whichever device it came from.
 */
export interface Figures {
  /** Devices counted in. */
  devices: number;
  /** Sampling slots in the window while the device was in service (see docs/completeness.md). */
  expected: number;
  /** Distinct samples received (a timestamp counts once). */
  received: number;
  /** Received, at most `expected` per device and hour: what completeness counts, so one device sampling faster cannot hide another's gap. */
  receivedCounted: number;
  /** Samples received again: same `ts` again, or in a message whose `seq` was already received. */
  duplicates: number;
  /** Messages whose `seq` was already received. */
  duplicateMessages: number;
  /** Messages that filled a `seq` gap: missing for a while, then delivered (late, not missing). */
  lateMessages: number;
  /** Received samples older than the newest one already received from the device. */
  outOfOrder: number;
  /** Received samples whose upload delay was measured (all, except those stored just before a crash). */
  timed: number;
  /** Of those, delay at most the limit. */
  onTime: number;
  /** Upload delays of the timed samples. */
  delays: DelayHistogram;
  /** Wall-clock time the device was online, and was watched at all, within the window. */
  onlineMs: number;
  observedMs: number;
}

export function emptyFigures(): Figures {
  return { devices: 0, expected: 0, received: 0, receivedCounted: 0, duplicates: 0, duplicateMessages: 0, lateMessages: 0, outOfOrder: 0, timed: 0, onTime: 0, delays: new DelayHistogram(), onlineMs: 0, observedMs: 0 };
}

const ADDITIVE = ['devices', 'expected', 'received', 'receivedCounted', 'duplicates', 'duplicateMessages', 'lateMessages', 'outOfOrder', 'timed', 'onTime', 'onlineMs', 'observedMs'] as const;

export function addFigures(into: Figures, f: Figures): Figures {
  for (const k of ADDITIVE) into[k] += f[k];
  into.delays.merge(f.delays);
  return into;
}

export interface Percentages {
  /** receivedCounted ÷ expected; null when nothing was expected. */
  completenessPct: number | null;
  /** onTime ÷ timed; null when nothing was received. */
  timelinessPct: number | null;
  /** onlineMs ÷ observedMs; null when nothing was watched. */
  onlinePct: number | null;
  delayP50Ms: number | null;
  delayP95Ms: number | null;
}

export function percentages(f: Figures): Percentages {
  return {
    completenessPct: f.expected > 0 ? (100 * f.receivedCounted) / f.expected : null,
    timelinessPct: f.timed > 0 ? (100 * f.onTime) / f.timed : null,
    onlinePct: f.observedMs > 0 ? (100 * f.onlineMs) / f.observedMs : null,
    delayP50Ms: f.delays.percentile(0.5),
    delayP95Ms: f.delays.percentile(0.95),
  };
}
