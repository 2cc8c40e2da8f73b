import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildServer, type ApiDeps, type ReadinessCheck } from '../api/index.js';
import { newInternalCredential, startEmbeddedBroker, type EmbeddedBroker, type InternalCredential } from '../broker/index.js';
import { AuditLog, START_UP_ACTOR, startAuditRetention, tokenDetails } from '../audit/index.js';
import { redactUrl } from '../observability/redact.js';
import type { Config } from '../config/index.js';
import { createMetrics, type Logger, type Metrics } from '../observability/index.js';
import { AlertFanout, AlertManager, AlertRaiser, AlertStore, MqttAlertNotifier, alertPoint, type AlertNotifier } from '../alerts/index.js';
import { AnalyticsEngine, loadAnalyticsConfig } from '../analytics/index.js';
import { AnalyticsStage, Pipeline } from '../pipeline/index.js';
import { BrokerStatsWatcher, MqttSource, NatsSource } from '../sources/index.js';
import type { DeviceStates } from '../sources/nats/index.js';
import { deviceStates } from './device-states.js';
import { startSparkplug, type DeviceStatusRegistry, type SparkplugSource } from '../sources/sparkplug/index.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BatchWriter, Spool } from '../storage/index.js';
import { LiveHub } from '../live/index.js';
import { AccessControl, bootstrapAdmin, createAuthMetrics, TokenStore, TokenWatch } from '../auth/index.js';
import { createWebhookMetrics, Webhooks, WebhookStore } from '../webhooks/index.js';
import { retryDelayMs } from '../retry/index.js';
import { setUpStorage, type StorageSetup } from './storage-setup.js';
import { SITE_LEVEL, startQualityStage } from '../quality/index.js';
import { startFleetSharing, startViewPublishing, startViewReading } from '../view/index.js';
import type { QualityStatusSource } from '../api/quality-routes.js';
import { GATEWAY_LINE, type DeviceRef } from '../contract/index.js';

