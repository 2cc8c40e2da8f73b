import mqtt from 'mqtt';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { DEAD_LETTER_STREAM, TELEMETRY_STREAM } from '../../src/sources/nats/index.js';
import { publishBurst } from '../../edge-agent/index.js';
import type { InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, gatewayPassword, startNatsStack, type NatsProcess, type NatsStack } from '../support/nats.js';
import { scrapeMetric } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

/**
 * The JetStream source end to end: the edge agent publishes MQTT 3.1.1 QoS 1 to NATS's MQTT
 * listener with a per-site gateway user, the shipped mapping partitions the subjects, and one
 * platform worker stores every sample in a real InfluxDB and acks only then.
 */
const DB = 'nats_source';
const SITES = ['site-01', 'site-02'];
let stack: NatsStack;
let influx: InfluxdProcess;
let nats: NatsProcess;
let platform: Platform;
let nc: NatsConnection;

async function storedCount(): Promise<number> {
  const rows = await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry');
  return rows.length === 0 ? 0 : Number(rows[0]!.count);
}

beforeAll(async () => {
  stack = await startNatsStack({ database: DB, nats: { partitions: 4, gatewaySites: SITES }, env: { PP_NATS_PARTITIONS: '4', PP_NATS_WORKER_ID: 'solo' } });
  ({ influx, nats, platform, nc } = stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe('edge agent → NATS MQTT listener → JetStream → platform → real InfluxDB', () => {
  it('stores every acknowledged sample, per device, and leaves nothing unacked in the stream', async () => {
    const burst = await publishBurst({ brokerUrl: nats.mqttUrl, protocolVersion: 4, username: 'gw-site-01', password: gatewayPassword('site-01'), sites: 1, linesPerSite: 2, machinesPerLine: 5, seed: 3, samplesPerDevice: 100, samplesPerMessage: 10, sampleIntervalMs: 1000, maxInFlight: 50 });
    expect(burst.samples).toBe(1000);
    await waitFor(async () => (await storedCount()) >= burst.samples, 30_000, 'samples in InfluxDB');
    const rows = await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry GROUP BY site, line, device');
    const stored = new Map(rows.map((r) => [`${r.site}/${r.line}/${r.device}`, Number(r.count)]));
    expect(stored.size).toBe(10);
    for (const [key, tally] of burst.perDevice) expect(stored.get(key), key).toBe(tally.count);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'nats' })).toBe(burst.samples);
    // Acked once durable: the work-queue stream is empty when every message was acked.
    const jsm = await nc.jetstreamManager();
    await waitFor(async () => (await jsm.streams.info(TELEMETRY_STREAM)).state.messages === 0, 10_000, 'telemetry stream emptied by acks');
  });

  it('owns every partition and the unmapped unit alone, with the window as max_ack_pending', async () => {
    const ready = (await (await fetch(`${platform.httpUrl}/readyz`)).json()) as { checks: { broker: { details: { owned: string[]; workers: string[] } } } };
    const details = JSON.stringify(ready);
    expect(details).toContain('"workers":["solo"]');
    for (const unit of ['0', '1', '2', '3', 'unmapped']) expect(details).toContain(`"${unit}"`);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(TELEMETRY_STREAM, 'pp-part-2');
    expect(info.config.max_ack_pending).toBe(1000);
    expect(info.config.filter_subject).toBe('pp.part.2.>');
  });

  it('dead-letters a bad message (stored in the dead-letter stream with its reasons) and acks it', async () => {
    const gw = await mqtt.connectAsync(nats.mqttUrl, { protocolVersion: 4, username: 'gw-site-02', password: gatewayPassword('site-02'), clientId: 'gw-bad' });
    await gw.publishAsync('pp/v1/site-02/line-1/dev-9/metrics', '{"ts": "yesterday", "m": {}}', { qos: 1 });
    await gw.publishAsync('pp/v1/site-02/too-short', '{}', { qos: 1 });
    await gw.endAsync();
    const jsm = await nc.jetstreamManager();
    await waitFor(async () => (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages >= 2, 10_000, 'two dead letters');
    const bad = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: 'pp.dead-letter.v1.pp.v1.site-02.line-1.dev-9.metrics' });
    const body = JSON.parse(new TextDecoder().decode(bad.data)) as { topic: string; rejections: { code: string }[]; payload: string };
    expect(body.topic).toBe('pp/v1/site-02/line-1/dev-9/metrics');
    expect(body.rejections.length).toBeGreaterThan(0);
    expect(body.payload).toContain('yesterday');
    const unmapped = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: 'pp.dead-letter.v1.pp.v1.site-02.too-short' });
    expect(JSON.parse(new TextDecoder().decode(unmapped.data)).rejections[0].code).toBe('PP_ERR_INVALID_TOPIC');
    await waitFor(async () => (await jsm.streams.info(TELEMETRY_STREAM)).state.messages === 0, 10_000, 'bad messages acked');
    expect(await scrapeMetric(platform.httpUrl, 'pp_dead_letters_total')).toBe(2);
  });

  it('a gateway cannot publish another site\'s telemetry (per-site permissions)', async () => {
    const before = await storedCount();
    const gw = await mqtt.connectAsync(nats.mqttUrl, { protocolVersion: 4, username: 'gw-site-01', password: gatewayPassword('site-01'), clientId: 'gw-intruder' });
    await gw.publishAsync('pp/v1/site-02/line-1/dev-1/metrics', JSON.stringify({ ts: Date.now(), m: { power_kw: 1 } }), { qos: 1 });
    await gw.endAsync();
    await waitFor(() => nats.log().includes('Publish Violation'), 5000, 'the server refusing the publish');
    await new Promise((r) => setTimeout(r, 500));
    expect(await storedCount()).toBe(before);
  });

  it('consumers deleted under the worker are made again, and what was published meanwhile is stored', async () => {
    const jsm = await nc.jetstreamManager();
    const before = await storedCount();
    for (const name of ['pp-part-0', 'pp-part-1', 'pp-part-2', 'pp-part-3']) await jsm.consumers.delete(TELEMETRY_STREAM, name);
    const sent = await steadyLoad({ brokerUrl: nats.mqttUrl, devices: 12, messagesPerSecond: 100, samplesPerMessage: 5, durationMs: 1500, site: 'site-02', gateway: gatewayLogin('site-02') }).done;
    expect(sent.samples).toBeGreaterThan(500);
    await waitFor(async () => (await storedCount()) >= before + sent.samples, 20_000, 'samples stored after the consumers were made again');
    expect(await storedCount()).toBe(before + sent.samples);
    for (const name of ['pp-part-0', 'pp-part-1', 'pp-part-2', 'pp-part-3']) expect((await jsm.consumers.info(TELEMETRY_STREAM, name)).config.max_ack_pending).toBe(1000);
  });
});
