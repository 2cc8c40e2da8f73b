import type { NatsConnection } from 'nats';
import { deviceKey, type DeviceRef, type TelemetryBatch } from '../contract/index.js';
import type { Logger } from '../observability/index.js';
import { viewSubject } from './subjects.js';
import type { ViewMetrics } from './view-metrics.js';

/**
 * The live summary of one device (core NATS, `pp.view.v1.live.{site}.{line}.{device}`): the
 * newest value of each metric that changed since the last summary, stamped with the newest
 * sample time. Compact on purpose: the subject names the device, and a device sending 100
 * samples a second costs one message per interval.
 */
export interface LiveSummary {
  ts: number;
  m: Record<string, number>;
}

/**
 * A worker's live view for API nodes' dashboards: stored batches (pipeline `onStored`) merge into
 * one pending summary per device, sent every `intervalMs`. Core NATS, not JetStream: a summary
 * missed is replaced by the next one, and an API node that (re)starts has every active device's
 * values within one interval. History (`historical`) is not live, as in the live hub.
 */
export class LivePublisher {
  private readonly pending = new Map<string, { ref: DeviceRef; summary: LiveSummary }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    intervalMs: number,
    private readonly metrics: ViewMetrics,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  accept(batch: TelemetryBatch): void {
    if (batch.historical || batch.samples.length === 0) return;
    const key = deviceKey(batch);
    let p = this.pending.get(key);
    if (!p) {
      p = { ref: { site: batch.site, line: batch.line, device: batch.device }, summary: { ts: -Infinity, m: {} } };
      this.pending.set(key, p);
    }
    for (const s of batch.samples) {
      if (s.ts < p.summary.ts) continue; // an older sample must not overwrite a newer value
      Object.assign(p.summary.m, s.m);
      p.summary.ts = s.ts;
    }
  }

  flush(): void {
    if (this.pending.size === 0 || this.nc.isClosed()) return;
    try {
      for (const { ref, summary } of this.pending.values()) {
        if (summary.ts === -Infinity) continue;
        this.nc.publish(viewSubject('live', ref), JSON.stringify(summary));
        this.metrics.published.inc({ kind: 'live' });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'live summaries not published');
    }
    this.pending.clear();
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
