import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseScope } from '../../../src/auth/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { createWebhookMetrics, DeliveryWorker, WebhookStore, type Subscription } from '../../../src/webhooks/index.js';

const DAY = 86_400_000;

describe('delivery worker behind a gate (API nodes sharing delivery)', () => {
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
    worker.setGate({ mayDeliver: () => open, shared: async () => undefined, changed: (keys) => {
        changed.push(...keys);
      } });
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

  it("sends a subscription's next delivery only once the gate has shared the last one's report", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const store = new WebhookStore(':memory:');
    store.createSubscription({ id: 'a', name: null, url, jurisdiction: parseScope('*'), categories: ['safety'], minSeverity: 'info', events: ['opened'], ownerTokenId: null, ownerRole: 'admin', createdAt: 0 }, 'secret-a');
    store.enqueue(['k1', 'k2'].map((key) => ({ subscriptionId: 'a', idempotencyKey: key, event: 'alert.opened', alertId: key, body: '{}' })), Date.now(), 30 * DAY);
    // changed() is told at once; shared(k) resolves when the test says the report is in NATS.
    const reports: { keys: readonly string[]; done: () => void }[] = [];
    const shared = new Map<string, () => void>();
    const worker = new DeliveryWorker(store, { timeoutMs: 2000, retryBaseMs: 60_000, retryMaxMs: 60_000, deadAfterMs: 30 * DAY, concurrency: 4 }, createWebhookMetrics(createMetrics().registry, () => store.depth()), createLogger('silent'));
    worker.setGate({
      mayDeliver: () => true,
      changed: (keys) => void reports.push({ keys, done: () => keys.forEach((k) => shared.get(k)?.()) }),
      shared: (key) => new Promise<void>((done) => shared.set(key, done)),
    });
    try {
      worker.start();
      for (let waited = 0; reports.length === 0 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(reports.map((r) => r.keys)).toEqual([['k1']]);
      expect(store.outcome('k1')).toMatchObject({ state: 'delivered' });
      // The report of k1 is not shared yet: k2 waits (a crash now repeats at most k1).
      await new Promise((r) => setTimeout(r, 300));
      expect(received).toEqual(['k1']);
      reports[0]!.done();
      for (let waited = 0; reports.length < 2 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(received).toEqual(['k1', 'k2']);
      expect(reports.map((r) => r.keys)).toEqual([['k1'], ['k2']]);
      reports[1]!.done();
    } finally {
      await worker.stop();
      store.close();
      await new Promise((r) => server.close(r));
    }
  });
});
