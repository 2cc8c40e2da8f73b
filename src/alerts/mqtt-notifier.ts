import type { MqttClient } from 'mqtt';
import { deviceTopic } from '../contract/index.js';
import type { Logger } from '../observability/index.js';
import type { AlertNotifier } from './notifier.js';
import type { Alert, AlertTransition } from './types.js';

/** The JSON published on `pp/v1/{site}/{line}/{device}/alerts` and POSTed to webhooks: a public schema, `v` bumps when its shape changes. */
export function alertMessage(t: AlertTransition): { v: 1; type: AlertTransition['type']; ts: number; reason?: string; alert: Alert } {
  return { v: 1, type: t.type, ts: t.ts, ...(t.reason ? { reason: t.reason } : {}), alert: t.alert };
}

/**
 * Publishes every transition except `updated` (repeats would flood subscribers) at QoS 1, not
 * retained: subscribers that need the current state query `GET /api/v1/alerts`.
 */
export class MqttAlertNotifier implements AlertNotifier {
  readonly name = 'mqtt';

  constructor(
    private readonly client: () => MqttClient | null,
    private readonly log: Logger,
  ) {}

  notify(transitions: readonly AlertTransition[]): void {
    const client = this.client();
    if (!client) return;
    for (const t of transitions) {
      if (t.type === 'updated') continue;
      const topic = deviceTopic(t.alert, 'alerts');
      client.publishAsync(topic, JSON.stringify(alertMessage(t)), { qos: 1 }).catch((err: Error) => this.log.warn({ err: err.message, topic }, 'alert publish failed'));
    }
  }
}
