import type { JetStreamClient } from 'nats';
import type { Logger } from '../observability/index.js';
import type { DeviceQualityStatus } from '../quality/index.js';
import { viewSubject } from './subjects.js';
import type { ViewMetrics } from './view-metrics.js';

/** A device's status as published: the worker's figures and when it said so. */
export interface PublishedStatus extends DeviceQualityStatus {
  reportedAt: number;
}

/**
 * A worker's device status (completeness now: online, last seen, missing messages) for API
 * nodes, in the stream PP_VIEW_STATE, which keeps each device's newest message. Every `everyMs`
 * the devices whose status changed since it was last published are published (at most one
 * message per device per round, however many batches arrived), so an API node's figures are at
 * most one round old. The windowed completeness figures need no publishing: every worker writes
 * them to InfluxDB, which API nodes read.
 */
export class QualityPublisher {
  /** What was last published per subject (the status as JSON). */
  private readonly sent = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly statuses: () => DeviceQualityStatus[],
    everyMs: number,
    private readonly metrics: ViewMetrics,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.publish(), everyMs);
    this.timer.unref();
  }

  /** One round (never rejects; a round still running is not overlapped). */
  async publish(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const due = this.statuses()
        .map((status) => ({ status, subject: viewSubject('quality', status), json: JSON.stringify(status) }))
        .filter((s) => this.sent.get(s.subject) !== s.json);
      await Promise.all(
        due.map(async ({ status, subject, json }) => {
          const body: PublishedStatus = { ...status, reportedAt: now };
          await this.js.publish(subject, JSON.stringify(body));
          this.sent.set(subject, json);
          this.metrics.published.inc({ kind: 'quality' });
        }),
      );
    } catch (err) {
      // Not marked as sent: the next round tries again.
      this.log.warn({ err: (err as Error).message }, 'device status not published to NATS');
    } finally {
      this.running = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 20));
    await this.publish();
  }
}
