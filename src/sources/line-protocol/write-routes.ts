import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DecodeLimits, ErrorCode, TelemetryBatch } from '../../contract/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { influxError, rejectedLinesBody } from './influx-responses.js';
import type { LineProtocolMapping } from './mapping.js';
import { parseLineProtocol } from './parse-line-protocol.js';
import { readBodyText } from './read-body.js';
import { toTelemetryBatches, type LineProtocolBatches } from './to-batches.js';
import { ACCEPT_ALL_WRITERS, credentialsOf, isWriteDenial, type WriteAuthorizer } from './write-auth.js';
import { readWriteParams } from './write-params.js';

export interface LineProtocolRouteOptions {
  limits: DecodeLimits;
  mapping: LineProtocolMapping;
  /** Who may write; by default everyone (write-auth.ts). */
  authorizer?: WriteAuthorizer;
}

type Api = 'v1' | 'v2';
const SOURCE = 'line_protocol';
/** Seconds a saturated platform asks writers to wait (Telegraf and influxdb-client honour it). */
const RETRY_AFTER_S = '5';

/**
 * InfluxDB's write endpoints, so Telegraf, Node-RED, influxdb-client and scripts can write to
 * PlantPulse unchanged: `POST /write` (1.x) and `POST /api/v2/write` (2.x). Answers as InfluxDB
 * does: 204 when every line was stored; 400 naming each bad line while the good ones are stored
 * anyway; 413 over PP_INGEST_MAX_BYTES; 503 + Retry-After when storage cannot keep up. Like the
 * JSON route, it answers only once `pipeline.ingest` resolved, i.e. the data is durable.
 */
export function registerLineProtocolRoutes(app: FastifyInstance, pipeline: Pipeline, options: LineProtocolRouteOptions): void {
  const { limits, mapping } = options;
  const authorizer = options.authorizer ?? ACCEPT_ALL_WRITERS;

  const handle = async (api: Api, req: FastifyRequest, reply: FastifyReply) => {
    const now = Date.now();
    const query = (req.query ?? {}) as Record<string, unknown>;
    const params = readWriteParams(api, query);
    if (!params.ok) return reply.code(400).send(influxError(api, 400, params.message, 'PP_ERR_INVALID_WRITE_PARAMETER'));
    const decision = await authorizer.authorize(credentialsOf(req.headers, query), params.params.target, { address: req.ip });
    if (isWriteDenial(decision)) {
      if (decision.retryAfterS !== undefined) reply.header('retry-after', String(decision.retryAfterS));
      return reply.code(decision.status).send(influxError(api, decision.status, decision.message, decision.code));
    }

    const body = await readBodyText(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.headers['content-encoding'], limits.maxBytes);
    if (!body.ok) {
      accountWhole(pipeline, body.code, body.message);
      return reply.code(body.status).send(influxError(api, body.status, body.message, body.code));
    }
    const parsed = parseLineProtocol(body.text);
    const result = toTelemetryBatches(
      { points: parsed.points, errors: [...body.invalidLines, ...parsed.errors], entries: parsed.entries + body.invalidLines.length },
      { mapping, precision: params.params.precision, now, limits, siteAllowed: decision?.siteAllowed },
    );
    // Nothing but other sites' lines: the token is wrong for this data, not the data.
    if (result.batches.length === 0 && result.rejections.length > 0 && result.rejections.every((r) => r.code === 'PP_ERR_SITE_FORBIDDEN')) {
      return reply.code(403).send(influxError(api, 403, result.rejections[0]!.reason, 'PP_ERR_SITE_FORBIDDEN'));
    }
    accountLines(pipeline, result);
    await Promise.all(result.batches.map((batch) => pipeline.ingest(SOURCE, batch)));
    if (result.rejections.length === 0) return reply.code(204).send();
    return reply.code(400).send(rejectedLinesBody(api, result));
  };

  // An encapsulated scope: its body parser, hook and error handler apply to these routes only.
  app.register(async (scope) => {
    // InfluxDB ignores Content-Type on writes: Telegraf sends text/plain, curl a form type, some
    // clients none. The body stays raw; gzip and UTF-8 are handled in read-body.ts.
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.addHook('onRequest', async (req, reply) => {
      if (!pipeline.saturated) return;
      // Backpressure: refuse before the body is read, so a flood costs as little as possible.
      pipeline.throttled();
      return reply.code(503).header('retry-after', RETRY_AFTER_S).send(influxError(apiOf(req), 503, 'storage and spool cannot keep up; retry after the Retry-After delay', 'PP_ERR_STORAGE_UNAVAILABLE'));
    });
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const api = apiOf(req);
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        const message = `body exceeds ${limits.maxBytes} bytes (PP_INGEST_MAX_BYTES); split the batch`;
        accountWhole(pipeline, 'PP_ERR_BODY_TOO_LARGE', message);
        return reply.code(413).send(influxError(api, 413, message, 'PP_ERR_BODY_TOO_LARGE'));
      }
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) {
        req.log.error({ err }, 'line protocol write failed');
        reply.header('retry-after', '1');
        return reply.code(500).send(influxError(api, 500, 'internal error', 'PP_ERR_INTERNAL'));
      }
      // Another client error (e.g. a body cut short): still with a PlantPulse code for scripts.
      return reply.code(status).send(influxError(api, status, err.message, 'PP_ERR_BAD_REQUEST'));
    });
    scope.post('/write', async (req, reply) => handle('v1', req, reply));
    scope.post('/api/v2/write', async (req, reply) => handle('v2', req, reply));
  });
}

function apiOf(req: FastifyRequest): Api {
  return req.url.startsWith('/api/v2/') ? 'v2' : 'v1';
}

/**
 * `Pipeline.account` tells whole-message rejections (batch null) from per-sample ones (batch
 * set). A line protocol body spans devices, so per-line rejections are counted with a stand-in.
 */
const SPANS_DEVICES: TelemetryBatch = { site: '', line: '', device: '', seq: null, samples: [] };

function accountWhole(pipeline: Pipeline, code: ErrorCode, reason: string): void {
  pipeline.account(SOURCE, { batch: null, rejections: [{ code, path: '$', reason }], unknownMetrics: [] });
}

function accountLines(pipeline: Pipeline, result: LineProtocolBatches): void {
  const rejections = result.rejections.map((r) => ({ code: r.code, path: `line ${r.line}`, reason: r.reason }));
  pipeline.account(SOURCE, { batch: SPANS_DEVICES, rejections, unknownMetrics: result.unknownMetrics });
}
