import { deviceKey, type TelemetryBatch } from '../contract/index.js';
import type { TelemetryMessage } from './protocol.js';

/**
 * The newest value of every metric of every device heard since start: what a client gets on
 * subscribing, so a dashboard shows the plant at once instead of after the next sample. One
 * entry per device (ids are validated, so this grows with the plant, not with the traffic).
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
    const key = deviceKey(batch);
    const known = this.devices.get(key);
    const since = known?.ts ?? -Infinity;
    // Hot path (every stored batch): gateways send samples oldest first, so the batch is walked
    // as it is, with no filtered and sorted copy; only an unordered batch is sorted.
    let samples = batch.samples;
    for (let i = 1; i < samples.length; i++) {
      if (samples[i]!.ts < samples[i - 1]!.ts) {
        samples = [...samples].sort((a, b) => a.ts - b.ts);
        break;
      }
    }
    const m: Record<string, number> = {};
    let ts = -Infinity;
    for (const s of samples) {
      if (s.ts <= since) continue;
      for (const name in s.m) m[name] = s.m[name]!;
      ts = s.ts;
    }
    if (ts === -Infinity) return null;
    this.devices.set(key, { type: 'telemetry', site: batch.site, line: batch.line, device: batch.device, ts, m: known ? { ...known.m, ...m } : { ...m } });
    return { type: 'telemetry', site: batch.site, line: batch.line, device: batch.device, ts, m };
  }

  all(): IterableIterator<TelemetryMessage> {
    return this.devices.values();
  }

  get size(): number {
    return this.devices.size;
  }
}
