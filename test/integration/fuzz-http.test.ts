import fc from 'fast-check';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { ERRORS, type ErrorCode } from '../../src/contract/index.js';
import { parseLineProtocol } from '../../src/sources/line-protocol/index.js';
import { startCapturingInflux, type CapturingInflux } from '../support/capturing-influx.js';
import { fuzz } from '../support/fuzz.js';
import { anyJson, hostileString, invalidId, invalidSample, PROTOTYPE_KEYS, validId, validMetricName, validSample } from '../support/hostile-input.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';

/**
 * Every API body and query string of a real in-process platform, fuzzed. Storage is a capturing
 * stand-in for InfluxDB (test/support/capturing-influx.ts), so every byte that would have been
 * written can be checked. Properties: never a 5xx; every error is JSON `{ code, message }` with a
 * PP_ERR_* code of the right status; valid samples beside invalid ones are always stored; what is
 * written is well-formed line protocol, and exactly the samples that were answered as accepted.
 */

let influx: CapturingInflux;
let platform: Platform;
let base: string;
/** Samples the platform answered as stored (JSON `accepted`, line protocol lines): must equal what was written. */
let answeredStored = 0;
const NOW = Date.now();
const LIMITS = { maxMetricsPerSample: 256, maxFutureSkewMs: 300_000 };
const MAX_BYTES = 1024 * 1024;

beforeAll(async () => {
  influx = await startCapturingInflux();
  platform = await startTestPlatform({ PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'fuzz', PP_MQTT_EMBEDDED_PORT: '0', PP_WRITE_FLUSH_MS: '5' });
  base = platform.httpUrl;
});
afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
});

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

async function call(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined; // not JSON: the assertions on the answer say so
  }
  return { status: res.status, text, json };
}

const isCode = (c: unknown): c is ErrorCode => typeof c === 'string' && /^PP_ERR_[A-Z_]+$/.test(c) && Object.hasOwn(ERRORS, c);

/** A non-2xx answer of the PlantPulse API: JSON `{ code, message }`, the code's own status, never 5xx. */
function expectCoded(a: Answer, what: string): void {
  expect(a.status, `${what}: ${a.text.slice(0, 300)}`).toBeLessThan(500);
  if (a.status < 300) return;
  const body = a.json as { code?: unknown; message?: unknown } | undefined;
  expect(isCode(body?.code), `${what}: not a coded error: ${a.text.slice(0, 300)}`).toBe(true);
  expect(ERRORS[body!.code as ErrorCode].status).toBe(a.status);
  expect(typeof body!.message).toBe('string');
}

/** A non-2xx answer of the InfluxDB-compatible write API: InfluxDB's shape, plus the PlantPulse code. */
function expectInfluxCoded(a: Answer, api: 'v1' | 'v2', what: string): void {
  expect(a.status, `${what}: ${a.text.slice(0, 300)}`).toBeLessThan(500);
  if (a.status < 300) return;
  const body = a.json as { code?: unknown; message?: unknown; ppCode?: unknown; error?: unknown } | undefined;
  expect(typeof body?.code, `${what}: ${a.text.slice(0, 300)}`).toBe('string');
  expect(typeof body?.message).toBe('string');
  // Errors raised before the route (a malformed path) answer the API's own shape.
  if (isCode(body?.code)) return;
  expect(isCode(body?.ppCode), `${what}: no ppCode: ${a.text.slice(0, 300)}`).toBe(true);
  if (api === 'v1') expect(body?.error).toBe(body?.message);
}

