import { z } from 'zod';
import { CATEGORIES, SEVERITIES } from '../../alerts/types.js';
import { ROUTE_ACCESS } from '../../auth/route-access.js';
import { ERRORS } from '../../contract/index.js';
import { OPERATIONS, TAGS, type AuthDoc, type JsonSchema, type OperationDoc, type ParameterDoc } from './operations.js';

/** A route as Fastify registered it (onRoute): one method, the pattern (`/api/v1/alerts/:id`). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

/** The routes the document describes: the HTTP API (`/api/`, the write API) and what operations.ts names. */
export function documented(route: RegisteredRoute): boolean {
  if (route.method === 'HEAD' || route.method === 'OPTIONS') return false;
  return route.url.startsWith('/api/') || route.url === '/write' || `${route.method} ${route.url}` in OPERATIONS;
}

/** Descriptions of query parameters that recur (the zod schemas say type, range and default). */
const PARAM_DESCRIPTIONS: Record<string, string> = {
  site: 'site id ([A-Za-z0-9_-]{1,64}); outside the token’s scope: 403',
  line: 'line id',
  device: 'device id (`/series`: or the full key site/line/device)',
  from: 'start (inclusive): epoch ms, ISO 8601 (2026-11-29T08:00:00Z), `now` or `now-<duration>` (now-24h)',
  to: 'end (exclusive): epoch ms, ISO 8601, `now` or `now-<duration>`',
  limit: 'at most this many rows',
  window: 'window size',
  metric: 'metric name',
  every: 'downsampling step, e.g. 1m, 15m, 1h (chosen when omitted)',
  state: 'state filter',
  category: 'alert category',
  format: 'json, or csv (an attachment)',
  lang: 'CSV column names and values: en, or zh (Chinese; UTF-8 with BOM for Excel)',
};

const ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' };

function jsonSchemaOf(schema: z.ZodType | JsonSchema): JsonSchema {
  if (!(schema instanceof z.ZodType)) return schema;
  // The input side: what a client sends (before defaults and coercions are applied).
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function queryParameters(doc: OperationDoc): ParameterDoc[] {
  const out: ParameterDoc[] = [...(doc.queryParams ?? [])];
  if (doc.query) {
    const s = jsonSchemaOf(doc.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(s.properties ?? {})) {
      out.push({ name, in: 'query', required: s.required?.includes(name) ?? false, ...(PARAM_DESCRIPTIONS[name] ? { description: PARAM_DESCRIPTIONS[name] } : {}), schema });
    }
  }
  return out;
}

function pathParameters(url: string): Record<string, unknown>[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: name === 'id' ? { type: 'string' } : ID_SCHEMA }));
}

const SECURITY: Record<AuthDoc, Record<string, string[]>[]> = {
  token: [{ bearerAuth: [] }],
  none: [],
  write: [{ bearerAuth: [] }, { basicAuth: [] }, { passwordQuery: [] }],
  live: [{ bearerAuth: [] }, { tokenQuery: [] }],
};

/** Every guarded route may answer these (no/bad token, role or site refused, too many bad tokens). */
const TOKEN_ERRORS = [401, 403, 429];

