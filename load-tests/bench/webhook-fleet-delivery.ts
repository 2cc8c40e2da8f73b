/**
 * `npx tsx load-tests/bench/webhook-fleet-delivery.ts [alerts]`: webhook delivery on one process
 * against delivery shared by two API nodes (docs/webhooks.md, Several API nodes), with a real
 * nats-server and a real HTTP receiver started for the run. Each alert opens and resolves; four
 * subscriptions take every transition (alerts × 2 × 4 deliveries). Both nodes queue every
 * transition in their own outbox (SQLite, fsynced); on two nodes one delivers, reporting each
 * delivery to the bucket pp_webhook_deliveries, and the other applies the reports.
 * Per mode, median of 3 rounds (fresh outboxes and buckets): deliveries per second from the
 * first transition queued to the last answered 2xx, and, on two nodes, until the other node's
 * outbox shows every delivery as delivered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertManager, AlertStore, type AlertTransition, type AnomalyEvent } from '../../src/alerts/index.js';
import { parseScope } from '../../src/auth/index.js';
import { createLogger, createMetrics } from '../../src/observability/index.js';
import { ensureViewStreams } from '../../src/view/view-streams.js';
import { WebhookSharing } from '../../src/view/webhook-sharing.js';
import { createWebhookMetrics, Webhooks, WebhookStore } from '../../src/webhooks/index.js';
import { connectAsPlatform, startNats } from '../../test/support/nats.js';
import { WebhookReceiver } from '../../test/support/webhook-receiver.js';
import { median } from './stats.js';

const ALERTS = Number(process.argv[2] ?? 300);
const SUBSCRIPTIONS = 4;
const ROUNDS = 3;
const log = createLogger('silent');
const nats = await startNats();
const nc = await connectAsPlatform(nats);
const jsm = await nc.jetstreamManager();
const receiver = await WebhookReceiver.start();
const admin = { tokenId: null, role: 'admin' as const, scope: parseScope(['*']), name: 'bench' };
const DELIVERY = { timeoutMs: 5000, retryBaseMs: 100, retryMaxMs: 1000, deadAfterMs: 86_400_000, concurrency: 8 };

const event = (i: number, ts: number, value: number): AnomalyEvent => ({ kind: value > 100 ? 'raise' : 'clear', ts, value, threshold: 100, message: { en: 'hot', zh: '热' }, site: `site-${i % 10}`, line: 'line-1', device: `dev-${i}`, rule: 'temperature-high', metric: 'temperature_c', category: 'safety', severity: 'critical' });

interface Node {
  store: WebhookStore;
  webhooks: Webhooks;
  sharing: WebhookSharing | null;
}

async function node(dir: string, id: string, shared: boolean): Promise<Node> {
  const store = new WebhookStore(join(dir, `${id}.sqlite`));
  const webhooks = new Webhooks(store, DELIVERY, createWebhookMetrics(createMetrics().registry, () => store.depth()), log, () => true);
  const sharing = shared ? await WebhookSharing.start(nc, webhooks, store, { nodeId: id, alertRetentionMs: 86_400_000, leaseTtlMs: 2000, leaseRenewMs: 400, replicas: 1, secretKey: null }, log) : null;
  webhooks.start();
  return { store, webhooks, sharing };
}

const delivered = (n: Node, ids: string[]) => ids.reduce((sum, id) => sum + n.store.status(id).delivered, 0);
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((r) => setTimeout(r, 2));
};

const results: Record<string, { rate: number[]; otherNode: number[] }> = { 'one process': { rate: [], otherNode: [] }, 'two API nodes': { rate: [], otherNode: [] } };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of Object.keys(results)) {
      const shared = mode === 'two API nodes';
      for (const bucket of ['pp_webhook_subscriptions', 'pp_webhook_deliveries', 'pp_webhook_lease']) await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
      await ensureViewStreams(jsm, { alertRetentionMs: 86_400_000, replicas: 1 });
      const dir = mkdtempSync(join(tmpdir(), 'pp-bench-hooks-'));
      const a = await node(dir, 'api-1', shared);
      a.sharing?.deliverOnceCaughtUp(() => true);
      if (a.sharing) await until(() => a.sharing!.delivering);
      const b = shared ? await node(dir, 'api-2', true) : null;
      b?.sharing?.deliverOnceCaughtUp(() => true);
      const ids: string[] = [];
      for (let s = 0; s < SUBSCRIPTIONS; s++) ids.push((await a.webhooks.create({ url: receiver.url(`/bench-${round}-${s}`), jurisdiction: ['*'], minSeverity: 'info', secret: 'bench-webhook-secret-0123456789' }, admin)).subscription.id);
      if (b) await until(() => b.webhooks.list(admin).length === SUBSCRIPTIONS);
      const manager = new AlertManager(new AlertStore(join(dir, 'alerts.sqlite')));
      const transitions: AlertTransition[] = [];
      for (const [value, step] of [[130, 0], [50, 1]] as const) transitions.push(...manager.handle(Array.from({ length: ALERTS }, (_, i) => event(i, 1_000_000 + step * 1000, value))));
      const total = transitions.filter((t) => t.type !== 'updated').length * SUBSCRIPTIONS;
      const t0 = performance.now();
      // Each API node's alert view tells its webhooks the same transitions.
      for (const n of [a, b]) n?.webhooks.notify(transitions);
      await until(() => delivered(a, ids) === total);
      results[mode]!.rate.push(total / ((performance.now() - t0) / 1000));
      if (b) {
        await until(() => delivered(b, ids) === total);
        results[mode]!.otherNode.push(total / ((performance.now() - t0) / 1000));
      }
      console.log(`round ${round + 1}, ${mode}: ${total} deliveries, ${Math.round(results[mode]!.rate.at(-1)!)}/s${b ? `, the other node up to date at ${Math.round(results[mode]!.otherNode.at(-1)!)}/s` : ''}`);
      for (const n of [b, a]) {
        await n?.sharing?.stop();
        await n?.webhooks.stop();
        n?.store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const [mode, r] of Object.entries(results)) console.log(`${mode}: ${Math.round(median(r.rate))} deliveries/s${r.otherNode.length ? `, the other node's outbox up to date at ${Math.round(median(r.otherNode))}/s` : ''} (median of ${ROUNDS}; ${ALERTS} alerts × 2 transitions × ${SUBSCRIPTIONS} subscriptions)`);
} finally {
  await receiver.close();
  await nc.close();
  await nats.stop();
}
