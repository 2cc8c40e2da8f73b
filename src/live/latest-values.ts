import { deviceKey, type Sample, type TelemetryBatch } from '../contract/index.js';
import type { TelemetryMessage } from './protocol.js';

/**
 * The newest value of every metric of every device heard since start: what a client gets on
 * subscribing, so a dashboard shows the plant at once instead of after the next sample. One
 * entry per device (ids are validated, so this grows with the plant, not with the traffic).
 *
 * Entries are updated in place: every stored batch passes through here, and with one-sample
 * messages a copy of the device's values per message was most of the live hub's garbage. What
 * leaves this class for a client (`all()` for a snapshot) must be copied by whoever holds on to it.
 */
export class LatestValues {
  private readonly devices = new Map<string, Entry>();

  /**
   * Take a stored batch in; returns what is new for live clients (the batch's metrics, newest
   * value each, stamped with its newest sample time), or null when the batch holds nothing newer
   * than what was already shown: a gateway replaying its backlog, or batches whose writes
   * completed out of order, must not move a live view back in time.
   */
  update(batch: TelemetryBatch): TelemetryMessage | null {
    if (batch.samples.length === 0) return null;
    const entry = this.entry(batch);
    const kept = entry.values();
    const samples = inTimeOrder(batch.samples);
    const m: Record<string, number> = {};
    let ts = -Infinity;
    for (const s of samples) {
      if (s.ts <= kept.ts) continue;
      for (const name in s.m) m[name] = s.m[name]!;
      ts = s.ts;
    }
    if (ts === -Infinity) return null;
    for (const name in m) kept.m[name] = m[name]!;
    kept.ts = ts;
    return { type: 'telemetry', site: batch.site, line: batch.line, device: batch.device, ts, m };
  }

  /**
   * The same as `update` when nobody is listening: keep the values, build no message, and copy
   * none of them either (Entry.take): what a snapshot needs is found when one is taken.
   */
  record(batch: TelemetryBatch): void {
    if (batch.samples.length === 0) return;
    const entry = this.entry(batch);
    for (const s of inTimeOrder(batch.samples)) entry.take(s);
  }

  /** Every device's entry, as kept (live: copy what you hold on to). */
  *all(): IterableIterator<TelemetryMessage> {
    for (const e of this.devices.values()) yield e.values();
  }

  get size(): number {
    return this.devices.size;
  }

  /** The device's entry; a new device's has no values yet and a time before any sample. */
  private entry(batch: TelemetryBatch): Entry {
    const key = deviceKey(batch);
    let entry = this.devices.get(key);
    if (entry === undefined) {
      entry = new Entry({ type: 'telemetry', site: batch.site, line: batch.line, device: batch.device, ts: -Infinity, m: {} });
      this.devices.set(key, entry);
    }
    return entry;
  }
}

/**
 * One device's newest values: `kept` holds them, except that the newest sample's metrics may
 * still be only in `newest`, the sample's own object (never changed here: the batch is shared
 * with other stages), until `values()` is asked for or a sample comes that lacks one of them.
 *
 * Why: copying every value of every sample into `kept` read each one (a new number box for
 * each, the sample's values being stored unboxed) and wrote it again, 3 % of the thread with
 * one-sample messages and no dashboard connected. A device's samples nearly always carry the
 * same metrics, so the newest sample alone holds the newest value of each: checking that its
 * successor names them all touches no value.
 */
class Entry {
  private newest: Record<string, number> | null = null;

  constructor(private readonly kept: TelemetryMessage) {}

  /** A sample in time order: newer than what is kept, it is the newest now. */
  take(s: Sample): void {
    if (s.ts <= this.kept.ts) return;
    const newest = this.newest;
    if (newest !== null && !namesAll(s.m, newest)) fold(this.kept.m, newest);
    this.newest = s.m;
    this.kept.ts = s.ts;
  }

  /** The newest values, all kept (live: changed in place by later samples). */
  values(): TelemetryMessage {
    if (this.newest !== null) {
      fold(this.kept.m, this.newest);
      this.newest = null;
    }
    return this.kept;
  }
}

/** Whether `m` has every metric `older` has (then `older` holds no newest value any more). */
function namesAll(m: Record<string, number>, older: Record<string, number>): boolean {
  for (const name in older) if (!Object.hasOwn(m, name)) return false;
  return true;
}

function fold(into: Record<string, number>, m: Record<string, number>): void {
  for (const name in m) into[name] = m[name]!;
}

/**
 * Gateways send samples oldest first, so the batch is walked as it is, with no filtered and
 * sorted copy; only an unordered batch is sorted (a copy: the batch is shared with other stages).
 */
function inTimeOrder(samples: Sample[]): Sample[] {
  for (let i = 1; i < samples.length; i++) if (samples[i]!.ts < samples[i - 1]!.ts) return [...samples].sort((a, b) => a.ts - b.ts);
  return samples;
}
