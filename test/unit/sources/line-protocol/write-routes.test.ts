import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../../../src/api/index.js';
import { DEFAULT_LIMITS } from '../../../../src/contract/index.js';
import { createLogger, createMetrics } from '../../../../src/observability/index.js';
import { Pipeline, type DurableWriter } from '../../../../src/pipeline/index.js';
import { DEFAULT_LINE_PROTOCOL_MAPPING, registerLineProtocolRoutes, type WriteAuthorizer, type WriteCredentials } from '../../../../src/sources/line-protocol/index.js';
import type { Point } from '../../../../src/storage/index.js';
import Fastify from 'fastify';

/**
 * The write routes through the real server wiring (body parsers, error handlers) and the real
 * Pipeline, with a fake writer in place of storage: what was handed to storage is recorded, and
 * the writer can be made slow or saturated.
 */
class FakeWriter implements DurableWriter {
  points: Point[] = [];
  saturated = false;
  /** Resolve writes only when released (to check that answers wait for durability). */
  hold: Promise<void> | null = null;
  async write(points: Point[]): Promise<void> {
    if (this.hold) await this.hold;
    this.points.push(...points);
  }
}

const T = Date.now() - 60_000;
const DEV = 'site=s1,line=l1,device=d1';
let app: FastifyInstance;
let writer: FakeWriter;
let metrics: ReturnType<typeof createMetrics>;

function server(limits = DEFAULT_LIMITS) {
  writer = new FakeWriter();
  metrics = createMetrics();
  const pipeline = new Pipeline(writer, metrics, createLogger('silent'));
  app = buildServer({ logger: createLogger('silent'), metrics, pipeline, limits, readiness: [] });
  return app;
}
afterEach(async () => {
  await app?.close();
});

const write = (url: string, body: string | Buffer, headers: Record<string, string> = {}) => server().inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