/** Percent-encodes every byte, so any string (lone surrogates included) makes a valid URL. */
const enc = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
/** Raw URL pieces that are not valid percent-encoding or that mean something to a query parser. */
const RAW_PIECES = ['%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '&&', '==', '[]', 'a[b]', '__proto__[x]', ';', '+', '#frag'];
const urlPiece = fc.oneof({ arbitrary: hostileString.map(enc), weight: 3 }, fc.constantFrom(...RAW_PIECES));

describe('fuzz: POST /api/v1/ingest', () => {
  const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
  const sample = fc.oneof(validSample(NOW, LIMITS).map((s) => ({ valid: true as const, s })), invalidSample(NOW, LIMITS).map((s) => ({ valid: false as const, s })));
  const ingestCase = fc.record({
    ids: fc.tuple(validId, validId, validId),
    hostileId: fc.option(fc.tuple(fc.nat(2), invalidId), { freq: 5 }),
    inPath: fc.boolean(),
    items: fc.array(sample, { maxLength: 12 }),
    // Mostly well-formed envelopes; sometimes the body is something else entirely.
    replaceBody: fc.option(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), anyJson.map((v) => Buffer.from(JSON.stringify(v))), hostileString.map((s) => Buffer.from(s))), { freq: 6 }),
    contentType: fc.oneof({ arbitrary: fc.constantFrom(...JSON_TYPES), weight: 8 }, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', ''), fc.stringMatching(/^[\x20-\x7e]{0,40}$/)),
  });

  it('never 5xx, errors coded, and exactly the valid samples are stored', async () => {
    await fc.assert(
      fc.asyncProperty(ingestCase, async (c) => {
        const ids = [...c.ids];
        if (c.hostileId) ids[c.hostileId[0]] = c.hostileId[1];
        const [site, line, device] = ids as [string, string, string];
        const samples = c.items.map((x) => x.s);
        const envelope = c.inPath ? { samples } : { site, line, device, samples };
        const body = c.replaceBody ?? Buffer.from(JSON.stringify(envelope));
        const path = c.inPath ? `/api/v1/ingest/${enc(site)}/${enc(line)}/${enc(device)}` : '/api/v1/ingest';
        const a = await call('POST', path, body, c.contentType === '' ? {} : { 'content-type': c.contentType });
        expectCoded(a, 'ingest');
        // Even a body of nothing but bad fields answers in proportion to its size.
        expect(a.text.length).toBeLessThanOrEqual(body.length + 256 * 1024);
        if (a.status === 200) answeredStored += (a.json as { accepted: number }).accepted;
        const wellFormed = c.hostileId === null && c.replaceBody === null && JSON_TYPES.includes(c.contentType) && body.length <= MAX_BYTES;
        if (!wellFormed) return;
        const valid = c.items.filter((x) => x.valid).length;
        if (valid === 0) {
          expect({ status: a.status, code: (a.json as { code: string }).code }).toEqual({ status: 400, code: 'PP_ERR_NO_VALID_SAMPLES' });
        } else {
          expect(a.status).toBe(200);
          expect((a.json as { accepted: number }).accepted).toBe(valid);
        }
      }),
      fuzz(150),
    );
  });

  it('a body of thousands of bad fields answers a bounded list of rejections, every one counted', async () => {
    const bad = Array.from({ length: 3000 }, (_, i) => `{"ts":"x","m":{"a${i}":"","b":null}}`).join(',');
    const body = Buffer.from(`{"site":"s","line":"l","device":"d","samples":[${bad}]}`);
    const a = await call('POST', '/api/v1/ingest', body, { 'content-type': 'application/json' });
    expect(a.status).toBe(400);
    const j = a.json as { code: string; rejected: number; rejections: unknown[]; rejectionsOmitted: number };
    expect(j.code).toBe('PP_ERR_NO_VALID_SAMPLES');
    expect(j.rejections).toHaveLength(1000);
    expect(j.rejected).toBe(9000);
    expect(j.rejectionsOmitted).toBe(8000);
  });
});

