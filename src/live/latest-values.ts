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
  private readonly devices = new Map<string, TelemetryMessage>();

  /**
   * Take a stored batch in; returns what is new for live clients (the batch's metrics, newest
   * value each, stamped with its newest sample time), or null when the batch holds nothing newer
   * than what was already shown: a gateway replaying its backlog, or batches whose writes
   * completed out of order, must not move a live view back in time.
   */
  update(batch: TelemetryBatch): TelemetryMessage | null {
    if (batch.samples.length === 0) return null;
    const entry = this.entry(batch);
    const samples = inTimeOrder(batch.samples);
    const m: Record<string, number> = {};
    let ts = -Infinity;
    for (const s of samples) {
      if (s.ts <= entry.ts) continue;
      for (const name in s.m) m[name] = s.m[name]!;
      ts = s.ts;
    }
    if (ts === -Infinity) return null;
    for (const name in m) entry.m[name] = m[name]!;
    entry.ts = ts;
    return { type: 'telemetry', site: batch.site, line: batch.line, device: batch.device, ts, m };
  }

  /** The same as `update` when nobody is listening: keep the values, build no message. */
  record(batch: TelemetryBatch): void {
    if (batch.samples.length === 0) return;
    const entry = this.entry(batch);
    for (const s of inTimeOrder(batch.samples)) {
      if (s.ts <= entry.ts) continue;
      for (const name in s.m) entry.m[name] = s.m[name]!;
      entry.ts = s.ts;
    }
  }

  /** Every device's entry, as kept (live: copy what you hold on to). */
  all(): IterableIterator<TelemetryMessage> {
    return this.devices.values();
  }

  get size(): number {
    return this.devices.size;
  }

  /** The device's entry; a new device's has no values yet and a time before any sample. */
  private entry(batch: TelemetryBatch): TelemetryMessage {
    const key = deviceKey(batch);
    let entry = this.devices.get(key);
    if (entry === undefined) {
      entry = { type: 'telemetry', site: batch.site, line: batch.line, device: batch.device, ts: -Infinity, m: {} };
      this.devices.set(key, entry);
    }
    return entry;
  }
}

/**
 * Gateways send samples oldest first, so the batch is walked as it is, with no filtered and
 * sorted copy; only an unordered batch is sorted (a copy: the batch is shared with other stages).
 */
function inTimeOrder(samples: Sample[]): Sample[] {
  for (let i = 1; i < samples.length; i++) if (samples[i]!.ts < samples[i - 1]!.ts) return [...samples].sort((a, b) => a.ts - b.ts);
  return samples;
}
