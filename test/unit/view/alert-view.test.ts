import { describe, expect, it } from 'vitest';
import { AlertManager, AlertStore, alertId, alertKey, alertMessage, type Alert, type AlertTransition } from '../../../src/alerts/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { AlertView } from '../../../src/view/alert-view.js';
import { createViewMetrics } from '../../../src/view/view-metrics.js';

const KEY = alertKey('site-1', 'line-1', 'dev-1', 'temperature-high');

function alert(over: Partial<Alert>): Alert {
  const openedAt = over.openedAt ?? 1000;
  return { id: alertId(KEY, openedAt), key: KEY, site: 'site-1', line: 'line-1', device: 'dev-1', rule: 'temperature-high', metric: 'temperature_c', category: 'safety', severity: 'critical', state: 'open', openedAt, lastSeen: openedAt, resolvedAt: null, count: 1, value: 120, peak: 120, threshold: 100, baseline: null, message: { en: 'hot', zh: '热' }, flapping: false, clearPendingSince: null, ackedAt: null, ackedBy: null, ackNote: null, updatedAt: openedAt, ...over };
}

/** A worker's stream: an episode, a second one (a new owner's) while the first is open, repeats and an unreadable message. */
const first = alert({});
const stream: (string | AlertTransition)[] = [
  { type: 'opened', ts: 1000, alert: first },
  { type: 'updated', ts: 2000, alert: alert({ lastSeen: 2000, count: 2, updatedAt: 2000 }) },
  { type: 'opened', ts: 1000, alert: first },
  'not json',
  { type: 'opened', ts: 5000, alert: alert({ openedAt: 5000 }) },
  { type: 'updated', ts: 6000, alert: alert({ openedAt: 5000, lastSeen: 6000, count: 2, updatedAt: 6000 }) },
  { type: 'resolved', ts: 7000, alert: alert({ openedAt: 5000, lastSeen: 6000, count: 2, state: 'resolved', resolvedAt: 7000, updatedAt: 7000 }) },
  { type: 'updated', ts: 2000, alert: alert({ lastSeen: 2000, count: 2, updatedAt: 2000 }) },
];
const bodies = stream.map((m) => (typeof m === 'string' ? m : JSON.stringify(alertMessage(m))));

function node() {
  const alerts = new AlertManager(new AlertStore(':memory:'));
  const told: string[] = [];
  const view = new AlertView(alerts, { name: 'test', notify: (ts) => told.push(...ts.map((t) => `${t.alert.openedAt}:${t.type}@${t.ts}`)) }, createViewMetrics(createMetrics().registry, { queued: () => 0, pending: () => 0 }), createLogger('silent'), () => 99_000);
  return { alerts, told, view };
}

describe('an API node applying alert transitions in batches', () => {
  it('ends as message-by-message application does: same alerts stored, same transitions told', () => {
    const one = node();
    for (const b of bodies) one.view.apply([b]);
    const batched = node();
    batched.view.apply(bodies);
    expect(one.told).toEqual(['1000:opened@1000', '1000:updated@2000', '1000:resolved@5000', '5000:opened@5000', '5000:updated@6000', '5000:resolved@7000']);
    expect(batched.told).toEqual(one.told);
    expect(batched.alerts.query({})).toEqual(one.alerts.query({}));
    expect(batched.alerts.openCount).toBe(0);
    // The whole stream again (a restarted node's replay) changes nothing.
    batched.view.apply(bodies);
    expect(batched.told).toEqual(one.told);
  });
});
