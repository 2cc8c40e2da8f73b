/**
 * `npx tsx load-tests/bench/view-catch-up.ts [alerts]`: the read side of a NATS fleet
 * (docs/scale-out.md, One view), against a real nats-server started for the run:
 * - publish: a worker's AlertPublisher storing each alert's opened, 2 updated and resolved
 *   transitions in PP_VIEW_ALERTS (each publish waits for JetStream's acknowledgement);
 * - catch up: a new API node's ViewReader (durable consumer, merge, alert store and webhook
 *   outbox in SQLite files with one subscription matching every alert) reading them all.
 * Transitions per second, median of 3 rounds (each round a fresh stream and a fresh node).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertManager, AlertStore, type AnomalyEvent } from '../../src/alerts/index.js';
import { parseScope, TokenStore } from '../../src/auth/index.js';
import { LiveHub } from '../../src/live/index.js';
import { createLogger, createMetrics } from '../../src/observability/index.js';
import { AlertPublisher } from '../../src/view/alert-publisher.js';
import { QualityView } from '../../src/view/quality-view.js';
import { ViewReader } from '../../src/view/view-reader.js';
import { createViewMetrics } from '../../src/view/view-metrics.js';
import { ensureViewStreams } from '../../src/view/view-streams.js';
import { VIEW_ALERTS_STREAM } from '../../src/view/subjects.js';
import { createWebhookMetrics, Webhooks, WebhookStore } from '../../src/webhooks/index.js';
import { connectAsPlatform, startNats } from '../../test/support/nats.js';
import { median } from './stats.js';

const ALERTS = Number(process.argv[2] ?? 2000);
const ROUNDS = 3;
const log = createLogger('silent');
const nats = await startNats();
const nc = await connectAsPlatform(nats);
const jsm = await nc.jetstreamManager();
const publishRates: number[] = [];
const catchUpRates: number[] = [];

const event = (i: number, ts: number, value: number): AnomalyEvent => ({ kind: value > 100 ? 'raise' : 'clear', ts, value, threshold: 100, message: { en: 'hot', zh: '热' }, site: `site-${i % 10}`, line: 'line-1', device: `dev-${i}`, rule: 'temperature-high', metric: 'temperature_c', category: 'safety', severity: 'critical' });

try {
  for (let round = 0; round < ROUNDS; round++) {
    await jsm.streams.delete(VIEW_ALERTS_STREAM).catch(() => undefined);
    await ensureViewStreams(jsm, { alertRetentionMs: 86_400_000, replicas: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'pp-bench-view-'));
    const metrics = createViewMetrics(createMetrics().registry, { queued: () => 0, pending: () => 0 });

    // A worker decides: every alert opens, is updated twice (each past the coalescing interval), resolves.
    const worker = new AlertManager(new AlertStore(join(dir, 'worker-alerts.sqlite')));
    const publisher = new AlertPublisher(nc.jetstream(), { updateIntervalMs: 0, maxQueued: 1_000_000 }, metrics, log);
    const t0 = performance.now();
    for (const step of [[130, 0], [131, 1], [132, 2], [50, 3]] as const) {
      publisher.notify(worker.handle(Array.from({ length: ALERTS }, (_, i) => event(i, 1_000_000 + step[1] * 1000, step[0]))));
    }
    while (publisher.queued > 0) await new Promise((r) => setTimeout(r, 5));
    const transitions = (await jsm.streams.info(VIEW_ALERTS_STREAM)).state.messages;
    publishRates.push(transitions / ((performance.now() - t0) / 1000));

    // A new API node reads them all.
    const registry = createMetrics();
    const alerts = new AlertManager(new AlertStore(join(dir, 'alerts.sqlite')));
    const tokens = new TokenStore(join(dir, 'auth.sqlite'));
    const webhookStore = new WebhookStore(join(dir, 'webhooks.sqlite'));
    const webhooks = new Webhooks(webhookStore, { timeoutMs: 1000, retryBaseMs: 1000, retryMaxMs: 1000, deadAfterMs: 86_400_000, concurrency: 1 }, createWebhookMetrics(registry.registry, () => ({ pending: 0, oldestAt: null })), log, () => true);
    await webhooks.create({ url: 'http://127.0.0.1:9/hooks', jurisdiction: ['*'], minSeverity: 'info', secret: 'bench-webhook-secret-0123456789' }, { tokenId: null, role: 'admin', scope: parseScope(['*']), name: 'bench' });
    const live = new LiveHub({ telemetryIntervalMs: 500, maxBufferedBytes: 1 << 20, maxMessageBytes: 16384, maxSubscriptions: 100, maxClients: 10, pingIntervalMs: 60_000, plantUtcOffsetMinutes: 480 }, registry, log);
    const reader = new ViewReader({ nc, nodeId: `bench-${round}`, alerts, notifier: webhooks, live, quality: new QualityView(120_000), metrics, log });
    const t1 = performance.now();
    await reader.start();
    while ((await metrics.applied.get()).values.reduce((s, v) => s + v.value, 0) + (await metrics.ignored.get()).values.reduce((s, v) => s + v.value, 0) < transitions) await new Promise((r) => setTimeout(r, 5));
    catchUpRates.push(transitions / ((performance.now() - t1) / 1000));
    const outbox = webhookStore.depth();
    console.log(`round ${round + 1}: ${transitions} transitions; published ${Math.round(publishRates.at(-1)!)}/s, caught up ${Math.round(catchUpRates.at(-1)!)}/s; ${alerts.query({ limit: 100_000 }).length} alerts, webhook outbox ${JSON.stringify(outbox)}`);
    await reader.stop();
    live.close();
    tokens.close();
    webhookStore.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${ALERTS} alerts × 4 transitions, median of ${ROUNDS}: publish ${Math.round(median(publishRates))} transitions/s, API node catch-up ${Math.round(median(catchUpRates))} transitions/s`);
} finally {
  await nc.close();
  await nats.stop();
}
