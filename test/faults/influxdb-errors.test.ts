import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

const DB = 'errors';
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let platform: Platform;

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  proxy = await startFaultProxy(influx.url);
  platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: proxy.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-errors', PP_WRITE_SPOOL_AFTER_MS: '1000' });
});
afterAll(async () => {
  await platform?.stop();
  await proxy?.close();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

describe('InfluxDB answering 500s, then slowly, under load', () => {
  it('retries and spools through both, and stores exactly what was sent', async () => {
    const load = steadyLoad({ brokerUrl: mosquitto.url, devices: 20, messagesPerSecond: 50, samplesPerMessage: 10, durationMs: 16_000 });
    await pause(3000);
    proxy.set({ kind: 'error', status: 500 });
    await pause(5000);
    proxy.set({ kind: 'slow', delayMs: 3000 }); // slower than PP_WRITE_SPOOL_AFTER_MS
    await pause(5000);
    const duringFaults = { spooled: await scrapeMetric(platform.httpUrl, 'pp_spool_appended_lines_total'), retries: await scrapeMetric(platform.httpUrl, 'pp_write_retries_total') };
    proxy.set({ kind: 'pass' });
    const sent = await load.done;
    await waitFor(async () => (await stored()) === sent.samples, 60_000, `all ${sent.samples} samples stored`, 500);
    console.log(`influxdb errors: sent ${sent.samples}, stored ${await stored()}, ${proxy.counts.failed} writes answered 500, ${proxy.counts.delayed} delayed 3 s, ${duringFaults.spooled} lines spooled, ${duringFaults.retries} retries`);
    expect(proxy.counts.failed).toBeGreaterThan(0);
    expect(proxy.counts.delayed).toBeGreaterThan(0);
    expect(duringFaults.retries).toBeGreaterThan(0);
    expect(duringFaults.spooled).toBeGreaterThan(0);
    expect(await stored()).toBe(sent.samples);
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_spool_bytes')) === 0, 30_000, 'spool drained');
  });
});
