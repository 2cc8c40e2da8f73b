import type { Alert, AlertManager, AlertNotifier, AlertTransition } from '../alerts/index.js';
import type { Logger } from '../observability/index.js';
import { mergeTransition, type PublishedTransition } from './alert-merge.js';
import type { ViewMetrics } from './view-metrics.js';

/**
 * An API node's alerts: each transition workers published is merged into the ordinary alert
 * manager and store (so `GET /api/v1/alerts`, reports and acknowledgements work unchanged), and
 * what it changed is told to this node's notifiers (live hub, webhooks).
 *
 * Order matters for webhooks: the notifiers hear first (the webhook outbox is written durably,
 * and it ignores an idempotency key it already holds), then the alerts are saved, then (by the
 * caller) the stream messages are acked. A crash between any two steps makes the messages come
 * again and be merged again: at least once, never lost.
 *
 * Messages are applied in batches (what the consumer has delivered at once): one outbox write
 * and one alert store transaction per batch instead of two fsyncs per message, which is what
 * bounds how fast a new or restarted node catches up. Within a batch each message is merged
 * against the alerts as the messages before it left them.
 */
export class AlertView {
  constructor(
    private readonly alerts: AlertManager,
    private readonly notifier: AlertNotifier,
    private readonly metrics: ViewMetrics,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** `seqs`: each body's sequence in the alert stream, told with its transitions (a shared webhook subscription takes the later ones only). */
  apply(bodies: readonly (Uint8Array | string)[], seqs?: readonly number[]): void {
    const byId = new Map<string, Alert>();
    const openByKey = new Map<string, Alert | null>();
    const saves: Alert[] = [];
    const transitions: AlertTransition[] = [];
    const now = this.clock();
    for (const [i, body] of bodies.entries()) {
      const msg = this.parse(body);
      if (!msg) continue;
      const local = byId.get(msg.alert.id) ?? this.alerts.get(msg.alert.id);
      const openForKey = openByKey.has(msg.alert.key) ? openByKey.get(msg.alert.key)! : this.alerts.openFor(msg.alert.key);
      const outcome = mergeTransition(msg, local, openForKey, now);
      if (outcome.save.length === 0) {
        this.metrics.ignored.inc({ kind: 'alerts' });
        continue;
      }
      for (const a of outcome.save) {
        byId.set(a.id, a);
        if (a.state === 'open') openByKey.set(a.key, a);
        else if ((openByKey.has(a.key) ? openByKey.get(a.key) : this.alerts.openFor(a.key))?.id === a.id) openByKey.set(a.key, null);
      }
      saves.push(...outcome.save);
      const streamSeq = seqs?.[i];
      transitions.push(...(streamSeq === undefined ? outcome.transitions : outcome.transitions.map((t) => ({ ...t, streamSeq }))));
      this.metrics.applied.inc({ kind: 'alerts' });
    }
    if (saves.length === 0) return;
    this.notifier.notify(transitions);
    this.alerts.mirror(saves);
  }

  private parse(body: Uint8Array | string): PublishedTransition | null {
    try {
      const msg = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as PublishedTransition;
      if (msg.v !== 1 || typeof msg.alert?.id !== 'string' || typeof msg.alert.key !== 'string') throw new Error('not a v1 alert transition');
      return msg;
    } catch (err) {
      // Acked and skipped: a message no API node can read must not stop the ones after it.
      this.metrics.ignored.inc({ kind: 'alerts' });
      this.log.error({ err: (err as Error).message }, 'unreadable alert transition in the view stream; skipped');
      return null;
    }
  }
}
