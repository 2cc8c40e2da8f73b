import type { Logger } from '../observability/index.js';
import type { AlertTransition } from './types.js';

/**
 * Whoever must hear about alert transitions: storage (history), MQTT, the live hub, webhooks.
 * `notify` must not throw and must not block the pipeline: slow work is the notifier's own
 * business (queue, outbox).
 */
export interface AlertNotifier {
  readonly name: string;
  notify(transitions: readonly AlertTransition[]): void;
}

/** Fan-out that isolates notifiers from each other: one failing never stops the others. */
export class AlertFanout implements AlertNotifier {
  readonly name = 'fanout';
  private readonly notifiers: AlertNotifier[] = [];

  constructor(private readonly log: Logger) {}

  add(n: AlertNotifier): void {
    this.notifiers.push(n);
  }

  notify(transitions: readonly AlertTransition[]): void {
    if (transitions.length === 0) return;
    for (const n of this.notifiers) {
      try {
        n.notify(transitions);
      } catch (err) {
        this.log.error({ err, notifier: n.name }, 'alert notifier failed');
      }
    }
  }
}
