import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_LIMITS, type DecodeLimits } from '../contract/index.js';
import { ENV_VARS, SECRET_ENV_VARS, type EnvVarName } from './env-schema.js';
import type { QualityConfig } from '../quality/config.js';
import { leaseSafetyMs } from '../sources/nats/partition-leases.js';

type Env = { [K in EnvVarName]: z.output<(typeof ENV_VARS)[K]['schema']> };

export type InfluxConfig =
  | { kind: 'v1'; url: string; database: string; username?: string; password?: string; timeoutMs: number }
  | { kind: 'v2'; url: string; org: string; bucket: string; token: string; timeoutMs: number };

export interface Config {
  /** Where to listen, and the limits of src/api/http-limits.ts. */
  http: { host: string; port: number; headersTimeoutMs: number; requestTimeoutMs: number; maxConnections: number };
  logLevel: Env['PP_LOG_LEVEL'];
  /** V8's --heap-growing-percent (0: V8's own heuristics), applied by main.ts. */
  heapGrowthPercent: number;
  /** Old generation budget in MiB (0: none), applied by main.ts (src/app/heap.ts). */
  heapBudgetMiB: number;
  dataDir: string;
  mqtt: {
    /** Undefined: run the embedded broker. */
    url?: string;
    username?: string;
    password?: string;
    clientId: string;
    sharedGroup?: string;
    receiveMaximum: number;
    /** 0: no byte limit. */
    windowBytes: number;
    sessionExpirySeconds: number;
    deadLetterPrefix: string;
    embedded: { host: string; port: number };
  };
  /** all: one process does everything; worker / api: one side of a NATS fleet (src/view/, docs/scale-out.md). */
  role: 'all' | 'worker' | 'api';
  /** The read side a worker publishes for API nodes (src/view/). */
  view: { liveIntervalMs: number; alertRetentionMs: number };
  /** mqtt: the MQTT source; nats: the JetStream source (src/sources/nats/, docs/scale-out.md). */
  source: 'mqtt' | 'nats';
  nats: {
    servers: string[];
    username?: string;
    password?: string;
    workerId: string;
    partitions: number;
    window: number;
    ackWaitMs: number;
    leaseTtlMs: number;
    leaseRenewMs: number;
    replicas: number;
    deadLetterPrefix: string;
    stateSaveMs: number;
    tlsCaFile?: string;
  };
  influx: {
    api: 'v1' | 'v2';
    /** Undefined: start a managed influxd when allowed and found, else run without storage. */
    url?: string;
    managed: boolean;
    database: string;
    username?: string;
    password?: string;
    org: string;
    bucket: string;
    token?: string;
    timeoutMs: number;
  };
  writer: { maxBatchLines: number; flushIntervalMs: number; lingerMs: number; concurrency: number; shutdownTimeoutMs: number; maxPendingLines: number; spoolAfterMs: number };
  spool: { enabled: boolean; dir: string; maxBytes: number; segmentBytes: number; replayLinesPerSecond: number };
  limits: DecodeLimits;
  /** Line protocol ingest: which tags name site/line/device, which measurements pass field names through. */
  lineProtocol: { siteTags: string[]; lineTags: string[]; deviceTags: string[]; passthroughMeasurements: string[] };
  simulator: { enabled: boolean; sites: number; lines: number; machines: number; seed: number; intervalMs: number };
  /** Sparkplug B source (src/sources/sparkplug/). `groups` empty: every group. */
  sparkplug: { enabled: boolean; clientId: string; groups: string[]; mappingFile?: string; reorderTimeoutMs: number; hostId?: string };
  analytics: { file?: string; tickMs: number };
  alerts: { flapThreshold: number; flapWindowMs: number; flapQuietMs: number; staleAfterMs: number };
  /** API tokens and roles (src/auth/). */
  auth: { mode: 'required' | 'off'; bootstrapAdminToken?: string; maxFailures: number; failureWindowMs: number; metricsAuth: 'token' | 'off' };
  /** Audit log (src/audit/): entries older than this are pruned; 0 keeps them forever. */
  audit: { retentionMs: number };
  /** Webhook delivery from the outbox (src/webhooks/). */
  webhooks: { timeoutMs: number; retryBaseMs: number; retryMaxMs: number; deadAfterMs: number; concurrency: number; sharedSecretKey: string | null };
  /** Live hub (src/live/): WebSocket limits. */
  live: { telemetryIntervalMs: number; maxBufferedBytes: number; maxMessageBytes: number; maxSubscriptions: number; maxClients: number; pingIntervalMs: number };
  /** Data completeness (src/quality/); utcOffsetMs comes from the energy configuration at start-up. */
  quality: { enabled: boolean } & Omit<QualityConfig, 'utcOffsetMs'>;
}