describe('fuzz: POST /api/v1/alerts/:id/ack', () => {
  let alertId = '';

  beforeAll(async () => {
    // Open a real alert: combustible gas above the 25 %LEL alarm level is raised on the first reading.
    const samples = [0, 1, 2].map((i) => ({ ts: NOW - 30_000 + i * 1000, m: { gas_lel_pct: 40 } }));
    const a = await call('POST', '/api/v1/ingest/fuzz-site/fuzz-line/gas-1', Buffer.from(JSON.stringify({ samples })), { 'content-type': 'application/json' });
    expect(a.status).toBe(200);
    answeredStored += 3;
    const list = (await call('GET', '/api/v1/alerts?device=gas-1')).json as { alerts: { id: string }[] };
    expect(list.alerts.length).toBeGreaterThan(0);
    alertId = list.alerts[0]!.id;
  });

  const ackBody = fc.oneof(
    fc.record({ by: fc.oneof(fc.string({ maxLength: 140 }), hostileString), note: fc.oneof(fc.string({ maxLength: 2100 }), hostileString) }, { requiredKeys: [] }).map((b) => Buffer.from(JSON.stringify(b))),
    fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS, 'by', 'note', 'extra'), anyJson).map(([k, v]) => Buffer.from(`{${JSON.stringify(k)}:${JSON.stringify(v)}}`)),
    anyJson.map((v) => Buffer.from(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
    fc.constant(Buffer.alloc(0)),
    fc.integer({ min: 64 * 1024, max: 300 * 1024 }).map((n) => Buffer.from(JSON.stringify({ note: 'n'.repeat(n) }))),
  );

  it('never 5xx, errors coded; a valid acknowledgement of the real alert is answered 200', async () => {
    await fc.assert(
      fc.asyncProperty(ackBody, fc.oneof({ arbitrary: fc.constant('real'), weight: 3 }, urlPiece), fc.constantFrom('application/json', 'text/plain', ''), async (body, id, contentType) => {
        const a = await call('POST', `/api/v1/alerts/${id === 'real' ? alertId : id}/ack`, body, contentType === '' ? {} : { 'content-type': contentType });
        expectCoded(a, 'ack');
        if (a.status === 200) expect((a.json as { alert: { id: string } }).alert.id).toBe(alertId);
      }),
      fuzz(150),
    );
  });
});

describe('fuzz: query strings of the read APIs', () => {
  const KEYS = ['state', 'site', 'line', 'device', 'category', 'from', 'to', 'limit', 'metric', 'every', 'window', ...PROTOTYPE_KEYS];
  const VALUES = ['open', 'resolved', 'safety', 'energy', 'fuzz-site', 'fuzz-site/fuzz-line/gas-1', 'gas_lel_pct', 'now', 'now-24h', 'now-999999999w', '9999999999999999', '2026-11-29T08:00:00Z', '1m', '15m', '1h', '1d', '0', '-1', '1e3', '10001', ''];
  const param = fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...KEYS), weight: 4 }, urlPiece), fc.oneof({ arbitrary: fc.constantFrom(...VALUES), weight: 4 }, urlPiece));
  const query = fc.array(param, { maxLength: 8 }).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&'));
  const route = fc.constantFrom('/api/v1/alerts', '/api/v1/series', '/api/v1/energy', '/api/v1/alerts/x', '/write', '/api/v2/write');
  /** Parameters a route needs, so that fuzzed extras also reach the statement it sends to storage. */
  const REQUIRED: Record<string, string> = { '/api/v1/series': 'device=fuzz-site/fuzz-line/gas-1&metric=gas_lel_pct', '/api/v1/energy': 'site=fuzz-site', '/write': 'db=fuzz', '/api/v2/write': 'bucket=fuzz' };

  it('never 5xx and errors coded, whatever the parameters', async () => {
    await fc.assert(
      fc.asyncProperty(route, query, fc.boolean(), async (path, fuzzed, withRequired) => {
        const q = withRequired && REQUIRED[path] ? `${REQUIRED[path]}&${fuzzed}` : fuzzed;
        const write = path === '/write' || path === '/api/v2/write';
        const a = await call(write ? 'POST' : 'GET', `${path}?${q}`, write ? Buffer.from('telemetry,site=s,line=l,device=d power_kw=1') : undefined);
        if (write) expectInfluxCoded(a, path === '/write' ? 'v1' : 'v2', `${path}?${q}`);
        else expectCoded(a, `${path}?${q}`);
        if (write && a.status === 204) answeredStored += 1;
      }),
      fuzz(250),
    );
  });

  it('a query string over 16 KiB is refused with a coded 431', async () => {
    const a = await call('GET', `/api/v1/alerts?${'site=a&'.repeat(3000)}`);
    expect(a.status).toBe(431);
    expect(a.json).toMatchObject({ code: 'PP_ERR_HEADERS_TOO_LARGE' });
  });

  it('only validated ids, windows and numbers reach InfluxQL', () => {
    const history = influx.queries.filter((q) => q.startsWith('SELECT'));
    expect(history.length).toBeGreaterThan(0);
    for (const q of history) {
      expect(q).not.toContain(';');
      for (const [, literal] of q.matchAll(/'((?:[^'\\]|\\.)*)'/g)) expect(literal).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    }
  });
});

