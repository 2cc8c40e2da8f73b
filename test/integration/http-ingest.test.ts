import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'http_ingest';
let influx: InfluxdProcess;
let platform: Platform;

beforeAll(async () => {
  influx = await startInfluxd();
  // HTTP ingest does not need a real broker: the embedded one on a free port is enough here.
  platform = await startTestPlatform({ PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_EMBEDDED_PORT: '0' });
});
afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
});

const post = (path: string, body: unknown, contentType = 'application/json') =>
  fetch(`${platform.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const count = async (where: string) => {
  const rows = await queryInfluxQL(influx.url, DB, `SELECT count(power_kw) FROM telemetry WHERE ${where}`);
  return Number(rows[0]?.count ?? 0);
};

describe('HTTP ingest into real InfluxDB', () => {
  const base = Date.now() - 3_600_000;

  it('stores every sample of valid batches, with ids from the body or the path', async () => {
    for (let b = 0; b < 10; b++) {
      const samples = Array.from({ length: 100 }, (_, i) => ({ ts: base + (b * 100 + i) * 1000, m: { power_kw: b * 100 + i + 0.25, state: 2 } }));
      const res = b % 2 === 0 ? await post('/api/v1/ingest', { site: 'site-h', line: 'line-1', device: 'dev-a', seq: b, samples }) : await post('/api/v1/ingest/site-h/line-1/dev-a', { seq: b, samples });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 100, rejected: 0 });
    }
    expect(await count(`device = 'dev-a'`)).toBe(1000);
    const rows = await queryInfluxQL(influx.url, DB, `SELECT power_kw, state FROM telemetry WHERE device = 'dev-a' AND time = ${(base + 437_000) * 1_000_000}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ power_kw: 437.25, state: 2 });
  });

  it('keeps the good samples of a batch with bad ones, and names each bad one', async () => {
    const good = (i: number) => ({ ts: base + i * 1000, m: { power_kw: i } });
    const samples = [good(1), { ts: base + 2000, m: { power_kw: 'high' } }, good(3), { ts: Date.now() + 86_400_000, m: { power_kw: 1 } }, good(5), { ts: base + 6000, m: { 'bad name': 1 } }, { ts: 'yesterday', m: { power_kw: 1 } }];
    const res = await post('/api/v1/ingest/site-h/line-1/dev-b', { seq: 1, samples });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accepted: number; rejected: number; rejections: { code: string; sample: number; path: string; reason: string }[] };
    expect(body.accepted).toBe(3);
    expect(body.rejected).toBe(4);
    expect(body.rejections.map((r) => [r.sample, r.code, r.path])).toEqual([
      [1, 'PP_ERR_INVALID_VALUE', 'samples[1].m.power_kw'],
      [3, 'PP_ERR_FUTURE_TIMESTAMP', 'samples[3].ts'],
      [5, 'PP_ERR_INVALID_METRIC_NAME', 'samples[5].m.bad name'],
      [6, 'PP_ERR_INVALID_TIMESTAMP', 'samples[6].ts'],
    ]);
    const rows = await queryInfluxQL(influx.url, DB, `SELECT power_kw FROM telemetry WHERE device = 'dev-b'`);
    expect(rows.map((r) => r.power_kw)).toEqual([1, 3, 5]);
  });

  it('answers bad requests with a JSON reason and stores nothing', async () => {
    const cases: [Response, number, string][] = [
      [await post('/api/v1/ingest/site-h/line-1/dev-c', '{"samples": ['), 400, 'PP_ERR_INVALID_JSON'],
      [await post('/api/v1/ingest/site-h/line-1/dev-c', 'power_kw=1', 'text/plain'), 415, 'PP_ERR_UNSUPPORTED_MEDIA_TYPE'],
      [await post('/api/v1/ingest/site-h/line-1/dev%20c', { samples: [{ ts: base, m: { power_kw: 1 } }] }), 400, 'PP_ERR_INVALID_ID'],
      [await post('/api/v1/ingest', { site: 'x', samples: [] }), 400, 'PP_ERR_INVALID_ID'],
      [await post('/api/v1/ingest/site-h/line-1/dev-c', { samples: [{ ts: base, m: { power_kw: '1' } }] }), 400, 'PP_ERR_NO_VALID_SAMPLES'],
      [await post('/api/v1/ingest/site-h/line-1/dev-c', { samples: 'none' }), 400, 'PP_ERR_INVALID_ENVELOPE'],
      [await post('/api/v1/ingest/site-h/line-1/dev-c', JSON.stringify({ samples: [{ ts: base, m: { power_kw: 1, pad: 'x'.repeat(1100 * 1024) } }] })), 413, 'PP_ERR_BODY_TOO_LARGE'],
      [await post('/api/v1/nowhere', {}), 404, 'PP_ERR_NOT_FOUND'],
    ];
    for (const [res, status, code] of cases) {
      expect({ status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ status, code });
    }
    expect(await count(`device = 'dev-c'`)).toBe(0);
  });

  it('/metrics agrees with what was stored and rejected', async () => {
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'http' })).toBe(1003);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_rejected_total', { source: 'http', reason: 'PP_ERR_INVALID_VALUE' })).toBe(2);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_rejected_total', { source: 'http', reason: 'PP_ERR_FUTURE_TIMESTAMP' })).toBe(1);
    expect(await scrapeMetric(platform.httpUrl, 'pp_messages_rejected_total', { source: 'http', reason: 'PP_ERR_INVALID_JSON' })).toBe(1);
    expect(await scrapeMetric(platform.httpUrl, 'pp_write_batch_lines_count')).toBeGreaterThan(0);
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${platform.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${platform.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { broker: { ready: true }, storage: { ready: true, kind: 'v1' } } });
  });

  it('/readyz says 503 with the reason when InfluxDB is down', async () => {
    await influx.kill('SIGKILL');
    try {
      const res = await fetch(`${platform.httpUrl}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'not ready', checks: { storage: { ready: false } } });
    } finally {
      await influx.restart();
    }
  });

  it('while InfluxDB is down, answers 200 once the data is fsynced in the spool, and replays it when InfluxDB is back', async () => {
    await influx.kill('SIGKILL');
    const samples = Array.from({ length: 50 }, (_, i) => ({ ts: base + i * 1000, m: { power_kw: i } }));
    const res = await post('/api/v1/ingest/site-h/line-1/dev-r', { samples });
    expect(res.status).toBe(200);
    // 50 telemetry lines, plus the energy windows the batch closed (they travel with it).
    const spooled = await scrapeMetric(platform.httpUrl, 'pp_spool_appended_lines_total');
    expect(spooled).toBeGreaterThanOrEqual(50);
    expect(await scrapeMetric(platform.httpUrl, 'pp_spool_bytes')).toBeGreaterThan(0);
    const ready = (await (await fetch(`${platform.httpUrl}/readyz`)).json()) as { checks: { spool: { records: number } } };
    expect(ready.checks.spool.records).toBe(1);
    await influx.restart();
    await waitFor(async () => (await count(`device = 'dev-r'`)) === 50, 30_000, 'replay from the spool');
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_spool_bytes')) === 0, 10_000, 'spool emptied');
    expect(await scrapeMetric(platform.httpUrl, 'pp_spool_replayed_lines_total')).toBe(spooled);
  });
});
