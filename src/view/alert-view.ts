import type { AlertManager, AlertNotifier } from '../alerts/index.js';
import type { Logger } from '../observability/index.js';
import { mergeTransition, type PublishedTransition } from './alert-merge.js';
import type { ViewMetrics } from './view-metrics.js';

/**
 * An API node's alerts: each transition workers published is merged into the ordinary alert
 * manager and store (so `GET /api/v1/alerts`, reports and acknowledgements work unchanged), and
 * what it changed is told to this node's notifiers (live hub, webhooks).
 *
 * Order matters for webhooks: the notifiers hear first (the webhook outbox is written durably,
 * and it ignores an idempotency key it already holds), then the alert is saved, then (by the
 * caller) the stream message is acked. A crash between any two steps makes the message come
 * again and be merged again: at least once, never lost.
 */
export class AlertView {
  constructor(
    private readonly alerts: AlertManager,
    private readonly notifier: AlertNotifier,
    private readonly metrics: ViewMetrics,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  apply(body: Uint8Array | string): void {
    let msg: PublishedTransition;
    try {
      msg = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as PublishedTransition;
      if (msg.v !== 1 || typeof msg.alert?.id !== 'string' || typeof msg.alert.key !== 'string') throw new Error('not a v1 alert transition');
    } catch (err) {
      // Acked and skipped: a message no API node can read must not stop the ones after it.
      this.metrics.ignored.inc({ kind: 'alerts' });
      this.log.error({ err: (err as Error).message }, 'unreadable alert transition in the view stream; skipped');
      return;
    }
    const outcome = mergeTransition(msg, this.alerts.get(msg.alert.id), this.alerts.openFor(msg.alert.key), this.clock());
    if (outcome.save.length === 0) {
      this.metrics.ignored.inc({ kind: 'alerts' });
      return;
    }
    this.notifier.notify(outcome.transitions);
    this.alerts.adopt(outcome.save);
    this.metrics.applied.inc({ kind: 'alerts' });
  }
}
