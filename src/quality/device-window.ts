import { DelayHistogram } from './delay-histogram.js';
import { TimeSet, type ByteMeter } from './time-set.js';

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
  /** Its timestamps were let go (releaseTimes): the window closed, or the timestamp budget was reached. */
  timesReleased?: boolean;
}

export class DeviceWindow {
  counts: WindowCounts = { received: 0, duplicates: 0, outOfOrder: 0, duplicateMessages: 0, lateMessages: 0, timed: 0, onTime: 0, onlineMs: 0, observedMs: 0, intervalMs: null };
  delays = new DelayHistogram();
  /** Null once let go (releaseTimes). */
  times: TimeSet | null;
  timesComplete = true;
  /** Changed since it was last saved and written. */
  dirty = true;

  /** `meter`: where its timestamps' bytes are counted (timestamp-budget.ts). */
  constructor(
    readonly start: number,
    meter: ByteMeter | null = null,
  ) {
    this.times = new TimeSet(start, meter);
  }

  /**
   * Let its timestamps go: the window closed, or every window's timestamps together reached the
   * budget (timestamp-budget.ts). Held, they cost up to 2.5 bytes per sample (time-set.ts), which
   * over the late horizon (up to two days) grows with the input rate. From here on a sample into
   * this window is a duplicate only when its message's `seq` was already received (redelivery,
   * resend); late samples of a backlog arrive in messages whose `seq` filled a gap, and count.
   * A copy under a new `seq`, or from a source without `seq`, counts again (docs/completeness.md).
   */
  releaseTimes(): void {
    if (this.times === null) return;
    this.times.release();
    this.times = null;
    this.dirty = true;
  }

  save(): { state: string; times: Buffer | null } {
    const saved: SavedWindow = { counts: this.counts, delays: this.delays.toJSON(), timesComplete: this.timesComplete, ...(this.times === null ? { timesReleased: true } : {}) };
    return { state: JSON.stringify(saved), times: this.times?.toBuffer() ?? null };
  }

  static restore(start: number, state: string, times: Buffer | null): DeviceWindow {
    const saved = JSON.parse(state) as SavedWindow;
    const w = new DeviceWindow(start); // counted in a meter once its tracker is adopted (TimestampBudget.adopt)
    w.counts = { ...w.counts, ...saved.counts };
    w.delays = DelayHistogram.fromJSON(saved.delays);
    if (times) {
      try {
        w.times = TimeSet.fromBuffer(start, times);
      } catch {
        // Timestamps cut short (a damaged file): the window goes on without them, telling
        // duplicates by seq as a window that let them go, rather than the stage not starting.
        w.times = null;
        w.timesComplete = false;
      }
    } else if (saved.timesReleased) w.times = null;
    w.timesComplete &&= saved.timesComplete && (w.times === null || w.times.size === w.counts.received);
    w.dirty = false;
    return w;
  }
}
