import type { FastifyInstance } from 'fastify';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../../src/api/index.js';
import { DEFAULT_LIMITS } from '../../../src/contract/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { Pipeline, type DurableWriter } from '../../../src/pipeline/index.js';

/**
 * Regressions found by the fuzz suites (test/unit/fuzz/, test/integration/fuzz-http.test.ts):
 * requests that got an answer outside the `{ code, message }` contract, or a 500.
 */
const writer: DurableWriter = { saturated: false, write: async () => undefined };
let app: FastifyInstance;

function server(): FastifyInstance {
  app = buildServer({ logger: createLogger('silent'), metrics: createMetrics(), pipeline: new Pipeline(writer, createMetrics(), createLogger('silent')), limits: DEFAULT_LIMITS, readiness: [] });
  return app;
}
afterEach(async () => {
  await app?.close();
});

/** Raw bytes to a listening server; resolves with everything it answered before closing. */
async function raw(bytes: string): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(out));
  });
}
const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as unknown;

describe('errors before a route answer { code, message }', () => {
  // Were Fastify's own `{"error","code":"FST_ERR_BAD_URL",...}` and a 414 FST_ERR_MAX_PARAM_LENGTH.
  it('a malformed %-escape in the path: 400 PP_ERR_BAD_REQUEST', async () => {
    const res = await server().inject({ method: 'POST', url: '/api/v1/ingest/%E0%A4%A/l/d', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect({ status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({ status: 400, code: 'PP_ERR_BAD_REQUEST' });
  });
  it('a path segment longer than 100 characters: 400 PP_ERR_BAD_REQUEST', async () => {
    const res = await server().inject({ method: 'POST', url: `/api/v1/ingest/${'x'.repeat(101)}/l/d`, payload: '{}', headers: { 'content-type': 'application/json' } });
    expect({ status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({ status: 400, code: 'PP_ERR_BAD_REQUEST' });
  });
  // Were Fastify's `{"error":"Bad Request","message":"Client Error","statusCode":400}` and its 431 body.
  it('a request line the HTTP parser refuses: 400 PP_ERR_BAD_REQUEST, connection closed', async () => {
    server();
    const out = await raw('GARBAGE\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(out)).toMatchObject({ code: 'PP_ERR_BAD_REQUEST' });
  });
  it('headers over 16 KiB (a query string far too long): 431 PP_ERR_HEADERS_TOO_LARGE', async () => {
    server();
    const out = await raw(`GET /api/v1/alerts?${'a=1&'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(out)).toMatchObject({ code: 'PP_ERR_HEADERS_TOO_LARGE' });
  });
  // Was a 500 PP_ERR_INTERNAL, logged as an error, e.g. for a request body the client cut short.
  it('any other client-side error is a 400, not a 500', async () => {
    server().get('/client-error', async () => {
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });
    });
    const res = await app.inject({ method: 'GET', url: '/client-error' });
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 400, body: { code: 'PP_ERR_BAD_REQUEST', message: 'aborted' } });
  });
});

describe('HTTP ingest answers in proportion to the request', () => {
  // Was: every rejection listed, 80,000 of them (a 10 MB answer) for a 650 kB body of bad fields.
  it('lists at most 1000 rejections, and says how many more there were', async () => {
    const samples = Array.from({ length: 600 }, (_, i) => ({ ts: 'x', m: { [`a${i}`]: '', b: null } }));
    const res = await server().inject({ method: 'POST', url: '/api/v1/ingest/s/l/d', payload: JSON.stringify({ samples: [{ ts: Date.now(), m: { power_kw: 1 } }, ...samples] }), headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ accepted: number; rejected: number; rejections: unknown[]; rejectionsOmitted: number }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected).toBe(1800);
    expect(body.rejections).toHaveLength(1000);
    expect(body.rejectionsOmitted).toBe(800);
  });
});
