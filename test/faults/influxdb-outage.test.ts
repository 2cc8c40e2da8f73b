import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

const DB = 'outage';
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-outage', PP_INFLUX_TIMEOUT_MS: '2000' });
});
afterAll(async () => {
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

describe('InfluxDB killed for 30 s under load', () => {
  it('spools while it is down, replays when it is back, and stores exactly what was sent', async () => {
    // 50 devices, 100 messages/s of 10 samples: 1,000 samples/s for 40 s.
    const load = steadyLoad({ brokerUrl: mosquitto.url, devices: 50, messagesPerSecond: 100, samplesPerMessage: 10, durationMs: 40_000 });
    await new Promise((r) => setTimeout(r, 5000));
    await influx.kill('SIGKILL');
    const killedAt = Date.now();
    let maxInflight = 0;
    let maxQueue = 0;
    while (Date.now() - killedAt < 30_000) {
      maxInflight = Math.max(maxInflight, await scrapeMetric(platform.httpUrl, 'pp_mqtt_inflight_messages'));
      maxQueue = Math.max(maxQueue, await scrapeMetric(platform.httpUrl, 'pp_write_queue_lines'));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const spooledLines = await scrapeMetric(platform.httpUrl, 'pp_spool_appended_lines_total');
    const spoolAge = await scrapeMetric(platform.httpUrl, 'pp_spool_oldest_age_seconds');
    await influx.restart();
    const sent = await load.done;
    await waitFor(async () => (await stored()) === sent.samples, 60_000, `all ${sent.samples} samples in InfluxDB`, 500);
    console.log(`influxdb outage: sent ${sent.samples}, stored ${await stored()}, spooled ${spooledLines} lines (oldest ${spoolAge.toFixed(1)} s before restart), max in flight ${maxInflight}, max queued ${maxQueue}`);
    expect(sent.samples).toBeGreaterThan(35_000);
    expect(spooledLines).toBeGreaterThan(20_000); // the outage went to disk, not to memory
    expect(spoolAge).toBeGreaterThan(20);
    expect(maxQueue).toBeLessThan(20_000); // memory stayed bounded meanwhile
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_spool_bytes')) === 0, 30_000, 'spool drained');
    expect(await scrapeMetric(platform.httpUrl, 'pp_spool_replayed_lines_total')).toBe(await scrapeMetric(platform.httpUrl, 'pp_spool_appended_lines_total'));
    expect(await stored()).toBe(sent.samples);
  });
});
