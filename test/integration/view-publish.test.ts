import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertManager, AlertStore, alertKey, type AlertTransition, type AnomalyEvent } from '../../src/alerts/index.js';
import { createLogger, createMetrics } from '../../src/observability/index.js';
import { LiveHub } from '../../src/live/index.js';
import { AlertPublisher } from '../../src/view/alert-publisher.js';
import { QualityView } from '../../src/view/quality-view.js';
import { ViewReader } from '../../src/view/view-reader.js';
import { createViewMetrics } from '../../src/view/view-metrics.js';
import { ensureViewStreams } from '../../src/view/view-streams.js';
import { VIEW_ALERTS_STREAM, type PublishedTransition } from '../../src/view/index.js';
import { connectAsPlatform, startNats, type NatsProcess } from '../support/nats.js';
import { waitFor } from '../support/ports.js';

/**
 * A worker's alert publisher against a real nats-server: transitions are stored in
 * PP_VIEW_ALERTS in the order they were decided, `updated` repeats coalesced, and nothing decided
 * while NATS was down is lost: it is published once NATS is back. An API node's reader of the
 * stream goes on across a NATS restart.
 */
let nats: NatsProcess;
let nc: NatsConnection;
const log = createLogger('silent');

beforeAll(async () => {
  nats = await startNats();
  nc = await connectAsPlatform(nats);
  await ensureViewStreams(await nc.jetstreamManager(), { alertRetentionMs: 86_400_000, replicas: 1 });
}, 60_000);
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Every message of the stream, in stream order. */
async function stored(): Promise<PublishedTransition[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(VIEW_ALERTS_STREAM);
  const out: PublishedTransition[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(VIEW_ALERTS_STREAM, { seq });
    out.push(m.json<PublishedTransition>());
  }
  return out;
}

function raise(device: string, ts: number, value: number): AnomalyEvent {
  return { kind: value > 100 ? 'raise' : 'clear', ts, value, threshold: 100, message: { en: 'hot', zh: '热' }, site: 'site-1', line: 'line-1', device, rule: 'temperature-high', metric: 'temperature_c', category: 'safety', severity: 'critical' };
}

describe('alert transitions published to PP_VIEW_ALERTS', () => {
  it('keeps their order, coalesces updates, and loses nothing decided while NATS is down', async () => {
    const metrics = createViewMetrics(createMetrics().registry, { queued: () => 0, pending: () => 0 });
    const publisher = new AlertPublisher(nc.jetstream(), { updateIntervalMs: 60_000, maxQueued: 1000 }, metrics, log);
    const manager = new AlertManager(new AlertStore(':memory:'));
    const decide = (events: AnomalyEvent[]): AlertTransition[] => {
      const t = manager.handle(events);
      publisher.notify(t);
      return t;
    };
    // 20 raises of one alert: opened, then updates held back (one per interval), then resolved.
    decide([raise('dev-1', 1000, 120)]);
    for (let i = 1; i < 20; i++) decide([raise('dev-1', 1000 + i, 120 + i)]);
    decide([raise('dev-1', 2000, 50)]);
    await waitFor(async () => (await stored()).length >= 3, 10_000, 'three transitions stored');
    // The first update goes at once, the 18 after it wait for the interval and are overtaken by
    // the resolution: stored are opened, one update, resolved.
    expect((await stored()).map((m) => `${m.type}:${m.alert.count}`)).toEqual(['opened:1', 'updated:2', 'resolved:20']);

    await nats.kill('SIGKILL');
    const down: AlertTransition[] = [];
    for (let d = 2; d <= 6; d++) down.push(...decide([raise(`dev-${d}`, 3000 + d, 130)]), ...decide([raise(`dev-${d}`, 4000 + d, 40)]));
    expect(down).toHaveLength(10);
    // The client holds a publish while it reconnects, until the publish times out: then it is retried.
    await waitFor(async () => ((await metrics.publishFailures.get()).values[0]?.value ?? 0) > 0, 15_000, 'a publish failed and is retried', 250);
    await nats.restart();
    await waitFor(async () => (await stored()).length === 13, 30_000, 'the transitions decided while NATS was down stored', 250);
    const after = (await stored()).slice(3);
    expect(after.map((m) => `${m.alert.key}:${m.type}:${m.ts}`)).toEqual(down.map((t) => `${alertKey('site-1', 'line-1', t.alert.device, 'temperature-high')}:${t.type}:${t.ts}`));
    await publisher.stop(Date.now() + 1000);
  });

  it('an API node reading them goes on after NATS was SIGKILLed and restarted', async () => {
    const registry = createMetrics();
    const metrics = createViewMetrics(registry.registry, { queued: () => 0, pending: () => 0 });
    const alerts = new AlertManager(new AlertStore(':memory:'));
    const told: AlertTransition[] = [];
    const live = new LiveHub({ telemetryIntervalMs: 500, maxBufferedBytes: 1 << 20, maxMessageBytes: 16384, maxSubscriptions: 10, maxClients: 10, pingIntervalMs: 60_000, plantUtcOffsetMinutes: 480 }, registry, log);
    const reader = new ViewReader({ nc, nodeId: 'api-test', alerts, notifier: { name: 'test', notify: (t) => told.push(...t) }, live, quality: new QualityView(120_000), metrics, log });
    await reader.start();
    // What the first test stored: 6 episodes, all resolved.
    await waitFor(() => alerts.query({}).length === 6 && alerts.openCount === 0, 10_000, 'the stream read');
    const before = told.length;
    await nats.kill('SIGKILL');
    await nats.restart();
    const publisher = new AlertPublisher(nc.jetstream(), { updateIntervalMs: 60_000, maxQueued: 1000 }, metrics, log);
    const worker = new AlertManager(new AlertStore(':memory:'));
    publisher.notify(worker.handle([raise('dev-7', 9000, 140)]));
    await waitFor(() => alerts.openFor(alertKey('site-1', 'line-1', 'dev-7', 'temperature-high')) !== null, 30_000, 'the new alert read after the restart', 250);
    expect(told.slice(before).map((t) => `${t.alert.device}:${t.type}`)).toEqual(['dev-7:opened']);
    await publisher.stop(Date.now() + 1000);
    await reader.stop();
    live.close();
  });
});