describe('line protocol write routes: success', () => {
  it('POST /api/v2/write stores the lines and answers 204 with no body', async () => {
    const res = await write('/api/v2/write?org=o&bucket=b&precision=ms', `telemetry,${DEV} power_kw=41.7,state=2i ${T}\ntelemetry,${DEV} power_kw=42 ${T + 1000}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(writer.points).toEqual([
      { measurement: 'telemetry', tags: { site: 's1', line: 'l1', device: 'd1' }, fields: { power_kw: 41.7, state: 2 }, ts: T },
      { measurement: 'telemetry', tags: { site: 's1', line: 'l1', device: 'd1' }, fields: { power_kw: 42 }, ts: T + 1000 },
    ]);
  });
  it('POST /write with the 1.x precisions', async () => {
    for (const [precision, ts] of [['s', Math.floor(T / 1000)], ['m', Math.floor(T / 60_000)], ['h', Math.floor(T / 3_600_000)], ['u', T * 1000], ['ms', T], ['ns', `${T}000000`]] as const) {
      const res = await write(`/write?db=x&precision=${precision}`, `telemetry,${DEV} f=1 ${ts}`);
      expect(res.statusCode, precision).toBe(204);
      const unit = { s: 1000, m: 60_000, h: 3_600_000, u: 1, ms: 1, ns: 1 }[precision];
      expect(writer.points[0]!.ts, precision).toBe(Math.floor(T / unit) * unit);
    }
  });
  it('defaults to nanoseconds on both APIs', async () => {
    expect((await write('/write?db=x', `telemetry,${DEV} f=1 ${T}123456`)).statusCode).toBe(204);
    expect(writer.points[0]!.ts).toBe(T);
    expect((await write('/api/v2/write?bucket=b', `telemetry,${DEV} f=1 ${T}999999`)).statusCode).toBe(204);
    expect(writer.points[0]!.ts).toBe(T);
  });
  it('reads gzip bodies (Content-Encoding: gzip)', async () => {
    const res = await write('/api/v2/write?bucket=b&precision=ms', gzipSync(`telemetry,${DEV} f=7 ${T}`), { 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(204);
    expect(writer.points.map((p) => p.fields)).toEqual([{ f: 7 }]);
  });
  it('ignores Content-Type, as InfluxDB does (none, form-encoded, JSON)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/json', 'application/octet-stream']) {
      expect((await write('/write?db=x&precision=ms', `telemetry,${DEV} f=1 ${T}`, { 'content-type': type })).statusCode, type).toBe(204);
      expect(writer.points, type).toHaveLength(1);
    }
    // No Content-Type at all (Python's requests with bytes, for one): over a real socket, since
    // inject would add a type of its own.
    await server().listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const payload = `telemetry,${DEV} f=1 ${T}`;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/write?db=x&precision=ms', headers: { 'content-length': Buffer.byteLength(payload) } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      expect(req.getHeader('content-type')).toBeUndefined();
      req.end(payload);
    });
    expect(status).toBe(204);
    expect(writer.points).toHaveLength(1);
  });
  it('answers 204 to a body of comments and blank lines, storing nothing', async () => {
    expect((await write('/write?db=x', '# nothing\n\n')).statusCode).toBe(204);
    expect(writer.points).toEqual([]);
  });
  it('answers only once storage has the data', async () => {
    server();
    let release!: () => void;
    writer.hold = new Promise((r) => (release = r));
    let answered = false;
    const pending = app.inject({ method: 'POST', url: '/write?db=x&precision=ms', payload: `telemetry,${DEV} f=1 ${T}` }).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    release();
    expect((await pending).statusCode).toBe(204);
    expect(writer.points).toHaveLength(1);
  });
});

describe('line protocol write routes: bad lines', () => {
  const body = [`telemetry,${DEV} f=1 ${T}`, 'garbage', `telemetry,${DEV} f=2,status="on" ${T + 1}`, `telemetry,site=s1,line=l1,device=a/b f=3 ${T}`, `telemetry,${DEV} f=4 ${T + 2}`].join('\n');
  it('400 in InfluxDB 2.x form, naming each bad line, with the good lines stored', async () => {
    const res = await write('/api/v2/write?bucket=b&precision=ms', body);
    expect(res.statusCode).toBe(400);
    const json = res.json();
    expect(json).toMatchObject({ code: 'invalid', ppCode: 'PP_ERR_LINE_PROTOCOL_SYNTAX', lines: 5, accepted: 3, rejected: 2 });
    expect(json.error).toBeUndefined();
    expect(json.message).toMatch(/^partial write: 3 of 5 lines stored \(1 without some of their fields\), 2 not stored: line 2:8: .*; line 3:.*"status" is a string.*; line 4: device tag device="a\/b" is not a valid id/);
    expect(json.rejections.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([[2, 'PP_ERR_LINE_PROTOCOL_SYNTAX'], [3, 'PP_ERR_UNSUPPORTED_FIELD_TYPE'], [4, 'PP_ERR_INVALID_ID']]);
    expect(writer.points.map((p) => p.fields.f)).toEqual([1, 2, 4]);
  });
  it('400 on /write carries the 1.x "error" too', async () => {
    const res = await write('/write?db=x&precision=ms', body);
    expect(res.statusCode).toBe(400);
    const json = res.json();
    expect(json.error).toBe(json.message);
    expect(json.error).toMatch(/^partial write: /);
  });
  it('says "unable to parse" when nothing could be stored', async () => {
    const res = await write('/write?db=x', 'a\nb f=\n');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid', lines: 2, accepted: 0, rejected: 2 });
    expect(res.json().error).toMatch(/^unable to parse: none of 2 lines stored: line 1:2: .*; line 2:5: /);
    expect(writer.points).toEqual([]);
  });
  it('lists at most 10 rejections in the message and 1000 in the body', async () => {
    const res = await write('/write?db=x', Array.from({ length: 1200 }, () => 'x').join('\n'));
    const json = res.json();
    expect(json.message).toContain('; and 1190 more (see rejections)');
    expect(json.rejections).toHaveLength(1000);
    expect(json.rejectionsOmitted).toBe(200);
  });
  it('a line that is not UTF-8 costs only itself', async () => {
    const raw = Buffer.concat([Buffer.from(`telemetry,${DEV} f=1 ${T}\ntelemetry,${DEV} s="`), Buffer.from([0xff, 0xfe]), Buffer.from(`"\ntelemetry,${DEV} f=3 ${T + 1}`)]);
    const res = await write('/write?db=x&precision=ms', raw);
    expect(res.statusCode).toBe(400);
    expect(res.json().rejections).toEqual([{ code: 'PP_ERR_LINE_PROTOCOL_SYNTAX', line: 2, column: 1, part: 'line', reason: 'line is not valid UTF-8' }]);
    expect(writer.points.map((p) => p.fields.f)).toEqual([1, 3]);
  });
  it('counts rejections in /metrics by code, under source="line_protocol"', async () => {
    await write('/write?db=x&precision=ms', body);
    const text = await metrics.registry.metrics();
    expect(text).toContain('pp_samples_rejected_total{source="line_protocol",reason="PP_ERR_INVALID_ID"} 1');
    expect(text).toContain('pp_samples_stored_total{source="line_protocol"} 3');
    expect(text).toContain('pp_messages_received_total{source="line_protocol"} 1');
  });
});

describe('line protocol write routes: whole requests refused', () => {
  it.each([
    ['/write', 'database is required'],
    ['/write?db=', 'database is required'],
    ['/api/v2/write?org=o', 'bucket is required'],
    ['/write?db=x&precision=us', 'precision "us" is not one of ns, u, ms, s, m, h'],
    ['/api/v2/write?bucket=b&precision=u', 'precision "u" is not one of ns, us, ms, s'],
    ['/api/v2/write?bucket=b&precision=h', 'precision "h" is not one of'],
    ['/write?db=a&db=b', 'query parameter "db" is given more than once'],
  ])('400 for %s: %s', async (url, message) => {
    const res = await write(url, `telemetry,${DEV} f=1`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid', ppCode: 'PP_ERR_INVALID_WRITE_PARAMETER' });
    expect(res.json().message).toContain(message);
    expect(writer.points).toEqual([]);
  });
  it('413 when the body is over PP_INGEST_MAX_BYTES', async () => {
    server({ ...DEFAULT_LIMITS, maxBytes: 2048 });
    const res = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=b', payload: `telemetry,${DEV} f=1\n`.repeat(200) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'request too large', ppCode: 'PP_ERR_BODY_TOO_LARGE' });
    expect(writer.points).toEqual([]);
  });
  it('413 when a small gzip body inflates beyond the limit', async () => {
    server({ ...DEFAULT_LIMITS, maxBytes: 4096 });
    const bomb = gzipSync(`telemetry,${DEV} f=1\n`.repeat(10_000));
    expect(bomb.length).toBeLessThan(4096);
    const res = await app.inject({ method: 'POST', url: '/write?db=x', payload: bomb, headers: { 'content-encoding': 'gzip' } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'request too large', ppCode: 'PP_ERR_BODY_TOO_LARGE' });
    expect(res.json().error).toContain('inflates to more than 4096 bytes');
  });
  it('400 for a body that is not gzip, 415 for other encodings', async () => {
    const bad = await write('/api/v2/write?bucket=b', 'not gzip', { 'content-encoding': 'gzip' });
    expect({ status: bad.statusCode, ppCode: bad.json().ppCode }).toEqual({ status: 400, ppCode: 'PP_ERR_INVALID_GZIP' });
    const br = await write('/api/v2/write?bucket=b', 'x', { 'content-encoding': 'br' });
    expect({ status: br.statusCode, code: br.json().code, ppCode: br.json().ppCode }).toEqual({ status: 415, code: 'unsupported media type', ppCode: 'PP_ERR_UNSUPPORTED_CONTENT_ENCODING' });
  });
  it('503 with Retry-After while storage and spool cannot keep up, counted as throttled', async () => {
    server();
    writer.saturated = true;
    const res = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=b', payload: `telemetry,${DEV} f=1` });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ code: 'unavailable', ppCode: 'PP_ERR_STORAGE_UNAVAILABLE' });
    expect(writer.points).toEqual([]);
    expect(await metrics.registry.metrics()).toContain('pp_ingest_throttled_total 1');
  });
});

describe('line protocol write routes: the authentication seam', () => {
  it('accepts any credentials today (tokens come with a later issue)', async () => {
    for (const headers of [{ authorization: 'Token anything' }, { authorization: 'Basic ' + Buffer.from('u:p').toString('base64') }, {}] as Record<string, string>[]) {
      expect((await write('/api/v2/write?bucket=b&precision=ms', `telemetry,${DEV} f=1 ${T}`, headers)).statusCode).toBe(204);
    }
  });
  it('hands the parsed credentials and target to the authorizer, and answers its denial', async () => {
    const seen: [WriteCredentials, unknown][] = [];
    const deny: WriteAuthorizer = {
      authorize: async (credentials, target) => {
        seen.push([credentials, target]);
        return credentials.token === 'good' ? null : { status: 401, message: 'unauthorized access' };
      },
    };
    const a = Fastify();
    const w = new FakeWriter();
    registerLineProtocolRoutes(a, new Pipeline(w, createMetrics(), createLogger('silent')), { limits: DEFAULT_LIMITS, mapping: DEFAULT_LINE_PROTOCOL_MAPPING, authorizer: deny });
    const denied = await a.inject({ method: 'POST', url: '/api/v2/write?bucket=b&org=o', payload: `telemetry,${DEV} f=1`, headers: { authorization: 'Token bad' } });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toMatchObject({ code: 'unauthorized', message: 'unauthorized access' });
    const ok = await a.inject({ method: 'POST', url: '/api/v2/write?bucket=b&org=o', payload: `telemetry,${DEV} f=1`, headers: { authorization: 'Token good' } });
    expect(ok.statusCode).toBe(204);
    const v1 = await a.inject({ method: 'POST', url: '/write?db=d&u=user&p=secret', payload: `telemetry,${DEV} f=1` });
    expect(v1.statusCode).toBe(401);
    expect(seen).toEqual([
      [{ token: 'bad' }, { api: 'v2', database: 'b', org: 'o' }],
      [{ token: 'good' }, { api: 'v2', database: 'b', org: 'o' }],
      [{ username: 'user', password: 'secret' }, { api: 'v1', database: 'd' }],
    ]);
    expect(w.points).toHaveLength(1);
    await a.close();
  });
});
