import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV1Sink, InfluxV2Sink, SinkError, type Sink } from '../../../src/storage/index.js';

// A stand-in HTTP server answering with the status codes InfluxDB uses, to check that both
// sinks classify them the same way (the real servers are exercised in test/integration).
let server: Server;
let url = '';
const answers: Record<string, { status: number; headers?: Record<string, string>; body: string }> = {
  bad: { status: 400, body: '{"code":"invalid","message":"unable to parse line"}' },
  busy: { status: 429, headers: { 'retry-after': '7' }, body: '{"code":"too many requests"}' },
  down: { status: 503, body: 'unavailable' },
  auth: { status: 401, body: '{"code":"unauthorized"}' },
};
let mode = 'bad';

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const a = answers[mode]!;
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
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
});
