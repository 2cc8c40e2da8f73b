import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InfluxV1Sink, InfluxV2Sink, queryInfluxQL } from '../../../src/storage/index.js';

// A stand-in server that records requests, to check what the sinks and the query helper send
// and how they read answers. The real servers are exercised in test/integration/storage.
interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}
let server: Server;
let url = '';
let seen: Seen[] = [];
let answer: { status: number; body: string; headers?: Record<string, string> } = { status: 204, body: '' };
let answerFor: ((path: string) => { status: number; body: string } | undefined) | null = null;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body });
      const a = answerFor?.(u.pathname) ?? answer;
      res.writeHead(a.status, { 'content-type': 'application/json', ...answer.headers }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen = [];
  answer = { status: 204, body: '' };
  answerFor = null;
});

describe('InfluxV1Sink requests', () => {
  it('writes with POST /write?db=&precision=ms&rp=, Basic auth and the body as given', async () => {
    const sink = new InfluxV1Sink({ url: `${url}/`, database: 'plant db', username: 'writer', password: 'p@ss:word', retentionPolicy: 'one_year' });
    const body = 'telemetry,site=s\\ 1 power_kw=1.5 1\ntelemetry,site=s2 note="工厂" 2';
    await sink.write(body);
    expect(seen).toHaveLength(1);
    const [req] = seen;
    expect(req).toMatchObject({ method: 'POST', path: '/write', body });
    expect(Object.fromEntries(req!.query)).toEqual({ db: 'plant db', precision: 'ms', rp: 'one_year' });
    expect(req!.headers.authorization).toBe(`Basic ${Buffer.from('writer:p@ss:word').toString('base64')}`);
    expect(req!.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('sends no credentials and no rp when none are configured', async () => {
    await new InfluxV1Sink({ url, database: 'db' }).write('m v=1 1');
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.query.has('rp')).toBe(false);
  });

  it('connect() sends CREATE DATABASE with the name quoted', async () => {
    answer = { status: 200, body: '{"results":[{"statement_id":0}]}' };
    await new InfluxV1Sink({ url, database: 'we "ird" db' }).connect();
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/query' });
    expect(new URLSearchParams(seen[0]!.body).get('q')).toBe('CREATE DATABASE "we \\"ird\\" db"');
  });

  it('connect() fails, not retryable, on a statement error inside a 200 answer', async () => {
    answer = { status: 200, body: '{"results":[{"statement_id":0,"error":"invalid name"}]}' };
    await expect(new InfluxV1Sink({ url, database: 'db' }).connect()).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('invalid name') });
  });

  it('ping() uses GET /ping', async () => {
    await new InfluxV1Sink({ url, database: 'db' }).ping();
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/ping' });
  });
});

describe('InfluxV2Sink requests', () => {
  it('writes with POST /api/v2/write?org=&bucket=&precision=ms and Token auth', async () => {
    const sink = new InfluxV2Sink({ url, org: 'my org', bucket: 'tele/metry', token: 's3cr3t' });
    await sink.write('telemetry,site=s1 power_kw=1.5 1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/api/v2/write', body: 'telemetry,site=s1 power_kw=1.5 1' });
    expect(Object.fromEntries(seen[0]!.query)).toEqual({ org: 'my org', bucket: 'tele/metry', precision: 'ms' });
    expect(seen[0]!.headers.authorization).toBe('Token s3cr3t');
  });

  it('one request per write: the client library does not retry on its own', async () => {
    answer = { status: 503, body: 'down' };
    const sink = new InfluxV2Sink({ url, org: 'o', bucket: 'b', token: 't' });
    await expect(sink.write('m v=1 1')).rejects.toMatchObject({ retryable: true, status: 503 });
    expect(seen).toHaveLength(1);
  });

  it('ping() asks /health, and falls back to /ping where /health is missing', async () => {
    answerFor = (path) => (path === '/health' ? { status: 404, body: '404 page not found' } : undefined);
    await new InfluxV2Sink({ url, org: 'o', bucket: 'b', token: 't' }).ping();
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /health', 'GET /ping']);
  });

  it('ping() does not fall back on other failures', async () => {
    answerFor = (path) => (path === '/health' ? { status: 503, body: '{"status":"fail"}' } : undefined);
    await expect(new InfluxV2Sink({ url, org: 'o', bucket: 'b', token: 't' }).ping()).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
  });
});

describe('queryInfluxQL', () => {
  it('sends GET /query with db, q, epoch=ms and credentials', async () => {
    answer = { status: 200, body: '{"results":[{"statement_id":0}]}' };
    expect(await queryInfluxQL(url, 'plant', 'SELECT * FROM telemetry', { username: 'u', password: 'p' })).toEqual([]);
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/query' });
    expect(Object.fromEntries(seen[0]!.query)).toEqual({ db: 'plant', q: 'SELECT * FROM telemetry', epoch: 'ms' });
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    await queryInfluxQL(url, 'plant', 'SHOW DATABASES', { token: 'tok' });
    expect(seen[1]!.headers.authorization).toBe('Token tok');
  });

  it('turns series into rows, with GROUP BY tags merged in, across statements', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        results: [
          {
            statement_id: 0,
            series: [
              { name: 'telemetry', tags: { device: 'd1' }, columns: ['time', 'count'], values: [[0, 5]] },
              { name: 'telemetry', tags: { device: 'd 2' }, columns: ['time', 'count'], values: [[0, 7]] },
            ],
          },
          { statement_id: 1, series: [{ name: 'energy', columns: ['time', 'kwh', 'ok', 'note'], values: [[1000, 1.5, true, null]] }] },
          { statement_id: 2 },
        ],
      }),
    };
    expect(await queryInfluxQL(url, 'db', 'q')).toEqual([
      { device: 'd1', time: 0, count: 5 },
      { device: 'd 2', time: 0, count: 7 },
      { time: 1000, kwh: 1.5, ok: true, note: null },
    ]);
  });

  it.each([
    ['a statement error', 200, '{"results":[{"statement_id":0,"error":"database not found: x"}]}', /database not found/],
    ['a query error', 400, '{"error":"error parsing query: found EOF"}', /HTTP 400.*error parsing query/],
    ['a truncated (partial) result', 200, '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time"],"values":[[1]],"partial":true}]}]}', /partial/],
    ['an answer that is not JSON', 200, '<html>proxy error</html>', /not JSON/],
  ])('rejects %s', async (_name, status, body, error) => {
    answer = { status, body };
    await expect(queryInfluxQL(url, 'db', 'q')).rejects.toThrow(error);
  });
});