export interface Platform {
  httpUrl: string;
  mqttUrl: string;
  /** True when the platform runs its own broker (aedes). */
  embeddedBroker: boolean;
  storage: StorageSetup['description'];
  metrics: Metrics;
  /** The Sparkplug B source, when PP_SPARKPLUG_ENABLED: its registry says which devices are online. */
  sparkplug: { registry: DeviceStatusRegistry } | null;
  /** PP_AUTH, and the admin token created at this start (first start on a fresh data dir), for the banner. */
  auth: { mode: 'required' | 'off'; firstAdminToken: string | null };
  /** The credential of this process's own clients of the embedded broker (the simulator), when it checks tokens; else null. */
  mqttCredentials: InternalCredential | null;
  /** Stop intake, flush what is buffered, release everything. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Wires the stages of the data flow together (docs/architecture.md): sources → pipeline →
 * storage, analytics and alerts, live hub, quality, webhooks, plus the HTTP API. Order matters on the way down: intake stops first, then buffers flush, then the
 * services this process started are stopped.
 */
/** Seams for tests. */
export interface PlatformOptions {
  /** Arrival clock of the data completeness stage (default Date.now): tests script hours of plant time with it. */
  qualityClock?: () => number;
  /** Told of every HTTP route as it is registered (test/integration/openapi.test.ts). */
  onRoute?: ApiDeps['onRoute'];
}

export async function startPlatform(config: Config, log: Logger, options: PlatformOptions = {}): Promise<Platform> {
  const metrics = createMetrics();
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'error while stopping');
      }
    }
  };

  try {
    const storage = await setUpStorage(config, log.child({ component: 'storage' }));
    cleanups.push(() => storage.stop());
    await connectWithRetry(() => storage.sink.connect(), log, storage.sink.name);
    // An API node (PP_ROLE=api) reads storage and writes no telemetry: it gets no spool.
    const ingests = config.role !== 'api';
    // No spool without storage: the discard sink never fails.
    const spool = ingests && config.spool.enabled && storage.description.kind !== 'none' ? await Spool.open({ dir: config.spool.dir, maxBytes: config.spool.maxBytes, segmentBytes: config.spool.segmentBytes, logger: log.child({ component: 'spool' }) }) : undefined;
    if (spool) cleanups.push(() => spool.close()); // runs after the writer closed (cleanups run in reverse)
    const writer = new BatchWriter(storage.sink, {
      maxBatchLines: config.writer.maxBatchLines,
      flushIntervalMs: config.writer.flushIntervalMs,
      lingerMs: config.writer.lingerMs,
      maxConcurrentWrites: config.writer.concurrency,
      maxPendingLines: config.writer.maxPendingLines,
      spool,
      spoolAfterMs: config.writer.spoolAfterMs,
      replayLinesPerSecond: config.spool.replayLinesPerSecond,
      rejectedFile: join(config.spool.dir, 'rejected.lp'),
      logger: log.child({ component: 'writer' }),
      observer: {
        onSpooled: (lines) => metrics.spoolAppendedLines.inc(lines),
        onReplayed: (lines) => metrics.spoolReplayedLines.inc(lines),
        onSpoolError: () => metrics.spoolErrors.inc(),
        onFlush: (lines, ms, waitedMs) => {
          metrics.writeBatchLines.observe(lines);
          metrics.writeDuration.observe(ms / 1000);
          metrics.writeWait.observe(waitedMs / 1000);
        },
        onRetry: (err, attempt, delayMs) => {
          metrics.writeRetries.inc();
          if (!spool) log.warn({ err: err.message, attempt, delayMs }, 'storage write failed; retrying');
        },
        onFailure: (err, lines) => {
          metrics.writeFailures.inc();
          log.error({ err: err.message, lines }, 'storage refused a batch');
        },
      },
    });
    cleanups.push(async () => {
      // Bounded: with storage down, unacknowledged MQTT messages stay with the broker and are
      // redelivered after restart; HTTP clients were not answered 200 for them.
      const closed = await Promise.race([writer.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), config.writer.shutdownTimeoutMs).unref())]);
      if (!closed) log.error({ pendingLines: writer.pendingLines }, 'storage did not accept the last batches before the shutdown timeout; they were not acknowledged to their senders');
    });
    metrics.probes.writeQueueLines = () => writer.pendingLines;
    if (spool) metrics.probes.spool = () => spool.stats();

    // Analytics and alerts (docs/analytics.md): rules and coefficients from PP_ANALYTICS_FILE, open
    // alerts in SQLite under the data dir, transitions stored in InfluxDB and published on MQTT.
    const analyticsConfig = loadAnalyticsConfig(config.analytics.file);
    mkdirSync(config.dataDir, { recursive: true });
    const alertStore = new AlertStore(join(config.dataDir, 'alerts.sqlite'));
    cleanups.push(async () => alertStore.close());
    // A NATS worker judges a device's alerts only while it owns the device's partition (taken over
    // with its state, device-states.ts): at start it holds only gateway and site alerts.
    const sharesDevices = ingests && config.source === 'nats';
    const alerts = new AlertManager(alertStore, config.alerts, Date.now, sharesDevices ? (a) => a.line === GATEWAY_LINE || a.line === SITE_LEVEL : undefined);
    const notifier = new AlertFanout(log.child({ component: 'alerts' }));
    // History of transitions is written by whoever decides them: on an API node, the workers did.
    if (ingests) notifier.add({
      name: 'storage',
      notify: (transitions) => {
        const points = transitions.map(alertPoint).filter((p) => p !== null);
        if (points.length > 0) writer.write(points).catch((err: Error) => log.error({ err: err.message }, 'alert history not stored'));
      },
    });
    metrics.probes.alertsOpen = () => alerts.openCount;
    // Both stages that raise alerts (analytics, data completeness) do it through this one raiser.
    const raiser = new AlertRaiser(alerts, notifier, metrics);
    const engine = new AnalyticsEngine(analyticsConfig.rules, analyticsConfig.energy);
    const analytics = new AnalyticsStage(engine, raiser, metrics, log.child({ component: 'analytics' }));
    const pipeline = new Pipeline(writer, metrics, log.child({ component: 'pipeline' }), analytics);
    // Access (src/auth/): API tokens, hashed, in the data dir; the CLI manages the same file.
    const tokens = new TokenStore(join(config.dataDir, 'auth.sqlite'));
    cleanups.push(async () => tokens.close());
    // Connections opened with a token (embedded broker, live WebSockets) end when it is revoked.
    const tokenWatch = new TokenWatch((id) => tokens.isActive(id));
    tokenWatch.start();
    cleanups.push(async () => tokenWatch.stop());
    // Live hub (dashboard WebSocket): stored batches and every alert transition.
    const live = new LiveHub({ ...config.live, plantUtcOffsetMinutes: analyticsConfig.energy.windows.utcOffsetMinutes }, metrics, log.child({ component: 'live' }), tokenWatch);
    cleanups.push(async () => live.close());
    pipeline.onStored((batch) => live.publish(batch));
    // Data completeness (src/quality/): hears stored batches and status messages; state restored before intake starts.
    const qualityConfig = { ...config.quality, utcOffsetMs: analyticsConfig.energy.windows.utcOffsetMinutes * 60_000 };
    const quality = ingests && config.quality.enabled ? await startQualityStage({ config: qualityConfig, dataDir: config.dataDir, history: storage.history, writer, alerts: raiser, metrics, log: log.child({ component: 'quality' }), clock: options.qualityClock, restoredDevicesParked: config.source === 'nats' }) : null;
    if (quality) {
      cleanups.push(() => quality.stop()); // runs after intake stopped, before the writer closes
      pipeline.onStored((batch) => quality.accept(batch));
      pipeline.onStatus((status) => quality.statusParsed(status));
    }
    notifier.add(live);

    // Audit log (src/audit/): API actions, token management (the CLI writes the same file).
    const audit = new AuditLog(join(config.dataDir, 'audit.sqlite'), log.child({ component: 'audit' }));
    cleanups.push(async () => audit.close());
    const auditRetention = startAuditRetention(audit, config.audit.retentionMs, log.child({ component: 'audit' }));
    cleanups.push(async () => auditRetention.stop());
    const tokensBefore = new Set(tokens.list().map((t) => t.id));
    const bootstrapped = bootstrapAdmin(tokens, config.auth.bootstrapAdminToken, log.child({ component: 'auth' }), config.auth.mode === 'required');
    for (const t of tokens.list()) if (!tokensBefore.has(t.id)) audit.record({ actor: START_UP_ACTOR, action: 'token.create', target: t.id, details: tokenDetails(t), source: 'start-up' });
    if (config.auth.mode === 'off') log.warn('PP_AUTH=off: no authentication; anyone who can reach the HTTP port reads and writes everything');
    const access = new AccessControl(tokens, config.auth, createAuthMetrics(metrics.registry), log.child({ component: 'auth' }));
    // Regulator webhooks: a durable outbox filled by this notifier, emptied by its delivery worker.
    const webhookStore = new WebhookStore(join(config.dataDir, 'webhooks.sqlite'));
    cleanups.push(async () => webhookStore.close());
    // Workers send no webhooks: API nodes do, once per transition fleet-wide (docs/scale-out.md).
    const webhooks = config.role === 'worker' ? undefined : new Webhooks(webhookStore, config.webhooks, createWebhookMetrics(metrics.registry, () => webhookStore.depth()), log.child({ component: 'webhooks' }), (id) => tokens.isActive(id));
    if (webhooks) {
      notifier.add(webhooks);
      cleanups.push(() => webhooks.stop());
    }
    // On NATS: one audit log for the fleet; API nodes share subscriptions and delivery (src/view/start-sharing.ts).
    const sharing = config.role === 'all' ? null : await startFleetSharing({ config, audit, webhooks: webhooks ? { webhooks, store: webhookStore } : undefined, log: log.child({ component: 'fleet' }) });
    if (sharing) cleanups.push(() => sharing.stop());
    webhooks?.start();

    const readiness: ReadinessCheck[] = [];
    // Acknowledgements made through the API are told to this fan-out (on an API node, also to the other API nodes).
    let routeNotifier: AlertNotifier = notifier;
    const onStatus = (ref: DeviceRef, payload: Buffer, retained: boolean) => pipeline.status(ref, payload, retained);
    const intake = !ingests ? null : config.source === 'nats' ? startNatsIntake(config, pipeline, metrics, log, onStatus, deviceStates(engine, alerts, quality)) : await startMqttIntake(config, access, tokenWatch, pipeline, metrics, log, onStatus, cleanups);
    const mqttUrl = intake?.url ?? config.nats.servers.join(',');
    if (intake?.kind === 'mqtt') notifier.add(new MqttAlertNotifier(() => intake.source.publisher, log.child({ component: 'alerts' })));
    // A worker saves a device's state for hand-over when one of its alerts opens or resolves.
    if (intake?.kind === 'nats') notifier.add({ name: 'hand-over', notify: (transitions) => intake.source.alertTransitions(transitions) });
    if (intake) {
      const source = intake.source;
      readiness.push({
        name: 'broker',
        check: async () => {
          if (!source.connected) throw new Error(`not connected to ${redactUrl(mqttUrl)}`);
          return { url: redactUrl(mqttUrl), inflight: source.inflight, ...(intake.kind === 'nats' ? { worker: config.nats.workerId, owned: intake.source.owned, workers: intake.source.members } : {}) };
        },
      });
    }
    let qualityStatus: QualityStatusSource | undefined = quality ? (site, line) => quality.statusOf(site, line) : undefined;
    if (config.role === 'worker') {
      // Runs before the writer closes and after intake stopped (cleanups run in reverse): the last transitions go out.
      const publishing = await startViewPublishing({ config, store: alertStore, alerts, notifier, tokens, pipeline, quality, metrics, log: log.child({ component: 'view' }) });
      cleanups.push(() => publishing.stop());
      notifier.add(publishing.alerts);
    }
    if (config.role === 'api') {
      const view = await startViewReading({ config, alerts, tokens, notifier, live, metrics, log: log.child({ component: 'view' }) });
      cleanups.push(() => view.stop());
      sharing?.webhooks?.deliverOnceCaughtUp(() => view.reader.caughtUp);
      notifier.add(view.decisions);
      qualityStatus = (site, line) => view.quality.statusOf(site, line);
      // Stale and flapping alerts resolve here by the workers' rule (same times, so the same
      // transitions and webhook keys as the worker would send): an alert of a worker that died
      // would otherwise stay open. Not while catching up, when news is still on its way.
      const staleTimer = setInterval(() => {
        if (view.reader.caughtUp) raiser.tick();
      }, config.analytics.tickMs);
      staleTimer.unref();
      cleanups.push(async () => clearInterval(staleTimer));
      const fanout = new AlertFanout(log.child({ component: 'alerts' }));
      fanout.add(notifier);
      fanout.add(view.acknowledgements);
      routeNotifier = fanout;
      readiness.push({
        name: 'view',
        check: async () => {
          if (!view.connected()) throw new Error(`not connected to NATS ${redactUrl(mqttUrl)}`);
          // A load balancer should not send users to a node whose alert list is still incomplete.
          if (!view.reader.caughtUp) throw new Error(`catching up: ${view.reader.pending} alert transitions still to read`);
          return { url: redactUrl(mqttUrl), node: config.nats.workerId, alertsPending: view.reader.pending, devices: view.quality.size, deliversWebhooks: sharing?.webhooks?.delivering ?? false };
        },
      });
    }
    readiness.push(
      {
        name: 'storage',
        check: async () => {
          await storage.sink.ping();
          return { ...storage.description, ...(storage.description.url ? { url: redactUrl(storage.description.url) } : {}), pendingLines: writer.pendingLines };
        },
      },
      {
        name: 'spool',
        check: async () => {
          if (!spool) return { enabled: false };
          const s = spool.stats();
          const details = { enabled: true, dir: config.spool.dir, bytes: s.bytes, records: s.records, oldestAgeSeconds: s.oldestAt ? (Date.now() - s.oldestAt) / 1000 : 0, corruptSegments: s.corruptSegments };
          if (writer.saturated) throw new Error(`storage and spool cannot keep up: ${writer.pendingLines} lines held in memory (${JSON.stringify(details)})`);
          return details;
        },
      },
    );
    const app: FastifyInstance = buildServer({ logger: log, metrics, pipeline: ingests ? pipeline : undefined, alerts, notifier: routeNotifier, history: storage.history, energyUtcOffsetMs: analyticsConfig.energy.windows.utcOffsetMinutes * 60_000, limits: config.limits, http: config.http, lineProtocol: config.lineProtocol, readiness, live: { hub: live }, access, webhooks, audit, qualityStatus, qualityFromDevices: config.source === 'nats', role: config.role, onRoute: options.onRoute });
    if (intake) {
      await intake.source.start();
      cleanups.push(() => intake.source.stop());
    }
    if (intake?.brokerStats) {
      const stats = intake.brokerStats;
      stats.start();
      cleanups.push(() => stats.stop());
    }
    const broker = intake?.broker ?? null;
    let sparkplug: SparkplugSource | null = null;
    if (config.sparkplug.enabled && intake?.mqttConfig) {
      sparkplug = await startSparkplug(intake.mqttConfig, mqttUrl, broker !== null, pipeline, metrics, log.child({ component: 'sparkplug' }));
      cleanups.push(() => sparkplug!.stop());
      readiness.push({
        name: 'sparkplug',
        check: async () => {
          if (!sparkplug!.connected) throw new Error(`Sparkplug client not connected to ${redactUrl(mqttUrl)}`);
          return { subscriptions: sparkplug!.subscriptions, inflight: sparkplug!.inflight, devices: sparkplug!.registry.counts() };
        },
      });
    }
    // An API node decides no alerts: its workers do, and it mirrors them.
    if (ingests) analytics.start(config.analytics.tickMs);
    quality?.start(config.analytics.tickMs);
    cleanups.push(async () => analytics.stop());
    await app.listen({ host: config.http.host, port: config.http.port });
    cleanups.push(() => app.close());
    const addr = app.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

    let stopped: Promise<void> | null = null;
    return {
      httpUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
      mqttUrl,
      embeddedBroker: broker !== null,
      storage: storage.description,
      metrics,
      sparkplug: sparkplug ? { registry: sparkplug.registry } : null,
      auth: { mode: config.auth.mode, firstAdminToken: bootstrapped },
      mqttCredentials: intake?.internal ?? null,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Storage may still be starting (compose brings services up together): retry for a while, 1 s
 * doubling to 5 s between tries (with jitter: instances started together do not knock in step),
 * about 70 to 140 s in all.
 */
async function connectWithRetry(connect: () => Promise<void>, log: Logger, name: string, attempts = 30): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await connect();
    } catch (err) {
      if (i >= attempts) throw new Error(`cannot reach storage ${name}: ${(err as Error).message}`, { cause: err });
      log.warn({ err: (err as Error).message, attempt: i }, 'storage not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, retryDelayMs(i, { baseMs: 1000, maxMs: 5000, jitter: 'equal' })));
    }
  }
}

