import type { JetStreamClient } from 'nats';
import { alertMessage, type Alert, type AlertNotifier, type AlertTransition } from '../alerts/index.js';
import { Coalescer } from '../live/coalescer.js';
import type { Logger } from '../observability/index.js';
import { retryDelayMs } from '../retry/index.js';
import { viewSubject } from './subjects.js';
import type { ViewMetrics } from './view-metrics.js';

export interface AlertPublisherOptions {
  /** An open alert's `updated` transitions are sent at most this often (the newest wins). */
  updateIntervalMs: number;
  /** Most transitions held while JetStream cannot take them; beyond, the oldest `updated` go first. */
  maxQueued: number;
}

interface Queued {
  subject: string;
  body: string;
  msgId: string;
  updated: boolean;
}

const RETRY = { baseMs: 200, maxMs: 5000, jitter: 'full' as const };

/**
 * A worker's alert transitions, published to the stream PP_VIEW_ALERTS for API nodes
 * (docs/scale-out.md). `notify` never blocks the pipeline: transitions queue here, in order, and
 * one publish at a time waits for JetStream's acknowledgement (retried with backoff while NATS is
 * away). The body is the public alert message (`alertMessage`, as on MQTT and webhooks); the
 * message id (`alert id:type:ts`) lets JetStream store a retried publish once, and the API node
 * merges repeats by alert id anyway. `updated` repeats (one per raising sample) are coalesced
 * per alert: API nodes need the newest count and value, not every one.
 */
export class AlertPublisher implements AlertNotifier {
  readonly name = 'view';
  private readonly queue: Queued[] = [];
  private readonly updates: Coalescer<AlertTransition>;
  private pumping: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: AlertPublisherOptions,
    private readonly metrics: ViewMetrics,
    private readonly log: Logger,
  ) {
    this.updates = new Coalescer<AlertTransition>(opts.updateIntervalMs, (_id, t) => this.enqueue(t));
  }

  get queued(): number {
    return this.queue.length;
  }

  notify(transitions: readonly AlertTransition[]): void {
    for (const t of transitions) {
      if (t.type === 'updated') {
        this.updates.offer(t.alert.id, t);
        continue;
      }
      // A held update is older news than this transition: the transition carries the alert as it is now.
      this.updates.cancel(t.alert.id);
      this.enqueue(t);
    }
  }

  /**
   * At start: the worker's open and recently changed alerts as its store has them, so
   * transitions a crash kept from being published reach API nodes (which ignore what they
   * already have). Open ones go as `updated`, resolved ones as `resolved`.
   */
  republish(alerts: readonly Alert[]): void {
    for (const alert of alerts) {
      if (alert.state === 'open') this.enqueue({ type: 'updated', ts: alert.lastSeen, alert });
      else this.enqueue({ type: 'resolved', ts: alert.resolvedAt ?? alert.lastSeen, alert });
    }
  }

  private enqueue(t: AlertTransition): void {
    if (this.closed) return;
    if (this.queue.length >= this.opts.maxQueued) {
      // Queued from the second entry on: the first may be in the middle of its publish.
      const i = this.queue.findIndex((q, k) => k > 0 && q.updated);
      this.queue.splice(i > 0 ? i : 1, 1);
      this.metrics.dropped.inc();
    }
    const msgId = t.type === 'updated' ? `${t.alert.id}:updated:${t.alert.count}:${t.alert.updatedAt}` : `${t.alert.id}:${t.type}:${t.ts}`;
    this.queue.push({ subject: viewSubject('alerts', t.alert), body: JSON.stringify(alertMessage(t)), msgId, updated: t.type === 'updated' });
    this.pumping ??= this.pump().finally(() => (this.pumping = null));
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    while (this.queue.length > 0 && !this.closed) {
      const m = this.queue[0]!;
      try {
        await this.js.publish(m.subject, m.body, { msgID: m.msgId });
        if (this.queue[0] === m) this.queue.shift();
        this.metrics.published.inc({ kind: 'alerts' });
        attempt = 0;
      } catch (err) {
        this.metrics.publishFailures.inc();
        const delay = retryDelayMs(++attempt, RETRY);
        if (attempt === 1 || attempt % 20 === 0) this.log.warn({ err: (err as Error).message, queued: this.queue.length, attempt }, 'alert transition not published to NATS yet; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Send what is queued, waiting at most until `deadline` (epoch ms); held `updated` repeats are dropped. */
  async stop(deadline: number): Promise<void> {
    this.updates.close();
    while (this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.queue.length > 0) this.log.error({ queued: this.queue.length }, 'alert transitions not published to NATS before shutdown; the next start republishes recent alerts');
    this.closed = true;
  }
}
