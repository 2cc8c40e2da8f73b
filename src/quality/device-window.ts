import { DelayHistogram } from './delay-histogram.js';
import { TimeSet } from './time-set.js';

/**
 * What one device did in one hour: samples by their timestamp (received, duplicates, delays…),
 * and wall-clock time online/observed. Saved to SQLite on every flush and restored on start.
 */
export interface WindowCounts {
  received: number;
  duplicates: number;
  outOfOrder: number;
  duplicateMessages: number;
  lateMessages: number;
  timed: number;
  onTime: number;
  onlineMs: number;
  observedMs: number;
  /** The sampling interval this window is judged with, fixed when it closes (null while open: the current one applies). */
  intervalMs: number | null;
}

export interface SavedWindow {
  counts: WindowCounts;
  delays: [number, number][];
  /** False when some received samples' timestamps are not in `times` (restored from InfluxDB counts after a crash). */
  timesComplete: boolean;
  /** The window closed and its timestamps were let go (releaseTimes). */
  timesReleased?: boolean;
}

export class DeviceWindow {
  counts: WindowCounts = { received: 0, duplicates: 0, outOfOrder: 0, duplicateMessages: 0, lateMessages: 0, timed: 0, onTime: 0, onlineMs: 0, observedMs: 0, intervalMs: null };
  delays = new DelayHistogram();
  /** Null once the window closed (releaseTimes). */
  times: TimeSet | null;
  timesComplete = true;
  /** Changed since it was last saved and written. */
  dirty = true;

  constructor(readonly start: number) {
    this.times = new TimeSet(start);
  }

  /**
   * The window closed: let its timestamps go. They cost 1.5–2.5 bytes per sample (time-set.ts),
   * which over the late horizon (up to two days) grows with the input rate without bound (16,000
   * samples/s: about 115 MB an hour). From here on a sample into this window is a duplicate only when its message's
   * `seq` was already received (redelivery, resend); late samples of a backlog arrive in
   * messages whose `seq` filled a gap, and count. Sources without `seq` can no longer be told
   * apart from a resend here (docs/completeness.md).
   */
  releaseTimes(): void {
    if (this.times === null) return;
    this.times = null;
    this.dirty = true;
  }

  save(): { state: string; times: Buffer | null } {
    const saved: SavedWindow = { counts: this.counts, delays: this.delays.toJSON(), timesComplete: this.timesComplete, ...(this.times === null ? { timesReleased: true } : {}) };
    return { state: JSON.stringify(saved), times: this.times?.toBuffer() ?? null };
  }

  static restore(start: number, state: string, times: Buffer | null): DeviceWindow {
    const saved = JSON.parse(state) as SavedWindow;
    const w = new DeviceWindow(start);
    w.counts = { ...w.counts, ...saved.counts };
    w.delays = DelayHistogram.fromJSON(saved.delays);
    if (times) w.times = TimeSet.fromBuffer(start, times);
    else if (saved.timesReleased) w.times = null;
    w.timesComplete = saved.timesComplete && (w.times === null || w.times.size === w.counts.received);
    w.dirty = false;
    return w;
  }
}