/** A configuration problem, naming each variable at fault. Start-up stops with this message. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Read and validate configuration from environment variables (empty strings count as unset). */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const problems: { variable: string; message: string }[] = [];
  const env: Record<string, unknown> = {};
  for (const [name, { schema }] of Object.entries(ENV_VARS)) {
    const raw = source[name];
    const parsed = (schema as z.ZodType).safeParse(raw === '' ? undefined : raw);
    if (parsed.success) env[name] = parsed.data;
    // A secret's value is never echoed, not even a malformed one (it may be a real secret mistyped).
    else problems.push({ variable: name, message: `${parsed.error.issues.map((i) => i.message).join('; ')} (got ${(SECRET_ENV_VARS as readonly string[]).includes(name) ? '[redacted]' : JSON.stringify(raw)})` });
  }
  for (const name of Object.keys(source)) {
    if (name.startsWith('PP_') && !(name in ENV_VARS)) problems.push({ variable: name, message: 'unknown variable (misspelt?)' });
  }
  const e = env as Env;
  if (problems.length === 0 && e.PP_INFLUX_API === 'v2' && e.PP_INFLUX_URL && !e.PP_INFLUX_TOKEN) {
    problems.push({ variable: 'PP_INFLUX_TOKEN', message: 'required when PP_INFLUX_API=v2' });
  }
  if (problems.length === 0 && e.PP_HTTP_HEADERS_TIMEOUT_MS > e.PP_HTTP_REQUEST_TIMEOUT_MS) {
    problems.push({ variable: 'PP_HTTP_HEADERS_TIMEOUT_MS', message: `must be at most PP_HTTP_REQUEST_TIMEOUT_MS (${e.PP_HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request` });
  }
  // Two clients with one id would take the session from each other, over and over.
  if (problems.length === 0 && e.PP_SPARKPLUG_ENABLED && e.PP_SPARKPLUG_CLIENT_ID === e.PP_MQTT_CLIENT_ID) {
    problems.push({ variable: 'PP_SPARKPLUG_CLIENT_ID', message: 'must differ from PP_MQTT_CLIENT_ID' });
  }
  // The Sparkplug source and the simulator speak to an MQTT broker; with NATS there is none of ours.
  if (problems.length === 0 && e.PP_SOURCE === 'nats' && e.PP_SPARKPLUG_ENABLED) problems.push({ variable: 'PP_SPARKPLUG_ENABLED', message: 'not available with PP_SOURCE=nats (the Sparkplug source reads an MQTT broker)' });
  if (problems.length === 0 && e.PP_SOURCE === 'nats' && e.PP_SIMULATOR) problems.push({ variable: 'PP_SIMULATOR', message: 'not available with PP_SOURCE=nats (run the edge agent against NATS\'s MQTT listener instead)' });
  // A worker publishes its read side to NATS and an API node reads it there: both need the fleet's NATS.
  if (problems.length === 0 && e.PP_ROLE !== 'all' && e.PP_SOURCE !== 'nats') problems.push({ variable: 'PP_ROLE', message: `PP_ROLE=${e.PP_ROLE} works through NATS (workers publish alerts, status and live values there; API nodes read them): set PP_SOURCE=nats and PP_NATS_URL, or use PP_ROLE=all for one process (docs/scale-out.md)` });
  if (problems.length === 0 && e.PP_ROLE === 'api' && e.PP_MQTT_URL) problems.push({ variable: 'PP_MQTT_URL', message: 'not used with PP_ROLE=api: an API node has no telemetry source (workers ingest)' });
  if (problems.length === 0 && e.PP_NATS_LEASE_RENEW_MS * 2 + leaseSafetyMs(e.PP_NATS_LEASE_TTL_MS) >= e.PP_NATS_LEASE_TTL_MS) {
    problems.push({ variable: 'PP_NATS_LEASE_RENEW_MS', message: `must be under (PP_NATS_LEASE_TTL_MS - ${leaseSafetyMs(e.PP_NATS_LEASE_TTL_MS)} ms) / 2: a lease must survive one missed renewal` });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    http: { host: e.PP_HTTP_HOST, port: e.PP_HTTP_PORT, headersTimeoutMs: e.PP_HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.PP_HTTP_REQUEST_TIMEOUT_MS, maxConnections: e.PP_HTTP_MAX_CONNECTIONS },
    logLevel: e.PP_LOG_LEVEL,
    heapGrowthPercent: e.PP_HEAP_GROWTH_PERCENT,
    heapBudgetMiB: e.PP_HEAP_BUDGET_MIB,
    dataDir: e.PP_DATA_DIR,
    mqtt: {
      url: e.PP_MQTT_URL,
      username: e.PP_MQTT_USERNAME,
      password: e.PP_MQTT_PASSWORD,
      clientId: e.PP_MQTT_CLIENT_ID,
      sharedGroup: e.PP_MQTT_SHARED_GROUP,
      receiveMaximum: e.PP_MQTT_RECEIVE_MAXIMUM,
      windowBytes: e.PP_MQTT_WINDOW_BYTES,
      sessionExpirySeconds: e.PP_MQTT_SESSION_EXPIRY_S,
      deadLetterPrefix: e.PP_MQTT_DEAD_LETTER_PREFIX,
      embedded: { host: e.PP_MQTT_EMBEDDED_HOST, port: e.PP_MQTT_EMBEDDED_PORT },
    },
    role: e.PP_ROLE,
    view: { liveIntervalMs: e.PP_VIEW_LIVE_INTERVAL_MS, alertRetentionMs: e.PP_VIEW_ALERT_RETENTION_DAYS * 86_400_000 },
    source: e.PP_SOURCE,
    nats: {
      servers: e.PP_NATS_URL,
      username: e.PP_NATS_USERNAME,
      password: e.PP_NATS_PASSWORD,
      workerId: e.PP_NATS_WORKER_ID ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${process.pid}`,
      partitions: e.PP_NATS_PARTITIONS,
      window: e.PP_NATS_WINDOW,
      ackWaitMs: e.PP_NATS_ACK_WAIT_S * 1000,
      leaseTtlMs: e.PP_NATS_LEASE_TTL_MS,
      leaseRenewMs: e.PP_NATS_LEASE_RENEW_MS,
      replicas: e.PP_NATS_REPLICAS,
      deadLetterPrefix: e.PP_NATS_DEAD_LETTER_PREFIX,
      stateSaveMs: e.PP_NATS_STATE_SAVE_S * 1000,
      tlsCaFile: e.PP_NATS_TLS_CA_FILE,
    },
    influx: {
      api: e.PP_INFLUX_API,
      url: e.PP_INFLUX_URL,
      managed: e.PP_INFLUX_MANAGED,
      database: e.PP_INFLUX_DATABASE,
      username: e.PP_INFLUX_USERNAME,
      password: e.PP_INFLUX_PASSWORD,
      org: e.PP_INFLUX_ORG,
      bucket: e.PP_INFLUX_BUCKET,
      token: e.PP_INFLUX_TOKEN,
      timeoutMs: e.PP_INFLUX_TIMEOUT_MS,
    },
    writer: {
      maxBatchLines: e.PP_WRITE_BATCH_LINES,
      flushIntervalMs: e.PP_WRITE_FLUSH_MS,
      lingerMs: e.PP_WRITE_LINGER_MS,
      concurrency: e.PP_WRITE_CONCURRENCY,
      shutdownTimeoutMs: e.PP_SHUTDOWN_TIMEOUT_MS,
      maxPendingLines: e.PP_WRITE_MAX_PENDING_LINES,
      spoolAfterMs: e.PP_WRITE_SPOOL_AFTER_MS,
    },
    spool: { enabled: e.PP_SPOOL_ENABLED, dir: e.PP_SPOOL_DIR ?? join(e.PP_DATA_DIR, 'spool'), maxBytes: e.PP_SPOOL_MAX_BYTES, segmentBytes: e.PP_SPOOL_SEGMENT_BYTES, replayLinesPerSecond: e.PP_SPOOL_REPLAY_LINES_PER_S },
    limits: {
      ...DEFAULT_LIMITS,
      maxBytes: e.PP_INGEST_MAX_BYTES,
      maxSamples: e.PP_INGEST_MAX_SAMPLES,
      maxMetricsPerSample: e.PP_INGEST_MAX_METRICS,
      maxFutureSkewMs: e.PP_INGEST_MAX_FUTURE_SKEW_MS,
    },
    lineProtocol: { siteTags: e.PP_LP_SITE_TAG, lineTags: e.PP_LP_LINE_TAG, deviceTags: e.PP_LP_DEVICE_TAG, passthroughMeasurements: e.PP_LP_PASSTHROUGH_MEASUREMENTS },
    analytics: { file: e.PP_ANALYTICS_FILE, tickMs: e.PP_ANALYTICS_TICK_MS },
    alerts: { flapThreshold: e.PP_ALERT_FLAP_THRESHOLD, flapWindowMs: e.PP_ALERT_FLAP_WINDOW_S * 1000, flapQuietMs: e.PP_ALERT_FLAP_QUIET_S * 1000, staleAfterMs: e.PP_ALERT_STALE_AFTER_S * 1000 },
    auth: { mode: e.PP_AUTH, bootstrapAdminToken: e.PP_BOOTSTRAP_ADMIN_TOKEN, maxFailures: e.PP_AUTH_MAX_FAILURES, failureWindowMs: e.PP_AUTH_FAILURE_WINDOW_S * 1000, metricsAuth: e.PP_METRICS_AUTH },
    audit: { retentionMs: e.PP_AUDIT_RETENTION_DAYS * 86_400_000 },
    webhooks: { timeoutMs: e.PP_WEBHOOK_TIMEOUT_MS, retryBaseMs: e.PP_WEBHOOK_RETRY_BASE_MS, retryMaxMs: e.PP_WEBHOOK_RETRY_MAX_MS, deadAfterMs: e.PP_WEBHOOK_DEAD_AFTER_S * 1000, concurrency: e.PP_WEBHOOK_CONCURRENCY, sharedSecretKey: e.PP_WEBHOOK_SHARED_SECRET_KEY ?? null },
    live: { telemetryIntervalMs: e.PP_LIVE_TELEMETRY_INTERVAL_MS, maxBufferedBytes: e.PP_LIVE_MAX_BUFFERED_BYTES, maxMessageBytes: e.PP_LIVE_MAX_MESSAGE_BYTES, maxSubscriptions: e.PP_LIVE_MAX_SUBSCRIPTIONS, maxClients: e.PP_LIVE_MAX_CLIENTS, pingIntervalMs: e.PP_LIVE_PING_INTERVAL_MS },
    quality: {
      enabled: e.PP_QUALITY_ENABLED,
      sampleIntervalMs: e.PP_QUALITY_SAMPLE_INTERVAL_MS ?? null,
      delayLimitMs: e.PP_QUALITY_DELAY_LIMIT_S * 1000,
      silenceMs: e.PP_QUALITY_SILENCE_S * 1000,
      closeAfterMs: e.PP_QUALITY_CLOSE_AFTER_S * 1000,
      lateHorizonMs: e.PP_QUALITY_LATE_HORIZON_H * 3_600_000,
      retireAfterMs: e.PP_QUALITY_RETIRE_AFTER_H * 3_600_000,
      flushMs: e.PP_QUALITY_FLUSH_S * 1000,
      timestampBudgetBytes: e.PP_QUALITY_TIMESTAMP_BUDGET_MIB * 1024 * 1024,
      alerts: {
        siteMinCompletenessPct: e.PP_QUALITY_SITE_MIN_COMPLETENESS_PCT,
        siteWindow: e.PP_QUALITY_ALERT_WINDOW,
        gatewayDelayP95Ms: e.PP_QUALITY_GATEWAY_DELAY_P95_S * 1000,
        delayPeriodMs: e.PP_QUALITY_DELAY_PERIOD_S * 1000,
        offlineAfterMs: e.PP_QUALITY_OFFLINE_ALERT_MIN * 60_000,
      },
    },
    sparkplug: {
      enabled: e.PP_SPARKPLUG_ENABLED,
      clientId: e.PP_SPARKPLUG_CLIENT_ID,
      groups: e.PP_SPARKPLUG_GROUPS ?? [],
      mappingFile: e.PP_SPARKPLUG_MAPPING_FILE,
      reorderTimeoutMs: e.PP_SPARKPLUG_REORDER_TIMEOUT_MS,
      hostId: e.PP_SPARKPLUG_HOST_ID,
    },
    simulator: {
      enabled: e.PP_SIMULATOR ?? (e.PP_MQTT_URL === undefined && e.PP_SOURCE === 'mqtt'),
      sites: e.PP_SIM_SITES,
      lines: e.PP_SIM_LINES,
      machines: e.PP_SIM_MACHINES,
      seed: e.PP_SIM_SEED,
      intervalMs: e.PP_SIM_INTERVAL_MS,
    },
  };
}