describe('fuzz: POST /write and /api/v2/write (line protocol)', () => {
  const goodLine = fc.tuple(validId, validId, validId, validMetricName, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: NOW - 86_400_000, max: NOW })).map(([s, l, d, m, v, ts]) => `telemetry,site=${s},line=${l},device=${d} ${m}=${v} ${ts}`);
  const LP = ['m', 'f', 't', '1', '.', '-', ',', '=', ' ', '\\', '"', '#', '_', '\r', '\t', 'é', '中'];
  const badLine = fc.oneof(fc.string({ unit: fc.constantFrom(...LP), maxLength: 40 }), hostileString.filter((x) => x.length < 200).map((x) => x.replace(/[\n"]/g, '')));
  const lpCase = fc.record({
    api: fc.constantFrom('v1', 'v2'),
    lines: fc.array(fc.oneof(goodLine.map((text) => ({ valid: true as const, text })), badLine.map((text) => ({ valid: false as const, text }))), { minLength: 1, maxLength: 10 }),
    gzip: fc.boolean(),
    encoding: fc.option(fc.constantFrom('gzip', 'identity', 'br', 'x-gzip', 'GZIP'), { freq: 3 }),
  });

  it('never 5xx, errors coded; every valid line is stored whatever lines surround it', async () => {
    await fc.assert(
      fc.asyncProperty(lpCase, async (c) => {
        const text = c.lines.map((l) => l.text).join('\n');
        const raw = Buffer.from(text);
        const body = c.gzip ? gzipSync(raw) : raw;
        const headers: Record<string, string> = {};
        const encoding = c.encoding ?? (c.gzip ? 'gzip' : null);
        if (encoding) headers['content-encoding'] = encoding;
        const path = c.api === 'v1' ? '/write?db=fuzz&precision=ms' : '/api/v2/write?bucket=fuzz&precision=ms';
        const a = await call('POST', path, body, headers);
        expectInfluxCoded(a, c.api, 'write');
        const decodable = encoding === null || (encoding.toLowerCase().includes('gzip') ? c.gzip : encoding === 'identity' && !c.gzip);
        const entries = parseLineProtocol(text).entries;
        if (a.status === 204) answeredStored += entries;
        if (a.status === 400 && (a.json as { accepted?: number }).accepted !== undefined) answeredStored += (a.json as { accepted: number }).accepted;
        if (!decodable) return;
        const valid = c.lines.flatMap((l, i) => (l.valid ? [i + 1] : []));
        if (a.status === 204) return; // every line was stored
        expect(a.status).toBe(400);
        const j = a.json as { accepted: number; rejections: { line: number }[] };
        expect(j.accepted).toBeGreaterThanOrEqual(valid.length);
        for (const r of j.rejections) expect(valid).not.toContain(r.line);
      }),
      fuzz(150),
    );
  });

  it('a gzip bomb is refused with 413 before it is inflated beyond the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x61));
    const a = await call('POST', '/api/v2/write?bucket=x', bomb, { 'content-encoding': 'gzip' });
    expect(a.status).toBe(413);
    expect(a.json).toMatchObject({ ppCode: 'PP_ERR_BODY_TOO_LARGE' });
  });
});

/** The payload of a chunked body (`<hex size>\r\n<data>\r\n`... `0\r\n\r\n`). */
function unchunk(body: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** Sends raw bytes as an HTTP request and returns whatever comes back before the server closes. */
function rawExchange(bytes: Buffer): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let out = '';
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('connect', () => socket.end(bytes)); // half-close: the server sees the whole request
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe('fuzz: raw bytes on the HTTP port', () => {
  const header = fc.tuple(fc.oneof(fc.constantFrom('Content-Type', 'Content-Length', 'Transfer-Encoding', 'Content-Encoding', 'Host', 'Connection', 'Expect'), fc.string({ maxLength: 20 })), fc.oneof(fc.constantFrom('application/json', '5', '-1', '99999999999', 'chunked', 'gzip', 'close', '100-continue'), fc.string({ maxLength: 30 })));
  const request = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'BREW', ''), fc.constantFrom('/api/v1/ingest', '/api/v1/alerts', '/write', '/healthz', '*', '', '/%zz'), fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''), fc.array(header, { maxLength: 5 }), fc.string({ maxLength: 100 })).map(([m, p, v, hs, b]) => Buffer.from(`${m} ${p} ${v}\r\n${hs.map(([k, x]) => `${k}: ${x}`).join('\r\n')}\r\n\r\n${b}`)),
  );

  it('every answer is an HTTP response with a coded JSON body (or none at all), and the server lives on', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (bytes) => {
        const out = await rawExchange(bytes);
        if (out === '') return; // closed without an answer (e.g. an incomplete request)
        for (const response of out.split(/(?=HTTP\/1\.[01] \d{3} )/)) {
          const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(response)?.[1]);
          expect(status, response.slice(0, 200)).toBeGreaterThanOrEqual(100);
          expect(status, response.slice(0, 200)).toBeLessThan(500);
          const head = response.slice(0, response.indexOf('\r\n\r\n'));
          const rawBody = response.slice(head.length + 4);
          const text = /^transfer-encoding: chunked$/im.test(head) ? unchunk(rawBody) : rawBody;
          // No body: Node's own answer to an HTTP/1.1 request without a Host header (400, empty).
          if (status < 300 || text === '') continue;
          const json = JSON.parse(text) as { code?: unknown; ppCode?: unknown };
          expect(isCode(json.code) || isCode(json.ppCode), text).toBe(true);
        }
      }),
      fuzz(150),
    );
    expect((await call('GET', '/healthz')).status).toBe(200);
  });
});

describe('fuzz: what was written', () => {
  it('every write is well-formed line protocol, and exactly the samples answered as stored were written', async () => {
    let telemetry = 0;
    for (const body of influx.writes) {
      const r = parseLineProtocol(body);
      expect(r.errors).toEqual([]);
      for (const p of r.points) {
        if (p.measurement !== 'telemetry') continue;
        telemetry++;
        expect(p.tags.map((t) => t.key)).toEqual(['device', 'line', 'site']);
        for (const t of p.tags) expect(t.value).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        for (const f of p.fields) expect(f.type === 'float' ? Number.isFinite(f.value) : f.key === 'bad' && f.type === 'string').toBe(true);
      }
    }
    expect(answeredStored).toBeGreaterThan(100); // not vacuous: the fuzzing stored a lot
    expect(telemetry).toBe(answeredStored);
    expect(await scrapeMetric(base, 'pp_samples_stored_total')).toBe(answeredStored);
  });
});
