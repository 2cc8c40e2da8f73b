import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { publishBurst, type BurstResult } from '../../edge-agent/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'mqtt_pipeline';
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;
let burst: BurstResult;
let ingestMs = 0;

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-pipeline-test' });
  const started = performance.now();
  // 2 sites × 5 lines × 6 machines = 60 devices × 400 samples = 24,000 samples in 1,200 messages.
  burst = await publishBurst({ brokerUrl: mosquitto.url, sites: 2, linesPerSite: 5, machinesPerLine: 6, seed: 7, samplesPerDevice: 400, samplesPerMessage: 20, sampleIntervalMs: 1000, maxInFlight: 200 });
  await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })) >= burst.samples, 60_000, 'all samples stored');
  ingestMs = performance.now() - started;
  console.log(`ingest: ${burst.samples} samples in ${burst.messages} messages, published in ${burst.elapsedMs.toFixed(0)} ms, stored after ${ingestMs.toFixed(0)} ms: ${Math.round(burst.samples / (ingestMs / 1000))} samples/s`);
});
afterAll(async () => {
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

describe('simulated factory → real Mosquitto → platform → real InfluxDB', () => {
  it('published what the test expects: ≥ 20,000 samples from ≥ 50 devices', () => {
    expect(burst.perDevice.size).toBe(60);
    expect(burst.samples).toBe(24_000);
    expect(burst.messages).toBe(1_200);
  });

  it('InfluxDB holds exactly the samples sent, per device', async () => {
    const rows = await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry GROUP BY site, line, device');
    expect(rows).toHaveLength(60);
    const stored = new Map(rows.map((r) => [`${r.site}/${r.line}/${r.device}`, Number(r.count)]));
    for (const [key, tally] of burst.perDevice) expect(stored.get(key), key).toBe(tally.count);
    expect([...stored.values()].reduce((a, b) => a + b, 0)).toBe(burst.samples);
  });

  it('values and timestamps match what the gateway sent (spot-check)', async () => {
    const keys = [...burst.sent.keys()];
    for (const key of [keys[0]!, keys[17]!, keys[59]!]) {
      const [site, line, device] = key.split('/');
      const sent = burst.sent.get(key)!;
      for (const sample of [sent[0]!, sent[199]!, sent[399]!]) {
        const rows = await queryInfluxQL(influx.url, DB, `SELECT * FROM telemetry WHERE site='${site}' AND line='${line}' AND device='${device}' AND time = ${sample.ts}ms`);
        expect(rows, `${key} @ ${sample.ts}`).toHaveLength(1);
        expect(rows[0]!.time).toBe(sample.ts);
        for (const [metric, value] of Object.entries(sample.m)) expect(rows[0]![metric], `${key} ${metric}`).toBe(value);
      }
    }
  });

  it('/metrics agrees with InfluxDB and the gateway', async () => {
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })).toBe(burst.samples);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_received_total', { source: 'mqtt' })).toBe(burst.samples);
    expect(await scrapeMetric(platform.httpUrl, 'pp_messages_received_total', { source: 'mqtt' })).toBeGreaterThanOrEqual(burst.messages);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_rejected_total')).toBe(0);
    expect(await scrapeMetric(platform.httpUrl, 'pp_mqtt_inflight_messages')).toBe(0);
  });

  it('dead-letters a bad message with the reason, keeps its valid samples, and acks it', async () => {
    const { default: mqtt } = await import('mqtt');
    const watcher = await mqtt.connectAsync(mosquitto.url, { protocolVersion: 5, clientId: 'dl-watcher' });
    const dead: { topic: string; body: { rejections: { code: string; sample?: number }[] } }[] = [];
    watcher.on('message', (topic, payload) => dead.push({ topic, body: JSON.parse(payload.toString()) }));
    await watcher.subscribeAsync('pp/dead-letter/v1/#', { qos: 1 });
    const gw = await mqtt.connectAsync(mosquitto.url, { protocolVersion: 5, clientId: 'bad-gw' });
    const ts = Date.now() - 5000;
    await gw.publishAsync('pp/v1/site-x/line-1/dev-1/metrics', JSON.stringify({ seq: 1, samples: [{ ts, m: { power_kw: 5 } }, { ts: ts + 1, m: { power_kw: 'NaN' } }] }), { qos: 1 });
    await gw.publishAsync('pp/v1/site-x/line-1/dev-1/metrics', '{not json', { qos: 1 });
    await gw.publishAsync('pp/v1/site-x/line 1/dev-1/metrics', JSON.stringify({ seq: 2, samples: [] }), { qos: 1 });
    await waitFor(() => dead.length >= 3, 10_000, 'three dead letters');
    expect(dead.map((d) => d.topic).sort()).toEqual(['pp/dead-letter/v1/_invalid-topic', 'pp/dead-letter/v1/pp/v1/site-x/line-1/dev-1/metrics', 'pp/dead-letter/v1/pp/v1/site-x/line-1/dev-1/metrics']);
    const codes = dead.flatMap((d) => d.body.rejections.map((r) => r.code)).sort();
    expect(codes).toEqual(['PP_ERR_INVALID_JSON', 'PP_ERR_INVALID_TOPIC', 'PP_ERR_INVALID_VALUE']);
    await waitFor(async () => (await queryInfluxQL(influx.url, DB, `SELECT power_kw FROM telemetry WHERE site='site-x'`)).length === 1, 10_000, 'the valid sample stored');
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_mqtt_inflight_messages')) === 0, 10_000, 'everything acked');
    expect(await scrapeMetric(platform.httpUrl, 'pp_dead_letters_total')).toBe(3);
    await Promise.all([gw.endAsync(), watcher.endAsync()]);
  });
});
