import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

const DB = 'broker_restart';
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-broker-restart' });
});
afterAll(async () => {
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

describe('the broker restarted under load', () => {
  it('gateway and platform reconnect, and InfluxDB ends with exactly what the broker acknowledged', async () => {
    const load = steadyLoad({ brokerUrl: mosquitto.url, devices: 30, messagesPerSecond: 100, samplesPerMessage: 10, durationMs: 15_000 });
    await new Promise((r) => setTimeout(r, 4000));
    await mosquitto.kill('SIGTERM'); // a clean restart: Mosquitto saves its queues on the way down
    expect(await scrapeMetric(platform.httpUrl, 'pp_mqtt_connected').catch(() => -1)).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 3000));
    await waitFor(async () => (await fetch(`${platform.httpUrl}/readyz`)).status === 503, 5000, 'readyz to report the broker gone');
    await mosquitto.restart();
    const sent = await load.done;
    await waitFor(async () => (await stored()) === sent.samples, 20_000, `all ${sent.samples} samples stored`, 500).catch(async (e) => {
      console.log('broker restart failed', { sent, stored: await stored(), connected: await scrapeMetric(platform.httpUrl, 'pp_mqtt_connected') }, mosquitto.log().slice(-1500));
      throw e;
    });
    console.log(`broker restart: sent ${sent.samples}, stored ${await stored()}`);
    expect(sent.samples).toBeGreaterThan(10_000);
    await waitFor(async () => (await fetch(`${platform.httpUrl}/readyz`)).status === 200, 10_000, 'ready again');
  });
});
