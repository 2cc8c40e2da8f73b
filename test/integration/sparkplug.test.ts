import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { DataType, type OutgoingMetric } from '../../src/sources/sparkplug/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { retained } from './edge-agent/subscriber.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { isRebirthRequest, TestEdgeNode } from '../support/sparkplug-edge-node.js';

/**
 * A Sparkplug B edge node (protobuf, built with the platform's own codec) → real Mosquitto →
 * the platform in-process → real InfluxDB, and back: rebirth requests and status messages
 * observed on the broker.
 */
const DB = 'sparkplug_it';
const REORDER_MS = 300;
const PRESS = { site: 'plant-1', line: 'gw-a', device: 'press-1' };
const NODE = { site: 'plant-1', line: 'gw-a', device: '_node' };
/** Whole seconds, two minutes ago: in the past, well within the accepted skew. */
const T = Math.floor((Date.now() - 120_000) / 1000) * 1000;

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;
let watcher: MqttClient;
let edge: TestEdgeNode;
let mappingDir: string;
const seen: { topic: string; payload: Buffer; at: number }[] = [];
/** Samples the platform must have stored, counted as the test sends them. */
let expectedSamples = 0;

const json = (topic: string) => seen.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
const stored = () => scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'sparkplug' });
/** The silence alerts of press-1, newest first. */
async function silenceAlerts(): Promise<Alert[]> {
  const res = await fetch(`${platform.httpUrl}/api/v1/alerts?site=plant-1&device=press-1`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { alerts: Alert[] }).alerts.filter((a) => a.rule === 'silence').sort((a, b) => b.openedAt - a.openedAt);
}

const waitStored = () => waitFor(async () => (await stored()) >= expectedSamples, 15_000, `${expectedSamples} Sparkplug samples stored`);

/** The telemetry rows of one device, with only the fields it has (InfluxDB fills the others with null). */
async function rows(ref: { site: string; line: string; device: string }) {
  const result = await queryInfluxQL(influx.url, DB, `SELECT * FROM telemetry WHERE site='${ref.site}' AND line='${ref.line}' AND device='${ref.device}'`);
  return result.map((r) => Object.fromEntries(Object.entries(r).filter(([k, v]) => v !== null && !['site', 'line', 'device'].includes(k))));
}

const pressBirth = (ts: number, power = 41_500): OutgoingMetric[] => [
  { name: 'Power', alias: 1, timestamp: ts, datatype: DataType.Float, value: power, properties: { engUnit: 'W' } },
  { name: 'Meter/Energy', alias: 2, timestamp: ts, datatype: DataType.Double, value: 183_220.4, properties: { engUnit: 'kWh' } },
  { name: 'Running', alias: 3, timestamp: ts, datatype: DataType.Boolean, value: true },
  { name: 'Mode', alias: 4, timestamp: ts, datatype: DataType.String, value: 'AUTO' },
  { name: 'Ambient', alias: 5, timestamp: ts, datatype: DataType.Int16, value: -7, properties: { engUnit: '°C' } },
];
const nodeBirth = (ts: number): OutgoingMetric[] => [
  { name: 'Cabinet/Temperature', timestamp: ts, datatype: DataType.Float, value: 31.5, properties: { engUnit: '°C' } },
  { name: 'Properties/Firmware', timestamp: ts, datatype: DataType.String, value: '4.2.1' },
];

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  mappingDir = await mkdtemp(join(tmpdir(), 'pp-sparkplug-'));
  const mappingFile = join(mappingDir, 'mapping.yaml');
  await writeFile(mappingFile, ['groups:', '  "Plant 1": plant-1', 'metrics:', '  Power: power_kw', '  Meter/Energy: energy_kwh', ''].join('\n'));
  platform = await startTestPlatform({
    PP_MQTT_URL: mosquitto.url,
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: DB,
    PP_MQTT_CLIENT_ID: 'pp-sparkplug-it',
    PP_SPARKPLUG_ENABLED: 'true',
    PP_SPARKPLUG_CLIENT_ID: 'pp-sparkplug-it-sp',
    PP_SPARKPLUG_MAPPING_FILE: mappingFile,
    PP_SPARKPLUG_REORDER_TIMEOUT_MS: String(REORDER_MS),
    PP_SPARKPLUG_HOST_ID: 'plantpulse-it',
  });
  watcher = await mqtt.connectAsync(mosquitto.url, { protocolVersion: 5, clientId: 'sp-watcher' });
  watcher.on('message', (topic, payload) => seen.push({ topic, payload, at: Date.now() }));
  await watcher.subscribeAsync(['pp/v1/+/+/+/status', 'spBv1.0/+/NCMD/#', 'pp/dead-letter/v1/#'], { qos: 1 });
  edge = await TestEdgeNode.connect(mosquitto.url, 'Plant 1', 'gw-a', 0);
});