function operation(route: RegisteredRoute, doc: OperationDoc | undefined): Record<string, unknown> {
  const access = route.url.startsWith('/api/') ? (ROUTE_ACCESS[`${route.method} ${route.url}`] ?? 'manage') : undefined;
  if (!doc) {
    return {
      summary: `${route.method} ${route.url}`,
      'x-pp-undocumented': true,
      ...(access ? { 'x-pp-access': access } : {}),
      parameters: pathParameters(route.url),
      responses: { default: { $ref: '#/components/responses/Error' } },
    };
  }
  const auth = doc.auth ?? 'token';
  const needs = access && access !== 'self' && access !== 'authenticated' ? `Requires a token whose role grants \`${access}\`.` : access === 'authenticated' ? 'Any valid token.' : '';
  const statuses = [...new Set([...(auth === 'token' ? TOKEN_ERRORS : []), ...(doc.errors ?? []), 500])].sort((a, b) => a - b);
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.content ? { content: Object.fromEntries(Object.entries(r.content).map(([type, schema]) => [type, { schema: jsonSchemaOf(schema) }])) } : {}),
    };
  }
  for (const s of statuses) responses[String(s)] ??= { $ref: `#/components/responses/${doc.influxErrors ? 'InfluxError' : 'Error'}${s}` };
  return {
    operationId: `${route.method.toLowerCase()}${route.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: doc.summary,
    description: [doc.description, needs].filter(Boolean).join('\n\n'),
    tags: [doc.tag],
    security: SECURITY[auth],
    ...(access ? { 'x-pp-access': access } : {}),
    parameters: [...pathParameters(route.url), ...queryParameters(doc)],
    ...(doc.body ? { requestBody: { required: doc.body.required ?? false, ...(doc.body.description ? { description: doc.body.description } : {}), content: { [doc.body.contentType]: { schema: jsonSchemaOf(doc.body.schema) } } } } : {}),
    responses,
  };
}

const ERROR_STATUSES: Record<number, string> = {
  400: 'Bad request: a parameter or the body is invalid (the message names it)',
  401: 'No valid token (missing, malformed, unknown, revoked or expired); `WWW-Authenticate: Bearer`',
  403: 'The token’s role may not do this (PP_ERR_FORBIDDEN), or the site is outside its scope (PP_ERR_SITE_FORBIDDEN)',
  404: 'Not found (or outside the token’s scope)',
  413: 'Body too large',
  415: 'Unsupported media type or content encoding',
  429: 'Too many failed authentications from this address; `Retry-After`',
  500: 'Internal error',
  502: 'The storage (InfluxDB) query failed; retryable',
  503: 'No storage configured, or storage cannot keep up; `Retry-After` when retryable',
};

function components(): Record<string, unknown> {
  const errorRef = { $ref: '#/components/schemas/Error' };
  const influxRef = { $ref: '#/components/schemas/InfluxError' };
  const responses: Record<string, unknown> = { Error: { description: 'An error', content: { 'application/json': { schema: errorRef } } } };
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    responses[`Error${status}`] = { description, content: { 'application/json': { schema: errorRef } } };
    responses[`InfluxError${status}`] = { description, content: { 'application/json': { schema: influxRef } } };
  }
  const num = { type: 'number' };
  const numOrNull = { type: ['number', 'null'] };
  const counts = { type: 'object', properties: Object.fromEntries([...CATEGORIES, 'total'].map((c) => [c, { type: 'integer' }])) };
  const figures = {
    type: 'object',
    properties: {
      ...Object.fromEntries(['kwh', 'gasM3', 'steamT', 'waterM3', 'kgce', 'tce', 'co2Kg', 'outputUnits', 'idleKwh', 'implausibleJumps'].map((k) => [k, num])),
      kwhPerUnit: numOrNull,
      kgcePerUnit: numOrNull,
      idleShare: numOrNull,
      alerts: counts,
      quality: { oneOf: [{ type: 'null' }, { type: 'object', properties: { completenessPct: numOrNull, timelinessPct: numOrNull, onlinePct: numOrNull, expected: num, received: num, duplicates: num, lateMessages: num, devices: num } }] },
    },
  };
  return {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (`ppt_<id>_<secret>`; `plantpulse token create`). Its role decides what it may do, its scope which sites it sees.' },
      basicAuth: { type: 'http', scheme: 'basic', description: 'Write API only (InfluxDB 1.x clients): any user name, the API token as password.' },
      passwordQuery: { type: 'apiKey', in: 'query', name: 'p', description: 'Write API only (InfluxDB 1.x clients): the API token as `p`.' },
      tokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'Live WebSocket only: the API token (browsers cannot set headers on a WebSocket).' },
    },
    schemas: {
      Error: {
        type: 'object',
        description: 'Every error body (docs/errors.md lists the codes).',
        properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, message: { type: 'string' }, rejections: { type: 'array', items: { $ref: '#/components/schemas/Rejection' } } },
        required: ['code', 'message'],
      },
      InfluxError: {
        type: 'object',
        description: 'Errors of the InfluxDB write API, in InfluxDB’s shape, with the PlantPulse code as `ppCode`.',
        properties: { code: { type: 'string' }, message: { type: 'string' }, error: { type: 'string', description: '1.x only' }, ppCode: { type: 'string', enum: Object.keys(ERRORS) }, lines: { type: 'integer' }, accepted: { type: 'integer' }, rejected: { type: 'integer' } },
        required: ['code', 'message'],
      },
      Rejection: { type: 'object', properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, path: { type: 'string' }, reason: { type: 'string' } } },
      Alert: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          key: { type: 'string' },
          site: { type: 'string' },
          line: { type: 'string' },
          device: { type: 'string' },
          rule: { type: 'string' },
          metric: { type: 'string' },
          category: { type: 'string', enum: [...CATEGORIES] },
          severity: { type: 'string', enum: [...SEVERITIES] },
          state: { type: 'string', enum: ['open', 'resolved'] },
          openedAt: { type: 'integer', description: 'epoch ms' },
          lastSeen: { type: 'integer' },
          resolvedAt: { type: ['integer', 'null'] },
          count: { type: 'integer' },
          value: num,
          peak: num,
          threshold: numOrNull,
          baseline: numOrNull,
          message: { type: 'object', properties: { en: { type: 'string' }, zh: { type: 'string' } } },
          flapping: { type: 'boolean' },
          ackedAt: { type: ['integer', 'null'] },
          ackedBy: { type: ['string', 'null'] },
          ackNote: { type: ['string', 'null'] },
        },
      },
      EnergyReport: {
        type: 'object',
        properties: {
          site: { type: 'string' },
          from: { type: 'integer' },
          to: { type: 'integer' },
          utcOffsetMinutes: { type: 'integer' },
          energyWindow: { type: 'string', const: '1h' },
          qualityWindow: { type: 'string', enum: ['1h', '1d'] },
          provisional: { type: 'boolean', description: 'the period reaches into the running hour: figures are not final' },
          total: { $ref: '#/components/schemas/ReportFigures' },
          lines: { type: 'object', additionalProperties: { $ref: '#/components/schemas/ReportFigures' } },
        },
      },
      ReportFigures: figures,
    },
    responses,
  };
}

/** The OpenAPI 3.1 document of the routes Fastify registered. */
export function buildOpenApiDocument(routes: readonly RegisteredRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  for (const route of routes.filter(documented)) {
    const key = `${route.method} ${route.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, OPERATIONS[key]);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'PlantPulse API',
      version,
      description:
        'Industrial telemetry ingestion, energy accounting, alerts and reports. Every `/api/` route needs an API token (`Authorization: Bearer <token>`) unless the platform runs with PP_AUTH=off; a token sees only the sites of its scope. Errors answer `{ "code", "message" }` with a stable PP_ERR_* code.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: components(),
  };
}
