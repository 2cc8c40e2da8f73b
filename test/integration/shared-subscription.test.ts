import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { publishBurst } from '../../edge-agent/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'shared';
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let a: Platform;
let b: Platform;

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  const env = (id: string) => ({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: id, PP_MQTT_SHARED_GROUP: 'pp' });
  [a, b] = await Promise.all([startTestPlatform(env('pp-a')), startTestPlatform(env('pp-b'))]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

describe('two platform instances on one MQTT 5 shared subscription', () => {
  it('split the load and store every sample exactly once between them', async () => {
    const burst = await publishBurst({ brokerUrl: mosquitto.url, sites: 1, linesPerSite: 4, machinesPerLine: 5, seed: 4, samplesPerDevice: 300, samplesPerMessage: 10 });
    const stored = async () => (await scrapeMetric(a.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })) + (await scrapeMetric(b.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' }));
    await waitFor(async () => (await stored()) >= burst.samples, 30_000, 'all samples stored');
    const byA = await scrapeMetric(a.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' });
    const byB = await scrapeMetric(b.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' });
    expect(byA + byB).toBe(burst.samples); // no message went to both
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    const rows = await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry');
    expect(Number(rows[0]!.count)).toBe(burst.samples);
  });
});
