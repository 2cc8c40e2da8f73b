import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSink, InfluxV1Sink, InfluxV2Sink, quoteDatabaseName, SinkError, type Sink } from '../../../src/storage/index.js';

// A stand-in HTTP server answering with the status codes InfluxDB uses, to check that both
// sinks classify them the same way (the real servers are exercised in test/integration).
let server: Server;
let url = '';
const answers: Record<string, { status: number; headers?: Record<string, string>; body: string }> = {
  bad: { status: 400, body: '{"code":"invalid","message":"unable to parse line"}' },
  busy: { status: 429, headers: { 'retry-after': '7' }, body: '{"code":"too many requests"}' },
  down: { status: 503, body: 'unavailable' },
  auth: { status: 401, body: '{"code":"unauthorized"}' },
  timeout: { status: 408, body: '' },
  // Its Retry-After date is set when the request arrives (below): 60 s after that, in whole seconds.
  dated: { status: 503, body: 'maintenance' },
  headerOnly: { status: 500, headers: { 'x-influxdb-error': 'engine: cache maximum memory size exceeded' }, body: '' },
  missing: { status: 404, body: '{"code":"not found","message":"bucket \\"b\\" not found"}' },
};
let mode = 'bad';
/** The date the `dated` answer named, epoch ms (whole seconds). */
let datedRetryAt = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const a = answers[mode]!;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...a.headers };
    if (mode === 'dated') {
      datedRetryAt = Math.floor((Date.now() + 60_000) / 1000) * 1000;
      headers['retry-after'] = new Date(datedRetryAt).toUTCString();
    }
    res.writeHead(a.status, headers);
    res.end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sinks = (): [string, Sink][] => [
  ['v1', new InfluxV1Sink({ url, database: 'db' })],
  ['v2', new InfluxV2Sink({ url, org: 'o', bucket: 'b', token: 't' })],
];

describe.each([['v1'], ['v2']])('%s sink error classification', (kind) => {
  const sink = () => sinks().find(([k]) => k === kind)![1];
  const fail = async (m: string) => {
    mode = m;
    return sink().write('telemetry,site=x power_kw=1 1').then(() => null, (e: unknown) => e as SinkError);
  };
  it('400: not retryable, with the server text', async () => {
    const e = await fail('bad');
    expect(e).toBeInstanceOf(SinkError);
    expect(e).toMatchObject({ retryable: false, status: 400 });
    expect(e!.message).toContain('unable to parse');
  });
  it('401: not retryable', async () => expect(await fail('auth')).toMatchObject({ retryable: false, status: 401 }));
  it('429 with Retry-After: retryable after the given delay', async () => expect(await fail('busy')).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000 }));
  it('503: retryable', async () => expect(await fail('down')).toMatchObject({ retryable: true, status: 503 }));
  it('408: retryable', async () => expect(await fail('timeout')).toMatchObject({ retryable: true, status: 408 }));
  it('404 (missing database or bucket): not retryable, a configuration error', async () => {
    const e = await fail('missing');
    expect(e).toMatchObject({ retryable: false, status: 404 });
    expect(e!.message).toContain('not found');
  });
  it('Retry-After as an HTTP-date', async () => {
    const e = await fail('dated');
    const answered = Date.now();
    expect(e).toMatchObject({ retryable: true, status: 503 });
    // The wait is measured from when the answer was parsed: no later than the named date, and no
    // earlier than it as seen from just after the write returned (a loaded machine widens this, not the check).
    expect(e!.retryAfterMs).toBeGreaterThanOrEqual(datedRetryAt - answered);
    expect(e!.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(datedRetryAt - answered).toBeGreaterThan(50_000);
  });
  it('the reason from X-Influxdb-Error when the body is empty', async () => {
    const e = await fail('headerOnly');
    expect(e).toMatchObject({ retryable: true, status: 500 });
    expect(e!.message).toContain('cache maximum memory size exceeded');
  });
  it('a refused connection: retryable', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const down = kind === 'v1' ? new InfluxV1Sink({ url: `http://127.0.0.1:${port}`, database: 'db' }) : new InfluxV2Sink({ url: `http://127.0.0.1:${port}`, org: 'o', bucket: 'b', token: 't' });
    const e = await down.write('m v=1 1').then(() => null, (err: unknown) => err as SinkError);
    expect(e).toBeInstanceOf(SinkError);
    expect(e).toMatchObject({ retryable: true, status: undefined });
    expect(e!.message).toContain('ECONNREFUSED');
  });
});

describe('sink timeouts', () => {
  let slow: Server;
  let slowUrl = '';
  beforeAll(async () => {
    slow = createServer((req) => req.resume()); // never answers
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    slow.closeAllConnections();
    return new Promise<void>((r) => slow.close(() => r()));
  });
  it.each([['v1'], ['v2']])('%s: a server that does not answer within timeoutMs is a retryable timeout', async (kind) => {
    const sink = kind === 'v1' ? new InfluxV1Sink({ url: slowUrl, database: 'db', timeoutMs: 200 }) : new InfluxV2Sink({ url: slowUrl, org: 'o', bucket: 'b', token: 't', timeoutMs: 200 });
    const started = performance.now();
    const e = await sink.write('m v=1 1').then(() => null, (err: unknown) => err as SinkError);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(e).toBeInstanceOf(SinkError);
    expect(e).toMatchObject({ retryable: true });
    expect(e!.message).toMatch(/timed out/i);
  });
});

describe('InfluxDB 1.x database names', () => {
  it.each([
    ['plantpulse', '"plantpulse"'],
    ['sp ace', '"sp ace"'],
    ['we "ird"', '"we \\"ird\\""'],
    ['工厂', '"工厂"'],
  ])('quotes %j as %s', (name, quoted) => expect(quoteDatabaseName(name)).toBe(quoted));
  it.each([[''], ['.'], ['..'], ['a/b'], ['a\\b'], ['a\nb']])('refuses %j (influxd 1.x answers "invalid name")', (name) => {
    expect(() => quoteDatabaseName(name)).toThrow(/invalid InfluxDB database name/);
    expect(() => new InfluxV1Sink({ url: 'http://127.0.0.1:1', database: name })).toThrow(/invalid InfluxDB database name/);
  });
});

describe('createSink', () => {
  it('builds the sink for the configured API', () => {
    expect(createSink({ kind: 'v1', url: 'http://h:8086/', database: 'db' })).toBeInstanceOf(InfluxV1Sink);
    expect(createSink({ kind: 'v1', url: 'http://h:8086/', database: 'db' }).name).toBe('influxdb-v1 http://h:8086 db=db');
    expect(createSink({ kind: 'v2', url: 'http://h:8086', org: 'o', bucket: 'b', token: 't' })).toBeInstanceOf(InfluxV2Sink);
  });
  it('refuses an unknown kind', () => {
    expect(() => createSink({ kind: 'v9' } as unknown as Parameters<typeof createSink>[0])).toThrow(/unknown sink kind/);
  });
});