type StatusListener = (ref: DeviceRef, payload: Buffer, retained: boolean) => void;

/** PP_SOURCE=mqtt: the embedded broker when no PP_MQTT_URL is given, and the MQTT source. */
async function startMqttIntake(config: Config, access: AccessControl, tokenWatch: TokenWatch, pipeline: Pipeline, metrics: Metrics, log: Logger, onStatus: StatusListener, cleanups: (() => Promise<void>)[]) {
  let broker: EmbeddedBroker | null = null;
  let mqttUrl = config.mqtt.url;
  // The embedded broker checks API tokens like the HTTP API (PP_AUTH=required); this process's
  // own clients (consumer, alert publisher, Sparkplug host, simulator) use a credential made now.
  let internal: InternalCredential | null = null;
  if (!mqttUrl) {
    const brokerLog = log.child({ component: 'broker' });
    internal = config.auth.mode === 'required' ? newInternalCredential() : null;
    const auth = internal ? { authenticate: (token: string | null, address: string) => access.authenticate(token, address, 'MQTT CONNECT (embedded broker)'), tokenWatch, internal, log: brokerLog } : undefined;
    broker = await startEmbeddedBroker(config.mqtt.embedded.host, config.mqtt.embedded.port, brokerLog, auth);
    cleanups.push(() => broker!.close());
    mqttUrl = broker.url;
  }
  const mqttConfig = internal ? { ...config, mqtt: { ...config.mqtt, username: internal.username, password: internal.password } } : config;
  const source = new MqttSource(
    {
      url: mqttUrl,
      username: mqttConfig.mqtt.username,
      password: mqttConfig.mqtt.password,
      clientId: config.mqtt.clientId,
      sharedGroup: config.mqtt.sharedGroup,
      receiveMaximum: config.mqtt.receiveMaximum,
      windowBytes: config.mqtt.windowBytes || undefined,
      sessionExpirySeconds: config.mqtt.sessionExpirySeconds,
      deadLetterPrefix: config.mqtt.deadLetterPrefix,
      limits: config.limits,
      protocolVersion: broker ? 4 : 5,
      onStatus,
    },
    pipeline,
    metrics,
    log.child({ component: 'mqtt' }),
  );
  // An external broker's own queue (Mosquitto's $SYS statistics): what it drops never reaches us.
  const brokerStats = broker ? null : new BrokerStatsWatcher({ url: mqttUrl, username: mqttConfig.mqtt.username, password: mqttConfig.mqtt.password, clientId: `${config.mqtt.clientId}-broker-stats` }, metrics.registry, log.child({ component: 'broker-stats' }));
  return { kind: 'mqtt' as const, source, broker, brokerStats, internal, mqttConfig: mqttConfig as Config | null, url: mqttUrl };
}

/** PP_SOURCE=nats: the JetStream source, one worker of a fleet (docs/scale-out.md). */
function startNatsIntake(config: Config, pipeline: Pipeline, metrics: Metrics, log: Logger, onStatus: StatusListener, states: DeviceStates) {
  const n = config.nats;
  const source = new NatsSource(
    { servers: n.servers, username: n.username, password: n.password, workerId: n.workerId, partitions: n.partitions, window: n.window, ackWaitMs: n.ackWaitMs, leaseTtlMs: n.leaseTtlMs, leaseRenewMs: n.leaseRenewMs, replicas: n.replicas, deadLetterPrefix: n.deadLetterPrefix, tlsCaFile: n.tlsCaFile, limits: config.limits, onStatus: (ref, payload) => onStatus(ref, payload, false), states, stateSaveMs: n.stateSaveMs },
    pipeline,
    metrics,
    log.child({ component: 'nats' }),
  );
  return { kind: 'nats' as const, source, broker: null, brokerStats: null, internal: null, mqttConfig: null, url: n.servers.join(',') };
}
