import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryInfluxQL } from '../../src/storage/index.js';
import { publishBurst } from '../../edge-agent/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'sigkill';
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: PlatformProcess | null = null;

const env = () => ({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-sigkill', PP_WRITE_FLUSH_MS: '150' });

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
});
afterAll(async () => {
  await platform?.kill('SIGKILL');
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

describe('the platform is SIGKILLed while messages are in flight', () => {
  it('loses nothing: the persistent session redelivers what was not acknowledged', async () => {
    platform = await spawnPlatform(env());
    // 60 devices × 1,000 samples in 10-sample messages: 6,000 messages, 60,000 samples.
    const burst = publishBurst({ brokerUrl: mosquitto.url, sites: 2, linesPerSite: 5, machinesPerLine: 6, seed: 11, samplesPerDevice: 1000, samplesPerMessage: 10, maxInFlight: 100 });

    // Kill once storage has some of the data but not all of it.
    let storedAtKill = 0;
    await waitFor(async () => (storedAtKill = await scrapeMetric(platform!.url, 'pp_samples_stored_total', { source: 'mqtt' })) >= 5000, 30_000, 'some samples stored', 10);
    const inflightAtKill = await scrapeMetric(platform.url, 'pp_mqtt_inflight_messages');
    await platform.kill('SIGKILL');
    platform = null;

    const sent = await burst; // the gateway keeps publishing to the broker meanwhile
    expect(sent.samples).toBe(60_000);
    expect(storedAtKill).toBeLessThan(sent.samples);
    console.log(`sigkill: killed with ${storedAtKill} samples stored and ${inflightAtKill} messages in flight; restarting`);

    platform = await spawnPlatform(env());
    const total = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
    await waitFor(async () => (await total()) === sent.samples, 90_000, 'every published sample in InfluxDB', 250);

    const rows = await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry GROUP BY site, line, device');
    expect(rows).toHaveLength(60);
    for (const r of rows) expect(Number(r.count), `${r.site}/${r.line}/${r.device}`).toBe(1000);
    // Spot-check one sample's values after the redelivery.
    const [key, samples] = [...sent.sent.entries()][23]!;
    const [site, line, device] = key.split('/');
    const s = samples[777]!;
    const got = await queryInfluxQL(influx.url, DB, `SELECT * FROM telemetry WHERE site='${site}' AND line='${line}' AND device='${device}' AND time = ${s.ts}ms`);
    expect(got).toHaveLength(1);
    for (const [metric, value] of Object.entries(s.m)) expect(got[0]![metric]).toBe(value);
    // Stop it here: the next test reuses `platform`, and a process left running outlives the suite.
    await platform.kill('SIGKILL');
    platform = null;
  });

  it("control: with Mosquitto's default queue limit (1000) the same outage loses messages", async () => {
    // Why deploy/mosquitto/mosquitto.conf raises max_queued_messages: this is what happens without.
    const small = await startMosquitto('max_queued_messages 1000');
    const db = 'sigkill_control';
    const controlEnv = { PP_MQTT_URL: small.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: db, PP_MQTT_CLIENT_ID: 'pp-control' };
    try {
      let p = await spawnPlatform(controlEnv);
      await p.kill('SIGKILL'); // the session exists; the platform is gone
      const sent = await publishBurst({ brokerUrl: small.url, sites: 1, linesPerSite: 5, machinesPerLine: 10, seed: 5, samplesPerDevice: 100, samplesPerMessage: 2, maxInFlight: 100 });
      expect(sent.messages).toBe(2500);
      p = await spawnPlatform(controlEnv);
      platform = p;
      const stored = async () => Number((await queryInfluxQL(influx.url, db, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
      // Let the broker deliver whatever it kept, until the count stops moving.
      let last = -1;
      await waitFor(async () => {
        const now = await stored();
        const settled = now === last && now > 0;
        last = now;
        return settled;
      }, 30_000, 'redelivery to settle', 1000);
      console.log(`sigkill control: default queue limit kept ${last} of ${sent.samples} samples`);
      expect(last).toBeLessThan(sent.samples);
      expect(last).toBeLessThanOrEqual(1000 * 2 + 100); // at most the queue (plus in-flight) survived
    } finally {
      await platform?.kill('SIGKILL');
      platform = null;
      await small.stop();
    }
  });
});
