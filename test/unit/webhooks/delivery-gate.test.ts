import { describe, expect, it } from 'vitest';
import { parseScope } from '../../../src/auth/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { createWebhookMetrics, DeliveryWorker, WebhookStore, type Subscription } from '../../../src/webhooks/index.js';

const DAY = 86_400_000;

describe('delivery worker behind a closed gate (an API node that does not deliver)', () => {
  it('sends nothing and reports nothing, but still forgets old finished deliveries; opened, it delivers', async () => {
    const store = new WebhookStore(':memory:');
    const sub: Subscription = { id: 'a', name: null, url: 'http://127.0.0.1:9/unreachable', jurisdiction: parseScope('*'), categories: ['safety'], minSeverity: 'info', events: ['opened'], ownerTokenId: null, ownerRole: 'admin', createdAt: 0 };
    store.createSubscription(sub, 'secret-a');
    const entry = (key: string) => ({ subscriptionId: 'a', idempotencyKey: key, event: 'alert.opened', alertId: key, body: '{}' });
    store.enqueue([entry('old')], 0, 30 * DAY);
    store.markDelivered(store.dueHeads(0, [], 1)[0]!.seq, 0, 200);
    store.enqueue([entry('new')], 8 * DAY, 30 * DAY);
    let open = false;
    const changed: string[] = [];
    const worker = new DeliveryWorker(store, { timeoutMs: 200, retryBaseMs: 60_000, retryMaxMs: 60_000, deadAfterMs: 30 * DAY, concurrency: 1 }, createWebhookMetrics(createMetrics().registry, () => store.depth()), createLogger('silent'), () => 8 * DAY);
    worker.setGate({ mayDeliver: () => open, changed: (keys) => changed.push(...keys) });
    worker.start();
    await new Promise((r) => setTimeout(r, 50));
    // The delivered row from 8 days ago is gone (kept 7 days); the pending one was not attempted.
    expect(store.outcome('old')).toBeNull();
    expect(store.outcome('new')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(changed).toEqual([]);
    open = true;
    worker.kick();
    // Port 9 refuses at once: one failed attempt, reported.
    for (let waited = 0; changed.length === 0 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(store.outcome('new')).toMatchObject({ state: 'pending', attempts: 1 });
    expect(changed).toEqual(['new']);
    await worker.stop();
    store.close();
  });
});
