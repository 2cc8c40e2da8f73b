import { connect, type NatsConnection } from 'nats';
import type { AlertStore, AlertNotifier, AlertManager } from '../alerts/index.js';
import type { TokenStore } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { LiveHub } from '../live/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Pipeline } from '../pipeline/index.js';
import type { QualityStage } from '../quality/index.js';
import { AckReader } from './ack-reader.js';
import { AlertPublisher } from './alert-publisher.js';
import { LivePublisher } from './live-publisher.js';
import { QualityPublisher } from './quality-publisher.js';
import { QualityView } from './quality-view.js';
import { TokenSync } from './token-sync.js';
import { ViewReader } from './view-reader.js';
import { createViewMetrics } from './view-metrics.js';
import { ensureViewStreams } from './view-streams.js';

/** How often new and revoked tokens are shared with the fleet. */
const TOKEN_SYNC_MS = 2000;

/** Alert transitions a worker holds while NATS cannot take them (then the oldest `updated` go). */
const MAX_QUEUED_TRANSITIONS = 100_000;

/** A connection of this process's read side (its own, beside the JetStream source's), with the view streams made. */
export async function connectView(config: Config, log: Logger): Promise<{ nc: NatsConnection; connected: () => boolean }> {
  const n = config.nats;
  const nc = await connect({ servers: n.servers, user: n.username, pass: n.password, name: `${n.workerId}-view`, maxReconnectAttempts: -1, reconnectTimeWait: 500 }).catch((err: Error) => {
    throw new Error(`cannot connect to NATS ${n.servers.join(',')}: ${err.message}`, { cause: err });
  });
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      if (s.type === 'reconnect') connected = true;
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ status: s.type, server: s.data }, 'NATS connection (view)');
    }
  })();
  await ensureViewStreams(await nc.jetstreamManager(), { alertRetentionMs: config.view.alertRetentionMs, replicas: n.replicas });
  return { nc, connected: () => connected && !nc.isClosed() };
}

export interface ViewPublishing {
  /** Add to the alert fan-out: every transition goes to API nodes. */
  alerts: AlertNotifier;
  stop(): Promise<void>;
}

/**
 * PP_ROLE=worker: publish this worker's read side for API nodes: alert transitions (and, at
 * start, its open alerts and those changed in the last PP_ALERT_STALE_AFTER_S), live summaries of
 * stored batches, device status; record acknowledgements made elsewhere; share API tokens with the fleet.
 */
export async function startViewPublishing(deps: { config: Config; store: AlertStore; alerts: AlertManager; notifier: AlertNotifier; tokens: TokenStore; pipeline: Pipeline; quality: QualityStage | null; metrics: Metrics; log: Logger }): Promise<ViewPublishing> {
  const { config, log } = deps;
  const { nc } = await connectView(config, log);
  const tokens = await TokenSync.start(nc, deps.tokens, { everyMs: TOKEN_SYNC_MS, replicas: config.nats.replicas }, log);
  const js = nc.jetstream();
  let publisher: AlertPublisher | null = null;
  const metrics = createViewMetrics(deps.metrics.registry, { queued: () => publisher?.queued ?? 0, pending: () => 0 });
  publisher = new AlertPublisher(js, { updateIntervalMs: config.view.liveIntervalMs, maxQueued: MAX_QUEUED_TRANSITIONS }, metrics, log);
  publisher.republish(deps.store.openOrChangedSince(Date.now() - config.alerts.staleAfterMs));
  const live = new LivePublisher(nc, config.view.liveIntervalMs, metrics, log);
  deps.pipeline.onStored((batch) => live.accept(batch));
  const quality = deps.quality ? new QualityPublisher(js, () => deps.quality!.statuses(), config.analytics.tickMs, metrics, log) : null;
  // Acknowledgements made on API nodes: recorded by the worker that holds the alert. From as far
  // back as the republish above reaches, so those made while this worker was down are heard too.
  const acks = new AckReader(deps.alerts, deps.notifier, log);
  await acks.start(js, config.alerts.staleAfterMs);
  return {
    alerts: publisher,
    stop: async () => {
      acks.stop();
      await tokens.stop();
      live.stop();
      await quality?.stop();
      await publisher.stop(Date.now() + 5000);
      await nc.drain().catch(() => undefined);
    },
  };
}

export interface ViewReading {
  quality: QualityView;
  reader: ViewReader;
  /** API nodes tell each other (and their own restarts) of acknowledgements made here through the stream. */
  acknowledgements: AlertNotifier;
  /**
   * Resolutions this node decided itself (stale, flapping gone quiet: the transitions with no
   * stream sequence) go to the stream too, so a node that starts later reads them instead of
   * deciding them again long after, which a webhook subscriber made since would get as news.
   */
  decisions: AlertNotifier;
  connected(): boolean;
  stop(): Promise<void>;
}

/** PP_ROLE=api: build this node's alerts, live hub and device status from what workers publish; share API tokens with the fleet. */
export async function startViewReading(deps: { config: Config; alerts: AlertManager; tokens: TokenStore; notifier: AlertNotifier; live: LiveHub; metrics: Metrics; log: Logger }): Promise<ViewReading> {
  const { config, log } = deps;
  const { nc, connected } = await connectView(config, log);
  const tokens = await TokenSync.start(nc, deps.tokens, { everyMs: TOKEN_SYNC_MS, replicas: config.nats.replicas }, log);
  let reader: ViewReader | null = null;
  const metrics = createViewMetrics(deps.metrics.registry, { queued: () => 0, pending: () => reader?.pending ?? 0 });
  const quality = new QualityView(config.quality.silenceMs);
  reader = new ViewReader({ nc, nodeId: config.nats.workerId, alerts: deps.alerts, notifier: deps.notifier, live: deps.live, quality, metrics, log });
  await reader.start();
  const publisher = new AlertPublisher(nc.jetstream(), { updateIntervalMs: config.view.liveIntervalMs, maxQueued: MAX_QUEUED_TRANSITIONS }, metrics, log);
  const acknowledgements: AlertNotifier = {
    name: 'view-acknowledgements',
    notify: (transitions) => publisher.notify(transitions.filter((t) => t.type === 'acknowledged')),
  };
  const decisions: AlertNotifier = {
    name: 'view-decisions',
    notify: (transitions) => publisher.notify(transitions.filter((t) => t.type === 'resolved' && t.streamSeq === undefined)),
  };
  return {
    quality,
    reader,
    acknowledgements,
    decisions,
    connected,
    stop: async () => {
      await tokens.stop();
      await reader.stop();
      await publisher.stop(Date.now() + 5000);
      await nc.drain().catch(() => undefined);
    },
  };
}
