import type { DeviceTracker } from './device-tracker.js';
import type { DeviceWindow } from './device-window.js';
import type { ByteMeter } from './time-set.js';

/** Shedding goes this far below the limit, so the next shed is not one sample away. */
const LOW_WATER = 0.9;

export interface Shed {
  /** Windows whose timestamps were let go. */
  windows: number;
  /** Bytes they held. */
  bytes: number;
}

/**
 * One limit on the bytes every device window's received timestamps hold together
 * (PP_QUALITY_TIMESTAMP_BUDGET_MIB), so the completeness stage's memory is bounded whatever the
 * input rate. Each TimeSet reports its growth to this meter as it grows (`used`); past the limit,
 * `shed` recounts exactly and lets go of timestamps, oldest hour first and the largest window
 * first within an hour (an older hour gets fewer samples still; the largest frees the most for
 * the fewest windows changed), until 10 % under the limit. A window without timestamps tells
 * duplicates by `seq` alone (DeviceWindow.releaseTimes; docs/completeness.md says what is then
 * counted twice).
 *
 * `used` can run above the truth between recounts (a window evicted or handed over is not always
 * subtracted at once), never below: what is held is at most the limit plus what one burst of
 * messages adds before the next check.
 */
export class TimestampBudget implements ByteMeter {
  used = 0;

  constructor(readonly limitBytes: number) {
    if (!(limitBytes > 0)) throw new RangeError(`the timestamp budget must be positive, not ${limitBytes}`);
  }

  get over(): boolean {
    return this.used > this.limitBytes;
  }

  /** Count `t`'s windows here, and the windows it opens from now on. */
  adopt(t: DeviceTracker): void {
    t.meter = this;
    for (const w of t.windows.values()) w.times?.attach(this);
  }

  /** Recount every window of `devices` exactly (adopting them) and, when over the limit, let timestamps go. */
  shed(devices: Iterable<DeviceTracker>): Shed {
    const held: DeviceWindow[] = [];
    this.used = 0;
    for (const t of devices) {
      t.meter = this;
      for (const w of t.windows.values()) {
        if (w.times === null) continue;
        w.times.countIn(this);
        held.push(w);
      }
    }
    if (!this.over) return { windows: 0, bytes: 0 };
    const out: Shed = { windows: 0, bytes: 0 };
    held.sort((a, b) => a.start - b.start || b.times!.bytes - a.times!.bytes);
    for (const w of held) {
      if (this.used <= LOW_WATER * this.limitBytes) break;
      out.bytes += w.times!.bytes;
      out.windows++;
      w.releaseTimes();
    }
    return out;
  }
}
