import { z } from 'zod';
import { auditQuery } from '../../audit/index.js';
import { httpEnvelopeSchema, sampleSchema } from '../../contract/index.js';
import { newSubscriptionSchema } from '../../webhooks/index.js';
import { ackBody, alertListQuery } from '../alert-routes.js';
import { energyQuery } from '../energy-routes.js';
import { qualityQuery } from '../quality-routes.js';
import { alertsCsvQuery, energyReportQuery } from '../report-routes.js';
import { seriesQuery } from '../series-routes.js';
import { deliveriesQuery } from '../subscription-routes.js';

/**
 * What `/docs` says about each route, keyed like the access table (`METHOD route-pattern`).
 * Query and body schemas are the very zod schemas the handlers parse with (exported from the
 * route files), turned into JSON Schema by `z.toJSONSchema` when the document is built: the
 * documentation cannot drift from the validation. They are NOT given to Fastify as route
 * schemas, so Fastify never validates or coerces with them: every route keeps its own zod
 * parsing and its PP_ERR_* answers.
 *
 * A route registered but missing here still appears in the document, flagged
 * `x-pp-undocumented` (test/integration/openapi.test.ts refuses that).
 */

export type JsonSchema = Record<string, unknown>;

export interface ParameterDoc {
  name: string;
  in: 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface ResponseDoc {
  description: string;
  /** Content type → schema (a zod schema or JSON Schema); absent: no body. */
  content?: Record<string, z.ZodType | JsonSchema>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

export type AuthDoc = 'token' | 'none' | 'write' | 'live';

export interface OperationDoc {
  summary: string;
  description?: string;
  tag: Tag;
  /** Query-string parameters: a zod object schema (as parsed), or listed by hand. */
  query?: z.ZodType;
  queryParams?: ParameterDoc[];
  body?: { contentType: string; schema: z.ZodType | JsonSchema; description?: string; required?: boolean };
  /** Success answers (errors are added from `errors`). */
  responses: Record<string, ResponseDoc>;
  /** Error statuses this route may answer besides the common ones (`token` routes: 401, 403, 429). */
  errors?: number[];
  /** Errors in InfluxDB's shape (the write API) rather than `{ code, message }`. */
  influxErrors?: boolean;
  /** How the caller authenticates; default `token` (Bearer, checked by the `/api/` hook). */
  auth?: AuthDoc;
}

export const TAGS = {
  ingest: 'Write telemetry: JSON over HTTP, and the InfluxDB line protocol write API (Telegraf, Node-RED, client libraries).',
  alerts: 'Alerts opened by the detectors: list, fetch, acknowledge, export.',
  history: 'History from InfluxDB: energy windows, downsampled series, data completeness.',
  reports: 'Energy reports (JSON or CSV, English or Chinese).',
  subscriptions: 'Webhook subscriptions of regulators (signed, retried deliveries).',
  live: 'The live WebSocket feed of the dashboard.',
  access: 'Who the presented token is.',
  audit: 'Who changed what (admins).',
  operations: 'Health, readiness and Prometheus metrics (no token).',
} as const;
export type Tag = keyof typeof TAGS;

const json = (schema: z.ZodType | JsonSchema = { type: 'object' }) => ({ 'application/json': schema });
const csv = { 'text/csv': { type: 'string', description: 'RFC 4180 CSV with a header row (lang=zh: UTF-8 with a byte order mark)' } };
const attachment = { 'content-disposition': { description: 'attachment; filename="…csv"', schema: { type: 'string' } } };

/** The JSON ingest body: the HTTP envelope with each sample as the decoder checks it. */
/** API nodes share subscriptions through NATS: a change NATS did not take is not made on this node either. */
const FLEET_UNAVAILABLE: ResponseDoc = {
  description: 'PP_ERR_FLEET_UNAVAILABLE (API nodes sharing subscriptions through NATS): NATS did not take the change, so it was not made; retryable',
  content: json({ $ref: '#/components/schemas/Error' }),
};
const ingestBody = httpEnvelopeSchema.extend({ samples: z.array(sampleSchema) });

const ingestAnswer = json({
  type: 'object',
  properties: {
    accepted: { type: 'integer', description: 'samples stored' },
    rejected: { type: 'integer', description: 'samples rejected (each listed in `rejections`)' },
    rejections: { type: 'array', items: { $ref: '#/components/schemas/Rejection' } },
    rejectionsOmitted: { type: 'integer' },
    unknownMetrics: { type: 'array', items: { type: 'string' }, description: 'metrics outside the catalogue: stored, and flagged' },
  },
  required: ['accepted', 'rejected'],
});

const lineProtocolBody = { contentType: 'text/plain', schema: { type: 'string', description: 'InfluxDB line protocol, one point per line; `Content-Encoding: gzip` accepted' }, required: true };
const precision = (values: readonly string[]): ParameterDoc => ({ name: 'precision', in: 'query', description: 'timestamp precision (default ns)', schema: { type: 'string', enum: values } });

export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  // Ingest
  'POST /api/v1/ingest': {
    tag: 'ingest',
    summary: 'Write samples of one device (ids in the body)',
    description: 'The telemetry contract over HTTP: the same body and decoder as MQTT. 200 once every valid sample is durable; bad samples are listed in `rejections` and cost nothing else. Requires `ingest` (gateway tokens: their own sites only).',
    body: { contentType: 'application/json', schema: ingestBody, required: true },
    responses: { '200': { description: 'valid samples stored (check `rejected`)', content: ingestAnswer } },
    errors: [400, 413, 415, 503],
  },
  'POST /api/v1/ingest/:site/:line/:device': {
    tag: 'ingest',
    summary: 'Write samples of one device (ids in the path)',
    description: 'As `POST /api/v1/ingest`, with site, line and device in the path (ids in the body, if any, must agree).',
    body: { contentType: 'application/json', schema: ingestBody, required: true },
    responses: { '200': { description: 'valid samples stored (check `rejected`)', content: ingestAnswer } },
    errors: [400, 413, 415, 503],
  },
  'POST /write': {
    tag: 'ingest',
    summary: 'InfluxDB 1.x write API (line protocol)',
    description: 'For Telegraf and 1.x clients. The token goes as `Authorization: Token|Bearer <token>`, as the Basic password, or as `?p=`. `db` is required but PlantPulse writes to its own storage. 204: every line stored; 400: the bad lines are named, the good ones stored.',
    auth: 'write',
    queryParams: [
      { name: 'db', in: 'query', required: true, description: 'required by the 1.x API; any name', schema: { type: 'string' } },
      precision(['ns', 'u', 'ms', 's', 'm', 'h']),
      { name: 'rp', in: 'query', description: 'ignored', schema: { type: 'string' } },
      { name: 'u', in: 'query', description: 'user name (ignored)', schema: { type: 'string' } },
      { name: 'p', in: 'query', description: 'password: an API token', schema: { type: 'string' } },
    ],
    body: lineProtocolBody,
    responses: { '204': { description: 'every line stored' } },
    errors: [400, 401, 403, 413, 415, 429, 503],
    influxErrors: true,
  },
  'POST /api/v2/write': {
    tag: 'ingest',
    summary: 'InfluxDB 2.x write API (line protocol)',
    description: 'For influxdb-client, Telegraf `outputs.influxdb_v2` and Node-RED. `Authorization: Token <token>`. `bucket` is required but PlantPulse writes to its own storage.',
    auth: 'write',
    queryParams: [
      { name: 'bucket', in: 'query', required: true, description: 'required by the 2.x API; any name', schema: { type: 'string' } },
      { name: 'org', in: 'query', description: 'accepted, not required', schema: { type: 'string' } },
      precision(['ns', 'us', 'ms', 's']),
    ],
    body: lineProtocolBody,
    responses: { '204': { description: 'every line stored' } },
    errors: [400, 401, 403, 413, 415, 429, 503],
    influxErrors: true,
  },

  // Alerts
  'GET /api/v1/alerts': {
    tag: 'alerts',
    summary: 'List alerts',
    description: 'Filtered in SQL, newest first, only the token’s sites. `from`/`to`: the alert’s episode overlaps the range.',
    query: alertListQuery,
    responses: { '200': { description: 'the alerts', content: json({ type: 'object', properties: { alerts: { type: 'array', items: { $ref: '#/components/schemas/Alert' } }, count: { type: 'integer' }, limit: { type: 'integer' } } }) } },
    errors: [400],
  },
  'GET /api/v1/alerts.csv': {
    tag: 'alerts',
    summary: 'Export alerts as CSV',
    description: 'The rows `GET /api/v1/alerts` gives for the same filters (up to `limit`, default 10000; `X-PP-Limit-Reached` says when the limit cut the list), times plant-local. `lang=zh`: Chinese column names and values, UTF-8 with BOM.',
    query: alertsCsvQuery,
    responses: { '200': { description: 'CSV attachment', content: csv, headers: { ...attachment, 'x-pp-limit-reached': { description: 'present when `limit` rows were returned: there may be more', schema: { type: 'string' } } } } },
    errors: [400],
  },
  'GET /api/v1/alerts/:id': {
    tag: 'alerts',
    summary: 'One alert',
    description: 'An alert of a site outside the token’s scope is not found (404).',
    responses: { '200': { description: 'the alert', content: json({ $ref: '#/components/schemas/Alert' }) } },
    errors: [404],
  },
  'POST /api/v1/alerts/:id/ack': {
    tag: 'alerts',
    summary: 'Acknowledge an alert',
    description: 'Idempotent: a second acknowledgement changes nothing. `by` defaults to the token’s name. Requires `acknowledge` (managers, admins).',
    body: { contentType: 'application/json', schema: ackBody },
    responses: { '200': { description: 'the alert, and whether this call acknowledged it', content: json({ type: 'object', properties: { alert: { $ref: '#/components/schemas/Alert' }, acknowledged: { type: 'boolean' } } }) } },
    errors: [400, 404],
  },

  // History
  'GET /api/v1/energy': {
    tag: 'history',
    summary: 'Energy windows of a site or line',
    description: 'Stored device windows of one size, summed per window for the site (or line), per line (or device), and over the range. Windows align on plant-local midnight.',
    query: energyQuery,
    responses: { '200': { description: 'energy per window', content: json() } },
    errors: [400, 502, 503],
  },
  'GET /api/v1/series': {
    tag: 'history',
    summary: 'One metric of one device, downsampled',
    description: 'mean, min, max and count per step, computed in InfluxDB (`every` chosen when omitted).',
    query: seriesQuery,
    responses: { '200': { description: 'the points', content: json() } },
    errors: [400, 502, 503],
  },
  'GET /api/v1/quality': {
    tag: 'history',
    summary: 'Data completeness of a site or line',
    description: 'Stored completeness, timeliness and online figures per window, per line (or device) and per gateway, and each device’s status now.',
    query: qualityQuery,
    responses: { '200': { description: 'data completeness', content: json() } },
    errors: [400, 502, 503],
  },

  // Reports
  'GET /api/v1/reports/energy': {
    tag: 'reports',
    summary: 'Energy report of a site (JSON or CSV)',
    description:
      'Per site and line: energy by carrier, kgce/tce, CO2, output, intensities, idle share, alerts opened in the period by category, data completeness. Sums the hourly `energy` windows in InfluxDB; `from`/`to` must fall on whole plant-local hours (default: yesterday, plant-local). `format=csv&lang=zh`: Chinese columns, UTF-8 with BOM.',
    query: energyReportQuery,
    responses: { '200': { description: 'the report', content: { ...json({ $ref: '#/components/schemas/EnergyReport' }), ...csv }, headers: attachment } },
    errors: [400, 502, 503],
  },

  // Subscriptions
  'POST /api/v1/subscriptions': {
    tag: 'subscriptions',
    summary: 'Subscribe a webhook to alerts',
    description: 'Regulators subscribe inside their jurisdiction. This answer is the only one with `signingSecret` (the Standard Webhooks `whsec_` form of the secret) and, when the platform generated it, the secret itself.',
    body: { contentType: 'application/json', schema: newSubscriptionSchema, required: true },
    responses: { '201': { description: 'the subscription', content: json() }, '503': FLEET_UNAVAILABLE },
    errors: [400],
  },
  'GET /api/v1/subscriptions': { tag: 'subscriptions', summary: 'List subscriptions (a regulator’s own; admins all)', responses: { '200': { description: 'subscriptions with their delivery state', content: json() } } },
  'GET /api/v1/subscriptions/:id': { tag: 'subscriptions', summary: 'One subscription and its delivery state', responses: { '200': { description: 'the subscription', content: json() } }, errors: [404] },
  'GET /api/v1/subscriptions/:id/deliveries': {
    tag: 'subscriptions',
    summary: 'Deliveries of a subscription',
    query: deliveriesQuery,
    responses: { '200': { description: 'deliveries, newest first', content: json() } },
    errors: [400, 404],
  },
  'DELETE /api/v1/subscriptions/:id': { tag: 'subscriptions', summary: 'Delete a subscription (and what it had left to deliver)', responses: { '204': { description: 'deleted' }, '503': FLEET_UNAVAILABLE }, errors: [404] },
  'POST /api/v1/subscriptions/:id/redeliver': { tag: 'subscriptions', summary: 'Revive dead deliveries (admin)', responses: { '200': { description: 'how many were revived', content: json({ type: 'object', properties: { redelivered: { type: 'integer' } } }) } }, errors: [404] },

  // Live, access, operations
  'GET /api/v1/live': {
    tag: 'live',
    summary: 'Live feed (WebSocket)',
    description: 'Upgrade to a WebSocket; the token comes as `Authorization: Bearer` or `?token=`. Closes with 4401 (no or bad token) or 4403 (a role that may not read).',
    auth: 'live',
    queryParams: [{ name: 'token', in: 'query', description: 'API token (browsers cannot set headers on a WebSocket)', schema: { type: 'string' } }],
    responses: { '101': { description: 'switching to the WebSocket protocol' } },
  },
  'GET /api/v1/whoami': {
    tag: 'access',
    summary: 'The presented token: role, scope, permissions',
    responses: { '200': { description: 'who you are', content: json({ type: 'object', properties: { tokenId: { type: ['string', 'null'] }, name: { type: 'string' }, role: { type: 'string' }, scope: { type: 'array', items: { type: 'string' } }, permissions: { type: 'array', items: { type: 'string' } } } }) } },
  },
  'GET /api/v1/audit': {
    tag: 'audit',
    summary: 'Audit log (admin): acknowledgements, tokens, subscriptions',
    description: 'Entries newest first. `actor` is a token id or an actor name.',
    query: auditQuery,
    responses: { '200': { description: 'audit entries', content: json() } },
    errors: [400],
  },
  'GET /healthz': { tag: 'operations', auth: 'none', summary: 'Liveness: the process runs', responses: { '200': { description: 'ok', content: json() } } },
  'GET /readyz': { tag: 'operations', auth: 'none', summary: 'Readiness: broker, storage and spool answer', responses: { '200': { description: 'ready', content: json() }, '503': { description: 'not ready (each check says why)', content: json() } } },
  'GET /metrics': {
    tag: 'operations',
    summary: 'Prometheus metrics',
    description: 'With PP_METRICS_AUTH=token (the default): a `monitor` (or admin) token, e.g. Prometheus `authorization.credentials_file`; with PP_METRICS_AUTH=off (or PP_AUTH=off) none.',
    responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { type: 'string' } } } },
  },
};
