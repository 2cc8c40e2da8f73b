import { z } from 'zod';
import { DEAD_LETTER_PREFIX } from '../contract/index.js';

/**
 * Every environment variable the platform reads, with its default and meaning. The
 * configuration table of docs/configuration.md is generated from this list (`npm run docs:config`), and the compose test
 * checks compose only sets variables named here, so this is the single source of truth.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z.string().min(1).optional();
/** Sparkplug group ids: MQTT topic levels, so no `/`, `+` or `#`; spaces around commas are trimmed. */
const sparkplugGroups = z
  .string()
  .transform((v) => v.split(',').map((g) => g.trim()))
  .refine((groups) => groups.every((g) => g !== '' && !/[/+#]/.test(g)), 'must be a comma-separated list of Sparkplug group ids (no /, + or #)');
/** A comma-separated list of line protocol names (tag keys, measurements), e.g. `device,host`. */
const tagKeys = z.string().regex(/^[^,\s]+(,[^,\s]+)*$/, 'must be a comma-separated list of names, without spaces').transform((v) => v.split(','));
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.join(' or ')}`);

export const ENV_VARS = {
  PP_HTTP_HOST: { schema: z.string().min(1).default('127.0.0.1'), doc: 'Address the HTTP API listens on (0.0.0.0 in containers).' },
  PP_HTTP_PORT: { schema: int(0, 65535).default(8080), doc: 'HTTP API port (0 = any free port).' },
  PP_HTTP_HEADERS_TIMEOUT_MS: { schema: int(1000, 600_000).default(20_000), doc: 'A client must send its request line and headers within this time, else 408 and the connection is closed (slowloris). At most PP_HTTP_REQUEST_TIMEOUT_MS.' },
  PP_HTTP_REQUEST_TIMEOUT_MS: { schema: int(1000, 3_600_000).default(120_000), doc: 'A client must send its whole request, body included, within this time, else 408 and the connection is closed (slow bodies). 1 MiB over a 100 kbit/s uplink takes about 85 s.' },
  PP_HTTP_MAX_CONNECTIONS: { schema: int(16, 1_000_000).default(2048), doc: 'Most open HTTP connections (kept-alive and WebSocket ones included); beyond, new connections are closed at once.' },
  PP_LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), doc: 'pino log level.' },
  PP_HEAP_GROWTH_PERCENT: { schema: int(0, 1000).default(100), doc: 'Between full garbage collections, V8 lets its old generation grow by at most this % of the data that survived the last one (V8\'s --heap-growing-percent, set at start). Without it (0: V8\'s own choice) V8 lets it grow up to 4 times at high ingest rates, which is most of the platform\'s RSS. A bound proportional to live data: a large fleet gets the room it needs; it adds no heap limit (unlike --max-old-space-size).' },
  PP_HEAP_BUDGET_MIB: { schema: int(0, 1_000_000).default(112), doc: 'The old generation is kept within this many MiB while live data leaves room: after each full collection the growth PP_HEAP_GROWTH_PERCENT allows is cut to what fits (down to 20 % of live data, never lower). Under overload the window and the write queue are full at every collection, so growth in proportion alone reached its highest there. No limit: a fleet whose live data needs more gets it, with more frequent collections. 0: no budget.' },
  PP_DATA_DIR: { schema: z.string().min(1).default('./data'), doc: 'Where the managed InfluxDB and other local state live.' },

  PP_MQTT_URL: { schema: url(['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'tls:']).optional(), doc: 'Broker to consume from. Unset: start the embedded broker (aedes).' },
  PP_MQTT_USERNAME: { schema: optionalString, doc: 'Broker username.' },
  PP_MQTT_PASSWORD: { schema: optionalString, doc: 'Broker password (secret).' },
  PP_MQTT_CLIENT_ID: { schema: z.string().min(1).max(128).default('plantpulse-1'), doc: 'MQTT client id; must be stable across restarts so the persistent session resumes. Give each instance its own.' },
  PP_MQTT_SHARED_GROUP: { schema: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(), doc: 'When set, subscribe as `$share/{group}/pp/v1/#` so N instances share the load (MQTT 5); docs/operations.md, Several instances, says what stays per instance.' },
  PP_MQTT_RECEIVE_MAXIMUM: { schema: int(1, 65535).default(10000), doc: 'The MQTT window: messages held not yet durable (acks are sent only once they are), per consuming connection. Advertised to the broker as MQTT 5 receive-maximum (at most 65,535) and enforced by the platform, which stops reading at it (brokers may ignore it); what is held is written at half of it. Bounds memory and sets throughput. 10,000 with PP_MQTT_WINDOW_BYTES at 4 MiB: 1-sample messages (about 220 bytes) fill a 5,000-line write batch at half the window, while 10-sample ones (about 2 KB) stop at the byte limit, near 2,000 messages.' },
  PP_MQTT_WINDOW_BYTES: { schema: int(0, 1024 * 1024 * 1024).default(4 * 1024 * 1024), doc: 'The MQTT window in payload bytes: reading also stops once the messages held not yet durable carry this many bytes, per consuming connection (0: no byte limit, only PP_MQTT_RECEIVE_MAXIMUM). With it, a large PP_MQTT_RECEIVE_MAXIMUM lets small messages fill storage\'s batches while what large ones hold stays bounded by their size.' },
  PP_MQTT_SESSION_EXPIRY_S: { schema: int(0, 4294967295).default(7 * 24 * 3600), doc: 'MQTT 5 session expiry: how long the broker keeps our session (and queues messages) while we are down.' },
  PP_MQTT_DEAD_LETTER_PREFIX: { schema: z.string().min(1).default(DEAD_LETTER_PREFIX), doc: 'Rejected MQTT messages are republished under this prefix + original topic, with the reasons.' },
  PP_MQTT_EMBEDDED_HOST: { schema: z.string().min(1).default('127.0.0.1'), doc: 'Address of the embedded broker (only when PP_MQTT_URL is unset).' },
  PP_MQTT_EMBEDDED_PORT: { schema: int(0, 65535).default(1883), doc: 'Port of the embedded broker (0 = any free port).' },

  PP_ROLE: { schema: z.enum(['all', 'worker', 'api']).default('all'), doc: 'What this process does (docs/scale-out.md, One view). all: everything in one process, as in the quick start. worker (needs PP_SOURCE=nats): ingest, store, analytics, and publish alert transitions, device status and live summaries to NATS; no webhooks. api (needs PP_SOURCE=nats for the NATS connection): no telemetry source; serves the HTTP API, dashboard, live WebSocket and webhooks from what workers publish and from InfluxDB.' },
  PP_SOURCE: { schema: z.enum(['mqtt', 'nats']).default('mqtt'), doc: 'Where telemetry comes from. mqtt: one broker (embedded or PP_MQTT_URL). nats: the partitions of a NATS JetStream stream, shared with other workers (docs/scale-out.md); gateways publish MQTT to NATS\'s MQTT listener.' },
  PP_NATS_URL: { schema: z.string().transform((v) => v.split(',').map((u) => u.trim())).pipe(z.array(url(['nats:', 'tls:'])).min(1)).default(['nats://127.0.0.1:4222']), doc: 'PP_SOURCE=nats: NATS server(s) to connect to, comma-separated (a cluster\'s seeds).' },
  PP_NATS_USERNAME: { schema: optionalString, doc: 'PP_SOURCE=nats: NATS user (the platform user of deploy/nats/nats.conf).' },
  PP_NATS_PASSWORD: { schema: optionalString, doc: 'PP_SOURCE=nats: NATS password (secret).' },
  PP_NATS_WORKER_ID: { schema: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(), doc: 'PP_SOURCE=nats: this worker\'s id in the partition leases; unique per running worker. With PP_ROLE=api: names the node\'s durable consumer of alert transitions, so keep it across restarts (a restart then resumes where it stopped). Default: host name and process id.' },
  PP_NATS_PARTITIONS: { schema: int(1, 1024).default(12), doc: 'PP_SOURCE=nats: partitions of the telemetry stream; must equal the N of `partition(N,1,2,3)` in the server\'s mapping (deploy/nats/nats.conf).' },
  PP_NATS_WINDOW: { schema: int(1, 65535).default(1000), doc: 'PP_SOURCE=nats: max_ack_pending of each partition consumer: messages delivered and not yet durable, per owned partition.' },
  PP_NATS_ACK_WAIT_S: { schema: int(1, 3600).default(30), doc: 'PP_SOURCE=nats: a message not acknowledged this long after delivery is delivered again (e.g. after its worker was killed). Must exceed the time to durability (PP_WRITE_SPOOL_AFTER_MS).' },
  PP_NATS_LEASE_TTL_MS: { schema: int(1000, 600_000).default(6000), doc: 'PP_SOURCE=nats: partition lease time: a killed worker\'s partitions move after at most this (plus one renew interval).' },
  PP_NATS_LEASE_RENEW_MS: { schema: int(100, 300_000).default(1500), doc: 'PP_SOURCE=nats: how often leases are renewed and ownership rebalanced; less than (TTL - safety margin) / 2.' },
  PP_NATS_REPLICAS: { schema: int(1, 5).default(1), doc: 'PP_SOURCE=nats: replicas of every stream and key-value bucket the platform creates (telemetry, dead letters, leases, device state, tokens, webhooks, audit, the view streams); 3 on a 3-node cluster.' },
  PP_NATS_STATE_SAVE_S: { schema: int(1, 3600).default(15), doc: 'PP_SOURCE=nats: how often each worker saves the state of its devices that changed (detectors, energy windows, open alerts, completeness) to the key-value bucket pp_device_state, for the worker that takes a partition over (docs/scale-out.md). A message that opens or resolves an alert is saved at once, and acknowledged only once that save succeeded.' },
  PP_NATS_TLS_CA_FILE: { schema: optionalString, doc: 'PP_SOURCE=nats: PEM file of the certificate authority that signed the NATS server\'s certificate, for tls:// URLs when it is not a public one (docs/scale-out.md).' },
  PP_NATS_DEAD_LETTER_PREFIX: { schema: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a NATS subject without wildcards').refine((v) => !/^pp\.(v1|part)(\.|$)/.test(v), 'must not lie under pp.v1 or pp.part (the platform would consume its own dead letters)').default('pp.dead-letter.v1'), doc: 'PP_SOURCE=nats: rejected messages are stored in the stream PP_DEAD_LETTER under this prefix + the subject the gateway published, with the reasons.' },
  PP_VIEW_LIVE_INTERVAL_MS: { schema: int(100, 60_000).default(1000), doc: 'PP_ROLE=worker: live summaries (newest value of each metric per device) are published to API nodes this often, and an open alert\'s `updated` transitions at most this often.' },
  PP_VIEW_ALERT_RETENTION_DAYS: { schema: int(1, 3650).default(30), doc: 'How long the stream PP_VIEW_ALERTS keeps alert transitions: an API node started (or given a new data dir) later builds its alert list from this far back.' },

  PP_SPARKPLUG_ENABLED: { schema: bool.default(false), doc: 'Also consume Eclipse Sparkplug B (`spBv1.0/#`, protobuf) from the same broker, with its own MQTT client (docs/sparkplug.md).' },
  PP_SPARKPLUG_CLIENT_ID: { schema: z.string().min(1).max(128).default('plantpulse-sparkplug-1'), doc: 'MQTT client id of the Sparkplug client (persistent session); must differ from PP_MQTT_CLIENT_ID.' },
  PP_SPARKPLUG_GROUPS: { schema: sparkplugGroups.optional(), doc: 'Comma-separated Sparkplug group ids to subscribe to (`spBv1.0/{group}/#` each). Unset: every group.' },
  PP_SPARKPLUG_MAPPING_FILE: { schema: optionalString, doc: 'YAML or JSON file mapping Sparkplug group/edge node/device ids to site/line/device and metric names to PlantPulse metrics. Unset: group → site, edge node → line, device → device, names normalised.' },
  PP_SPARKPLUG_REORDER_TIMEOUT_MS: { schema: int(0, 600_000).default(2000), doc: 'Sparkplug Reorder Timeout: how long a seq gap (or data without a birth) may wait before a rebirth is requested (NCMD `Node Control/Rebirth`).' },
  PP_SPARKPLUG_HOST_ID: { schema: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(), doc: 'When set, act as the Sparkplug primary host application with this id: publish `spBv1.0/STATE/{id}` (retained, with a will), so edge nodes configured for it store and forward while the platform is away.' },

  PP_INFLUX_API: { schema: z.enum(['v1', 'v2']).default('v1'), doc: 'v1: InfluxDB 1.x /write + /query. v2: the 2.x write API via @influxdata/influxdb-client (2.x, 3.x, Cloud, 1.8+).' },
  PP_INFLUX_URL: { schema: url(['http:', 'https:']).optional(), doc: 'InfluxDB base URL. Unset: start `influxd` from PATH with data under PP_DATA_DIR; none on PATH: `npm start` first installs Debian\'s `influxdb` package (as root, or with sudo), and without either stops with the command to run.' },
  PP_INFLUX_MANAGED: { schema: bool.default(true), doc: 'Allow starting (and, with `npm start`, installing) a local influxd when PP_INFLUX_URL is unset. false with no PP_INFLUX_URL: a demo without history (samples are validated and counted, then discarded; the log says so loudly).' },
  PP_INFLUX_DATABASE: { schema: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('plantpulse'), doc: 'v1: database (created when missing).' },
  PP_INFLUX_USERNAME: { schema: optionalString, doc: 'v1: username.' },
  PP_INFLUX_PASSWORD: { schema: optionalString, doc: 'v1: password (secret).' },
  PP_INFLUX_ORG: { schema: z.string().min(1).default('plantpulse'), doc: 'v2: organisation.' },
  PP_INFLUX_BUCKET: { schema: z.string().min(1).default('plantpulse'), doc: 'v2: bucket.' },
  PP_INFLUX_TOKEN: { schema: optionalString, doc: 'v2: API token (secret).' },
  PP_INFLUX_TIMEOUT_MS: { schema: int(100, 600_000).default(10_000), doc: 'Timeout of one write or query request.' },

  PP_WRITE_BATCH_LINES: { schema: int(1, 1_000_000).default(5000), doc: 'Flush a write batch at this many lines...' },
  PP_WRITE_FLUSH_MS: { schema: int(1, 60_000).default(100), doc: '...or, while a write is in flight, once the oldest waiting line has waited this many milliseconds. MQTT acks wait for the flush, so keep it short.' },
  PP_WRITE_LINGER_MS: { schema: int(0, 60_000).default(20), doc: 'With no write in flight, what is waiting is written once its oldest line has waited this many milliseconds (0: at the end of the event-loop turn). Lines that arrive during a write go together in the next one, so batches grow with the load by themselves; the linger keeps a quiet platform from writing a few dozen lines at a time (each write costs the platform and InfluxDB a request).' },
  PP_WRITE_CONCURRENCY: { schema: int(1, 16).default(2), doc: 'Write batches sent to storage at once (InfluxDB alone takes most with two).' },

  PP_WRITE_MAX_PENDING_LINES: { schema: int(1000, 10_000_000).default(200_000), doc: 'Lines held in memory (neither in storage nor in the spool) above which HTTP ingest answers 503 + Retry-After; MQTT is bounded by its window and stops reading from four write batches (or 16 MiB of line protocol) pending.' },
  PP_WRITE_SPOOL_AFTER_MS: { schema: int(100, 600_000).default(5000), doc: 'A storage write slower than this is spooled to disk instead of waited for.' },
  PP_SPOOL_ENABLED: { schema: bool.default(true), doc: 'Spool batches to disk while InfluxDB is down or slow (off: they wait in memory and intake slows down).' },
  PP_SPOOL_DIR: { schema: z.string().min(1).optional(), doc: 'Spool directory. Default: PP_DATA_DIR/spool.' },
  PP_SPOOL_MAX_BYTES: { schema: int(1024 * 1024, Number.MAX_SAFE_INTEGER).default(1024 ** 3), doc: 'Largest spool on disk; when full, intake slows down (MQTT acks withheld, HTTP 503).' },
  PP_SPOOL_SEGMENT_BYTES: { schema: int(1024, 1024 ** 3).default(16 * 1024 ** 2), doc: 'Size at which the spool starts a new segment file (a corrupt segment costs at most this much).' },
  PP_SPOOL_REPLAY_LINES_PER_S: { schema: int(1, 10_000_000).default(50_000), doc: 'Replay rate from the spool once InfluxDB is back (fresh data flows beside it).' },
  PP_SHUTDOWN_TIMEOUT_MS: { schema: int(0, 600_000).default(15_000), doc: 'On SIGTERM/SIGINT, how long to wait for buffered data to reach storage before exiting anyway (unacknowledged MQTT messages are redelivered by the broker).' },

  PP_INGEST_MAX_BYTES: { schema: int(1024, 64 * 1024 * 1024).default(1024 * 1024), doc: 'Largest MQTT message or HTTP body (bytes); larger: rejected (HTTP 413).' },
  PP_INGEST_MAX_SAMPLES: { schema: int(1, 1_000_000).default(10_000), doc: 'Most samples in one message.' },
  PP_INGEST_MAX_METRICS: { schema: int(1, 10_000).default(256), doc: 'Most metrics in one sample.' },
  PP_INGEST_MAX_FUTURE_SKEW_MS: { schema: int(0, 7 * 24 * 3600_000).default(5 * 60_000), doc: 'Samples further than this in the future are rejected.' },

  PP_LP_SITE_TAG: { schema: tagKeys.default(['site']), doc: 'Line protocol (`/write`, `/api/v2/write`): tag key naming the site; a comma-separated list is tried in order. Its value must be a valid id.' },
  PP_LP_LINE_TAG: { schema: tagKeys.default(['line']), doc: 'Line protocol: tag key(s) naming the line.' },
  PP_LP_DEVICE_TAG: { schema: tagKeys.default(['device', 'host']), doc: 'Line protocol: tag key(s) naming the device, first present wins (`host` is the tag Telegraf adds to every metric).' },
  PP_LP_PASSTHROUGH_MEASUREMENTS: { schema: tagKeys.default(['telemetry']), doc: 'Line protocol measurements whose field names are metric names as they are; a field of any other measurement becomes the metric `<measurement>_<field>`.' },

  PP_ANALYTICS_FILE: { schema: optionalString, doc: 'YAML or JSON file with detector rules (device classes, per-device overrides) and energy coefficients (grid factor, steam, per-site). Unset: the built-in defaults (docs/analytics.md).' },
  PP_ANALYTICS_TICK_MS: { schema: int(100, 600_000).default(5000), doc: 'How often time-driven checks run: silence detection, flapping and stale alerts.' },
  PP_ALERT_FLAP_THRESHOLD: { schema: int(2, 1000).default(4), doc: 'This many episodes of one device+rule within PP_ALERT_FLAP_WINDOW_S make the next one flapping (held open instead of churning).' },
  PP_ALERT_FLAP_WINDOW_S: { schema: int(1, 7 * 86_400).default(1800), doc: 'Window for flapping detection.' },
  PP_ALERT_FLAP_QUIET_S: { schema: int(1, 7 * 86_400).default(600), doc: 'A flapping alert resolves once its condition stayed clear this long.' },
  PP_ALERT_STALE_AFTER_S: { schema: int(60, 30 * 86_400).default(2700), doc: 'An open alert nothing was heard about for this long resolves as stale (e.g. the condition ended while the platform was down).' },

  PP_LIVE_TELEMETRY_INTERVAL_MS: { schema: int(100, 60_000).default(500), doc: 'Live hub (`/api/v1/live`): least time between two telemetry messages of one device to one client (500: at most 2 per second; updates in between are merged, latest value wins).' },
  PP_LIVE_MAX_BUFFERED_BYTES: { schema: int(1024, 1024 ** 3).default(1024 ** 2), doc: 'Live hub: a client with more than this many bytes unsent (not reading fast enough) is dropped with close code 4008.' },
  PP_LIVE_MAX_MESSAGE_BYTES: { schema: int(256, 16 * 1024 ** 2).default(16 * 1024), doc: 'Live hub: largest frame a client may send (larger: close code 1009).' },
  PP_LIVE_MAX_SUBSCRIPTIONS: { schema: int(1, 1_000_000).default(1000), doc: 'Live hub: most subscription entries (sites, lines, devices) per connection.' },
  PP_LIVE_MAX_CLIENTS: { schema: int(1, 1_000_000).default(1000), doc: 'Live hub: most connected clients; more are closed with code 1013 (try again later).' },
  PP_LIVE_PING_INTERVAL_MS: { schema: int(100, 600_000).default(30_000), doc: 'Live hub: ping every client this often; one that has not answered the previous ping is dropped.' },

  PP_AUTH: { schema: z.enum(['required', 'off']).default('required'), doc: 'required: every `/api/` route, line protocol write and the live WebSocket need an API token (docs/access.md); if no admin token exists yet, start-up creates one and prints it once in the banner. off: no checks at all, everyone is admin (local demos only; the log warns).' },
  PP_BOOTSTRAP_ADMIN_TOKEN: { schema: z.string().regex(/^ppt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/, 'must be a PlantPulse token, ppt_<12 hex>_<43 base64url> (docs/access.md shows how to make one)').optional(), doc: 'An admin token to accept from the first start (stored hashed; for automated deployments and tests). Unset: the CLI or the banner token.' },
  PP_AUTH_MAX_FAILURES: { schema: int(1, 1_000_000).default(20), doc: 'Invalid tokens one client address (or one token id, from any address) may present within PP_AUTH_FAILURE_WINDOW_S; beyond, further invalid ones answer 429 until the window ends. A valid token is always accepted.' },
  PP_METRICS_AUTH: { schema: z.enum(['token', 'off']).default('token'), doc: 'token: `GET /metrics` needs `Authorization: Bearer <token>` of a monitor (or admin) token, as Prometheus sends with `authorization.credentials_file` (docs/operations.md, Observability). off: /metrics answers anyone who reaches the HTTP port (only behind a network that limits who does). Nothing is checked with PP_AUTH=off.' },
  PP_AUTH_FAILURE_WINDOW_S: { schema: int(1, 86_400).default(60), doc: 'Window for PP_AUTH_MAX_FAILURES.' },

  PP_AUDIT_RETENTION_DAYS: { schema: int(0, 36_500).default(365), doc: 'Audit log entries older than this many days are deleted (at start-up, then hourly; each pruning is itself recorded as an `audit.prune` entry). 0: keep them forever.' },

  PP_WEBHOOK_TIMEOUT_MS: { schema: int(100, 120_000).default(10_000), doc: 'Webhook delivery: a receiver that has not answered within this is a failed attempt (retried).' },
  PP_WEBHOOK_RETRY_BASE_MS: { schema: int(10, 3_600_000).default(1000), doc: 'Webhook delivery: first retry delay; doubles per attempt, with jitter.' },
  PP_WEBHOOK_RETRY_MAX_MS: { schema: int(100, 86_400_000).default(900_000), doc: 'Webhook delivery: longest delay between two attempts (also caps a receiver\'s Retry-After).' },
  PP_WEBHOOK_DEAD_AFTER_S: { schema: int(1, 90 * 86_400).default(3 * 86_400), doc: 'Webhook delivery: a transition not delivered this long after it happened is dead (kept with its last error for the admin; not retried unless redelivered).' },
  PP_WEBHOOK_CONCURRENCY: { schema: int(1, 256).default(8), doc: 'Webhook delivery: subscriptions delivered to at the same time (each one strictly in order).' },
  PP_WEBHOOK_SHARED_SECRET_KEY: { schema: z.string().min(32, 'at least 32 characters').optional(), doc: 'PP_ROLE=api: a key (at least 32 characters, the same on every API node; secret) that encrypts webhook signing secrets (AES-256-GCM) in the NATS key-value bucket pp_webhook_subscriptions. Unset: they are stored there as given, guarded by the NATS servers\' store and the platform user\'s credentials only.' },

  PP_QUALITY_ENABLED: { schema: bool.default(true), doc: 'Data completeness and gateway health (docs/completeness.md): per device expected vs received samples, duplicates, delays, online time; stored in InfluxDB `quality`, at `/api/v1/quality`, with data alerts.' },
  PP_QUALITY_SAMPLE_INTERVAL_MS: { schema: int(1, 86_400_000).optional(), doc: 'Sampling interval every device is expected to keep. Unset: learned per device (median spacing of its recent samples).' },
  PP_QUALITY_DELAY_LIMIT_S: { schema: int(0, 7 * 86_400).default(60), doc: 'A sample is timely when it arrives at most this long after its timestamp (timeliness %).' },
  PP_QUALITY_SILENCE_S: { schema: int(1, 7 * 86_400).default(120), doc: 'A device that sent nothing for this long is offline, whatever its status topic says.' },
  PP_QUALITY_CLOSE_AFTER_S: { schema: int(0, 86_400).default(300), doc: 'A window is final (judged by the site completeness alert) this long after it ends: room for normal upload delay.' },
  PP_QUALITY_LATE_HORIZON_H: { schema: int(1, 30 * 24).default(24), doc: 'Late samples (store-and-forward replays) still count toward their window until this long after the end of their plant-local day; later ones are stored but not counted. Closed windows keep counts, not timestamps (docs/completeness.md).' },
  PP_QUALITY_RETIRE_AFTER_H: { schema: int(1, 365 * 24).default(7 * 24), doc: 'A device silent this long is retired: no longer expected to report, no longer alerted on.' },
  PP_QUALITY_FLUSH_S: { schema: int(1, 3600).default(60), doc: 'How often quality figures are written to InfluxDB (and local state to PP_DATA_DIR/quality.sqlite).' },
  PP_QUALITY_TIMESTAMP_BUDGET_MIB: { schema: int(1, 65_536).default(64), doc: 'Most memory the received timestamps of every device and hour may hold together (they tell a duplicate sample from a new one; about 0.125 bytes per sample for a device on a regular clock, up to 2.5 otherwise). Beyond it the oldest hours\' largest windows let theirs go and tell duplicates by `seq` alone (pp_quality_timestamp_windows_dropped_total; docs/completeness.md).' },
  PP_QUALITY_SITE_MIN_COMPLETENESS_PCT: { schema: z.coerce.number().min(0).max(100).default(95), doc: 'Alert (data, warning) when a site\'s completeness over the last closed window is below this percentage; 0: off. Not judged with PP_SOURCE=nats (docs/scale-out.md).' },
  PP_QUALITY_ALERT_WINDOW: { schema: z.enum(['1h', '1d']).default('1h'), doc: 'The window the site completeness alert judges.' },
  PP_QUALITY_GATEWAY_DELAY_P95_S: { schema: int(0, 7 * 86_400).default(300), doc: 'Alert when a gateway\'s upload delay p95 over one period exceeds this; 0: off. With PP_SOURCE=nats only a device without a known gateway is judged, by its owner (docs/scale-out.md).' },
  PP_QUALITY_DELAY_PERIOD_S: { schema: int(10, 86_400).default(300), doc: 'The arrival-time period over which a gateway\'s upload delay is judged.' },
  PP_QUALITY_OFFLINE_ALERT_MIN: { schema: int(0, 7 * 24 * 60).default(10), doc: 'Alert when a device has been offline (status offline, gateway offline, or silent) this many minutes; 0: off.' },

  PP_SIMULATOR: { schema: bool.optional(), doc: 'Run a simulated factory publishing to the broker. Default: on with the embedded broker, off otherwise.' },
  PP_SIM_SITES: { schema: int(1, 100).default(1), doc: 'Simulated sites.' },
  PP_SIM_LINES: { schema: int(1, 100).default(2), doc: 'Simulated lines per site.' },
  PP_SIM_MACHINES: { schema: int(1, 1000).default(5), doc: 'Simulated machines per line.' },
  PP_SIM_SEED: { schema: int(0, 2 ** 31 - 1).default(42), doc: 'Simulator seed (same seed, same factory).' },
  PP_SIM_INTERVAL_MS: { schema: int(10, 3600_000).default(1000), doc: 'Simulated sampling interval.' },
} as const;

export type EnvVarName = keyof typeof ENV_VARS;

/** Variables whose values must never be logged. */
export const SECRET_ENV_VARS: readonly EnvVarName[] = ['PP_MQTT_PASSWORD', 'PP_NATS_PASSWORD', 'PP_INFLUX_PASSWORD', 'PP_INFLUX_TOKEN', 'PP_BOOTSTRAP_ADMIN_TOKEN', 'PP_WEBHOOK_SHARED_SECRET_KEY'];
