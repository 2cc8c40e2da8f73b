import { gzipSync } from 'node:zlib';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';

/**
 * InfluxDB line protocol into PlantPulse, end to end: real clients write to the platform's
 * /api/v2/write and /write, and the data is read back from a real influxd (the platform's storage).
 */
const DB = 'lp_ingest';
let influx: InfluxdProcess;
let platform: Platform;

beforeAll(async () => {
  // The client logs every failed write to the console; the test asserts on the errors instead.
  setLogger({ error: () => {}, warn: () => {} });
  influx = await startInfluxd();
  platform = await startTestPlatform({ PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_EMBEDDED_PORT: '0' });
});
afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
});

const select = (q: string) => queryInfluxQL(influx.url, DB, q);
const base = Date.now() - 3_600_000;

describe('line protocol ingest into real InfluxDB', () => {
  it("the official influxdb-client WriteApi writes points that land in `telemetry` with their tags, fields and timestamps", async () => {
    // Anything for org, bucket and token: PlantPulse writes to its own storage (tokens are a later issue).
    const client = new InfluxDB({ url: platform.httpUrl, token: 'any-token' });
    const writeApi = client.getWriteApi('any-org', 'any-bucket', 'ns', { batchSize: 1000, flushInterval: 0, maxRetries: 0 });
    writeApi.useDefaultTags({ site: 'plant-a', line: 'assembly' });
    const devices = ['press-1', 'press-2'];
    for (let i = 0; i < 150; i++) {
      for (const device of devices) {
        writeApi.writePoint(
          new Point('telemetry')
            .tag('device', device)
            .floatField('power_kw', 40 + i / 8)
            .intField('output_units', 1000 + i)
            .booleanField('running', i % 2 === 0)
            // Nanoseconds with sub-millisecond digits: stored floored to the millisecond.
            .timestamp(`${base + i * 1000}123456`),
        );
      }
    }
    // A Telegraf-style measurement: fields become <measurement>_<field>, `host` names the device.
    writeApi.writePoint(new Point('cpu').tag('host', 'edge-gw-1').tag('cpu', 'cpu-total').floatField('usage_idle', 97.25).timestamp(`${base}000000`));
    await writeApi.close(); // resolves once PlantPulse answered 204, i.e. the data is durable

    const rows = await select(`SELECT * FROM telemetry WHERE device = 'press-2' ORDER BY time`);
    expect(rows).toHaveLength(150);
    expect(rows[7]).toEqual({ time: base + 7000, site: 'plant-a', line: 'assembly', device: 'press-2', power_kw: 40 + 7 / 8, output_units: 1007, running: 0, cpu_usage_idle: null });
    expect(rows.map((r) => r.time)).toEqual(Array.from({ length: 150 }, (_, i) => base + i * 1000));
    const [count] = await select(`SELECT count(power_kw) FROM telemetry WHERE site = 'plant-a'`);
    expect(count!.count).toBe(300);
    const gateway = await select(`SELECT cpu_usage_idle, site, line FROM telemetry WHERE device = 'edge-gw-1'`);
    expect(gateway).toEqual([{ time: base, cpu_usage_idle: 97.25, site: 'plant-a', line: 'assembly' }]);
    // Tags other than site/line/device are not stored (bounded cardinality).
    const tagKeys = await select('SHOW TAG KEYS FROM telemetry');
    expect(tagKeys.map((r) => r.tagKey).sort()).toEqual(['device', 'line', 'site']);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'line_protocol' })).toBe(301);
  });

  it('a body mixing good and bad lines: 400 naming the bad lines, and the good lines stored', async () => {
    const t = base + 500_000;
    const body = [
      `telemetry,site=plant-b,line=l1,device=d1 power_kw=1 ${t}`,
      `telemetry,site=plant-b,line=l1,device=d1 power_kw=oops ${t + 1000}`,
      `telemetry,site=plant-b,line=l1,device=d1 power_kw=3 ${t + 2000}`,
      `telemetry,site=plant-b,line=l1,device=bad\\ id power_kw=4 ${t + 3000}`,
      `telemetry,site=plant-b,line=l1,device=d1 power_kw=5,status="idle" ${t + 4000}`,
      `telemetry,site=plant-b,line=l1,device=d1 power_kw=6 ${Date.now() + 86_400_000}`,
      `telemetry,site=plant-b,line=l1,device=d1 power_kw=7 ${t + 6000}`,
    ].join('\n');
    const res = await fetch(`${platform.httpUrl}/api/v2/write?org=o&bucket=b&precision=ms`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', authorization: 'Token x' }, body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { code: string; message: string; accepted: number; rejected: number; rejections: { line: number; code: string; field?: string }[] };
    expect(json.code).toBe('invalid');
    expect(json.message).toMatch(/^partial write: 4 of 7 lines stored \(1 without some of their fields\), 3 not stored: line 2:/);
    expect(json.rejections.map((r) => [r.line, r.code, r.field])).toEqual([
      [2, 'PP_ERR_LINE_PROTOCOL_SYNTAX', undefined],
      [4, 'PP_ERR_INVALID_ID', undefined],
      [5, 'PP_ERR_UNSUPPORTED_FIELD_TYPE', 'status'],
      [6, 'PP_ERR_FUTURE_TIMESTAMP', undefined],
    ]);
    const rows = await select(`SELECT power_kw FROM telemetry WHERE site = 'plant-b' ORDER BY time`);
    expect(rows.map((r) => [r.time, r.power_kw])).toEqual([[t, 1], [t + 2000, 3], [t + 4000, 5], [t + 6000, 7]]);

    // The official client surfaces the same answer as a non-retryable HttpError.
    const writeApi = new InfluxDB({ url: platform.httpUrl, token: 't' }).getWriteApi('o', 'b', 'ms', { maxRetries: 0, flushInterval: 0 });
    writeApi.writeRecords([`telemetry,site=plant-b,line=l1,device=d2 power_kw=8 ${t}`, `telemetry,site=plant-b,line=l1 power_kw=9 ${t}`]);
    const err = await writeApi.close().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).statusCode).toBe(400);
    expect((err as HttpError).body).toContain('line 2: no device tag');
    expect((await select(`SELECT power_kw FROM telemetry WHERE device = 'd2'`)).map((r) => r.power_kw)).toEqual([8]);
  });

  it('1.x style: POST /write?db=x&precision=s with a gzip body', async () => {
    const seconds = Math.floor(base / 1000) + 900;
    const lines = Array.from({ length: 300 }, (_, i) => `boiler,site=plant-c,line=utilities,device=boiler-${i % 3} steam_t=${i / 10},flame_on=t ${seconds + i}`);
    const res = await fetch(`${platform.httpUrl}/write?db=x&rp=autogen&precision=s&u=ops&p=secret`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: gzipSync(lines.join('\n') + '\n') });
    expect(res.status).toBe(204);
    const rows = await select(`SELECT boiler_steam_t, boiler_flame_on FROM telemetry WHERE device = 'boiler-1' ORDER BY time`);
    expect(rows).toHaveLength(100);
    expect(rows[0]).toEqual({ time: (seconds + 1) * 1000, boiler_steam_t: 0.1, boiler_flame_on: 1 });
    expect(rows[99]).toEqual({ time: (seconds + 298) * 1000, boiler_steam_t: 29.8, boiler_flame_on: 1 });

    // A 1.x error answer carries `error`, as 1.x clients expect.
    const bad = await fetch(`${platform.httpUrl}/write?db=x&precision=s`, { method: 'POST', body: gzipSync('boiler,site=plant-c steam_t=1'), headers: { 'content-encoding': 'gzip' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('unable to parse: none of 1 lines stored: line 1: no line tag: PlantPulse looks for "line"');
  });
});
