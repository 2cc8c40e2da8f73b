import type { Metrics } from '../observability/index.js';
import type { AlertManager } from './alert-manager.js';
import type { AlertNotifier } from './notifier.js';
import type { AlertTransition, AnomalyEvent } from './types.js';

/**
 * How a stage raises alerts (analytics' detectors, data completeness' checks): events go to the
 * alert manager (one SQLite transaction), and the transitions it decides are counted and handed
 * to every notifier (history in InfluxDB, MQTT, live view, webhooks). A failure of the alert
 * manager is thrown to the stage, which logs it in its own terms and carries on.
 */
export class AlertRaiser {
  constructor(
    private readonly alerts: AlertManager,
    private readonly notifier: AlertNotifier,
    private readonly metrics: Metrics,
  ) {}

  raise(events: readonly AnomalyEvent[]): void {
    if (events.length > 0) this.publish(this.alerts.handle(events));
  }

  /** Time-driven alert work (flapping holds, stale alerts). */
  tick(): void {
    this.publish(this.alerts.tick());
  }

  private publish(transitions: AlertTransition[]): void {
    if (transitions.length === 0) return;
    for (const t of transitions) if (t.type !== 'updated') this.metrics.alertTransitionsTotal.inc({ type: t.type, category: t.alert.category });
    this.notifier.notify(transitions);
  }
}