afterAll(async () => {
  await edge?.close().catch(() => undefined);
  await watcher?.endAsync();
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop(), mappingDir && rm(mappingDir, { recursive: true, force: true })]);
});

describe('Sparkplug B edge node → Mosquitto → platform → InfluxDB', () => {
  it('stores NBIRTH and DBIRTH values and DDATA read by alias, with units converted, exactly', async () => {
    await edge.publish(edge.messages.nbirth(nodeBirth(T), T));
    await edge.publish(edge.messages.dbirth('press-1', pressBirth(T), T));
    await edge.publish(
      edge.messages.ddata(
        'press-1',
        [
          { alias: 1, timestamp: T + 1000, datatype: DataType.Float, value: 42_100 },
          { alias: 2, timestamp: T + 1000, datatype: DataType.Double, value: 183_220.41 },
          { alias: 3, timestamp: T + 1000, datatype: DataType.Boolean, value: false },
          { alias: 5, timestamp: T + 1000, datatype: DataType.Int16, value: -6 },
        ],
        T + 1000,
      ),
    );
    expectedSamples += 3;
    await waitStored();

    expect(await rows(PRESS)).toEqual([
      { time: T, power_kw: 41.5, energy_kwh: 183_220.4, running: 1, ambient: -7 },
      { time: T + 1000, power_kw: 42.1, energy_kwh: 183_220.41, running: 0, ambient: -6 },
    ]);
    expect(await rows(NODE)).toEqual([{ time: T, cabinet_temperature: 31.5 }]);
    // Strings skipped and counted; Sparkplug's own control metrics are not telemetry.
    expect(await scrapeMetric(platform.httpUrl, 'pp_sparkplug_metrics_skipped_total', { reason: 'string' })).toBe(2);
    expect(await scrapeMetric(platform.httpUrl, 'pp_sparkplug_metrics_skipped_total', { reason: 'control' })).toBe(2);
    // cabinet_temperature (NBIRTH), running and ambient (DBIRTH, DDATA) are outside the catalogue:
    // kept, and each of the three messages flagged, as the JSON decoder does.
    expect(await scrapeMetric(platform.httpUrl, 'pp_unknown_metric_messages_total', { source: 'sparkplug' })).toBe(3);

    await waitFor(() => json('pp/v1/plant-1/gw-a/press-1/status').length >= 1, 5000, 'press-1 online status');
    expect(json('pp/v1/plant-1/gw-a/_node/status')[0]).toMatchObject({ state: 'online', gateway: 'Plant 1/gw-a', source: 'sparkplug' });
    expect(json('pp/v1/plant-1/gw-a/press-1/status')[0]).toMatchObject({ state: 'online', ts: T, sparkplug: { group: 'Plant 1', node: 'gw-a', device: 'press-1' } });
    expect(platform.sparkplug!.registry.get(PRESS)).toMatchObject({ online: true, metrics: { power_kw: { sparkplugName: 'Power', unit: 'kW' }, ambient: { sparkplugName: 'Ambient', unit: '°C' } } });
  });

  it('a seq gap: after the reorder timeout the platform publishes NCMD Node Control/Rebirth; held data and the rebirth are stored', async () => {
    edge.messages.skip(); // one DDATA lost on the way
    const sentAt = Date.now();
    await edge.publish(edge.messages.ddata('press-1', [{ alias: 1, timestamp: T + 2000, datatype: DataType.Float, value: 43_000 }], T + 2000));
    expectedSamples += 1;
    await waitFor(() => seen.some((m) => m.topic === 'spBv1.0/Plant 1/NCMD/gw-a'), 5000, 'rebirth request on the broker');
    const request = seen.find((m) => m.topic === 'spBv1.0/Plant 1/NCMD/gw-a')!;
    expect(isRebirthRequest(request.payload)).toBe(true);
    expect(request.at - sentAt).toBeGreaterThanOrEqual(REORDER_MS - 50); // it waited for the missing message first
    await waitFor(() => edge.rebirthRequests.length === 1, 5000, 'the edge node got the request');
    expect(await scrapeMetric(platform.httpUrl, 'pp_sparkplug_seq_gaps_total')).toBe(1);
    await waitStored();

    // The edge node answers as the spec says: NBIRTH (seq 0, same bdSeq), DBIRTHs, then data.
    await edge.publish(edge.messages.nbirth(nodeBirth(T + 3000), T + 3000));
    await edge.publish(edge.messages.dbirth('press-1', pressBirth(T + 3000, 44_000), T + 3000));
    await edge.publish(edge.messages.ddata('press-1', [{ alias: 1, timestamp: T + 4000, datatype: DataType.Float, value: 44_500 }], T + 4000));
    expectedSamples += 3;
    await waitStored();
    expect((await rows(PRESS)).map((r) => [r.time, r.power_kw])).toEqual([
      [T, 41.5],
      [T + 1000, 42.1],
      [T + 2000, 43],
      [T + 3000, 44],
      [T + 4000, 44.5],
    ]);
    expect(seen.filter((m) => m.topic === 'spBv1.0/Plant 1/NCMD/gw-a')).toHaveLength(1); // no second request
  });

  it('is_historical samples are stored at their own timestamps and counted as historical', async () => {
    await edge.publish(
      edge.messages.ddata(
        'press-1',
        [
          { alias: 1, timestamp: T - 60_000, datatype: DataType.Float, value: 39_000, isHistorical: true },
          { alias: 2, timestamp: T - 60_000, datatype: DataType.Double, value: 183_219.9, isHistorical: true },
          { alias: 1, timestamp: T - 59_000, datatype: DataType.Float, value: 39_500, isHistorical: true },
        ],
        T + 4500,
      ),
    );
    expectedSamples += 2;
    await waitStored();
    expect(await scrapeMetric(platform.httpUrl, 'pp_sparkplug_historical_samples_total')).toBe(2);
    const history = (await rows(PRESS)).filter((r) => Number(r.time) < T);
    expect(history).toEqual([
      { time: T - 60_000, power_kw: 39, energy_kwh: 183_219.9 },
      { time: T - 59_000, power_kw: 39.5 },
    ]);
  });

  it('is_null is stored as a bad reading, never as a number', async () => {
    await edge.publish(
      edge.messages.ddata(
        'press-1',
        [
          { alias: 1, timestamp: T + 5000, datatype: DataType.Float, isNull: true },
          { alias: 3, timestamp: T + 5000, datatype: DataType.Boolean, value: true },
        ],
        T + 5000,
      ),
    );
    expectedSamples += 1;
    await waitStored();
    expect((await rows(PRESS)).find((r) => r.time === T + 5000)).toEqual({ time: T + 5000, running: 1, bad: 'power_kw' });
  });

  it('DDEATH publishes a retained offline status and the registry says offline', async () => {
    await edge.publish(edge.messages.ddeath('press-1', T + 6000));
    await waitFor(() => json('pp/v1/plant-1/gw-a/press-1/status').some((s) => s.state === 'offline'), 5000, 'offline status');
    expect(json('pp/v1/plant-1/gw-a/press-1/status').at(-1)).toMatchObject({ state: 'offline', reason: 'device lost', ts: T + 6000, gateway: 'Plant 1/gw-a' });
    expect(platform.sparkplug!.registry.get(PRESS)).toMatchObject({ online: false, reason: 'device lost', since: T + 6000 });
    expect(platform.sparkplug!.registry.get(NODE)!.online).toBe(true);
    const kept = await retained(mosquitto.url, 'pp/v1/plant-1/gw-a/+/status');
    expect(kept.get('pp/v1/plant-1/gw-a/press-1/status')?.body).toMatchObject({ state: 'offline', reason: 'device lost' });

    // The death opens the device's silence alert at once, not after the silence timeout.
    await waitFor(async () => (await silenceAlerts()).length === 1, 5000, 'silence alert on DDEATH');
    const [alert] = await silenceAlerts();
    expect(alert).toMatchObject({ state: 'open', category: 'data', count: 1, message: { en: 'device: reported offline (device lost)' } });
    // Told again (a repeated status, as a node death repeats its devices'): the same alert, not raised again.
    const heard = await scrapeMetric(platform.httpUrl, 'pp_quality_status_messages_total', { kind: 'device' });
    await watcher.publishAsync('pp/v1/plant-1/gw-a/press-1/status', JSON.stringify({ state: 'offline', ts: Date.now(), reason: 'connection lost' }), { qos: 1 });
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_quality_status_messages_total', { kind: 'device' })) > heard, 5000, 'the repeated status heard');
    expect(await silenceAlerts()).toEqual([alert]);
  });

  it('rejects a message whose ids do not map to valid ids, saying why, and stores nothing of it', async () => {
    const hostile = await TestEdgeNode.connect(mosquitto.url, 'Plant 2', 'gw b', 0);
    await hostile.publish(hostile.messages.nbirth(nodeBirth(T), T));
    const topic = 'pp/dead-letter/v1/spBv1.0/Plant 2/NBIRTH/gw b';
    await waitFor(() => json(topic).length === 1, 5000, 'dead letter');
    const letter = json(topic)[0] as { rejections: { code: string; reason: string }[]; payloadBase64?: string; payload?: string };
    expect(letter.rejections).toEqual([{ code: 'PP_ERR_INVALID_ID', path: '$', reason: expect.stringContaining('group_id "Plant 2" gives site "Plant 2", which is not a valid id') }]);
    expect(await scrapeMetric(platform.httpUrl, 'pp_messages_rejected_total', { source: 'sparkplug', reason: 'PP_ERR_INVALID_ID' })).toBe(1);
    expect(await queryInfluxQL(influx.url, DB, `SELECT count(*) FROM telemetry WHERE line='gw b'`)).toEqual([]);
    await hostile.close();
  });

  it('NDATA from an edge node without NBIRTH is rejected and a rebirth is requested', async () => {
    const stranger = await TestEdgeNode.connect(mosquitto.url, 'Plant 1', 'gw-c', 0);
    stranger.messages.skip(17);
    await stranger.publish(stranger.messages.ndata([{ name: 'Cabinet/Temperature', datatype: DataType.Float, value: 30 }]));
    await waitFor(() => stranger.rebirthRequests.length === 1, 5000, 'rebirth request to gw-c');
    expect(json('pp/dead-letter/v1/spBv1.0/Plant 1/NDATA/gw-c')[0]).toMatchObject({ rejections: [{ code: 'PP_ERR_SPARKPLUG_NO_BIRTH' }] });
    await stranger.close();
  });

  it('a stale NDEATH (older bdSeq) is ignored; the connection will (NDEATH) takes the node and its devices offline', async () => {
    await edge.publish(edge.messages.dbirth('press-1', pressBirth(T + 7000), T + 7000));
    expectedSamples += 1;
    await waitFor(() => platform.sparkplug!.registry.get(PRESS)?.online === true, 5000, 'press-1 back online');
    await watcher.publishAsync('spBv1.0/Plant 1/NDEATH/gw-a', edge.messages.ndeath(7).payload, { qos: 1 });
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_sparkplug_stale_deaths_total')) === 1, 5000, 'stale death counted');
    expect(platform.sparkplug!.registry.get(NODE)!.online).toBe(true);

    await edge.crash(); // no DISCONNECT: the broker publishes the will, bdSeq 0
    await waitFor(() => platform.sparkplug!.registry.get(NODE)?.online === false && platform.sparkplug!.registry.get(PRESS)?.online === false, 5000, 'node and device offline');
    expect(platform.sparkplug!.registry.get(NODE)).toMatchObject({ reason: 'connection lost' });
    await waitFor(() => json('pp/v1/plant-1/gw-a/_node/status').at(-1)?.state === 'offline', 5000, 'node offline status');
    expect(json('pp/v1/plant-1/gw-a/press-1/status').at(-1)).toMatchObject({ state: 'offline', reason: 'connection lost' });
    await waitStored();
    // The rebirth resolved the first outage's silence alert; the will opened one for the second.
    await waitFor(async () => (await silenceAlerts()).length === 2, 5000, 'a silence alert for the second outage');
    const [second, first] = await silenceAlerts();
    expect(first).toMatchObject({ state: 'resolved', count: 1 });
    expect(second).toMatchObject({ state: 'open', count: 1, message: { en: 'device: reported offline (connection lost)' } });
  });

  it('InfluxDB holds exactly what was sent, and /metrics agrees', async () => {
    expect(await stored()).toBe(expectedSamples);
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_received_total', { source: 'sparkplug' })).toBe(expectedSamples);
    expect(await rows(PRESS)).toEqual([
      { time: T - 60_000, power_kw: 39, energy_kwh: 183_219.9 },
      { time: T - 59_000, power_kw: 39.5 },
      { time: T, power_kw: 41.5, energy_kwh: 183_220.4, running: 1, ambient: -7 },
      { time: T + 1000, power_kw: 42.1, energy_kwh: 183_220.41, running: 0, ambient: -6 },
      { time: T + 2000, power_kw: 43 },
      { time: T + 3000, power_kw: 44, energy_kwh: 183_220.4, running: 1, ambient: -7 },
      { time: T + 4000, power_kw: 44.5 },
      { time: T + 5000, running: 1, bad: 'power_kw' },
      { time: T + 7000, power_kw: 41.5, energy_kwh: 183_220.4, running: 1, ambient: -7 },
    ]);
    expect(await rows(NODE)).toEqual([
      { time: T, cabinet_temperature: 31.5 },
      { time: T + 3000, cabinet_temperature: 31.5 },
    ]);
    const ready = (await (await fetch(`${platform.httpUrl}/readyz`)).json()) as { checks: Record<string, Record<string, unknown>> };
    // Connected, and nothing left unacknowledged: the QoS 1 NDEATHs were acked once handled.
    expect(ready.checks.sparkplug).toMatchObject({ ready: true, inflight: 0, subscriptions: ['spBv1.0/#'], devices: { online: 0, offline: 2 } });
  });

  it('as primary host it publishes STATE online (retained) and, on a clean stop, offline with the same timestamp', async () => {
    const online = (await retainedRaw('spBv1.0/STATE/plantpulse-it')) as { online: boolean; timestamp: number };
    expect(online).toEqual({ online: true, timestamp: expect.any(Number) });
    await platform.stop();
    expect(await retainedRaw('spBv1.0/STATE/plantpulse-it')).toEqual({ online: false, timestamp: online.timestamp });
  });
});

/** The retained JSON message on one topic right now. */
async function retainedRaw(topic: string): Promise<unknown> {
  const kept = await retained(mosquitto.url, topic);
  return kept.get(topic)?.body;
}
