import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { CLOSE } from '../../src/live/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { LiveTestClient } from '../support/live-client.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * The live hub on the real platform (Mosquitto, InfluxDB), with real `ws` clients: telemetry
 * published by a gateway over MQTT reaches exactly the clients subscribed to it, at most twice a
 * second per device with the latest value; alert transitions arrive at once; slow, silent and
 * oversized clients cost only themselves.
 */
let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;
let gateway: MqttClient;
let dir: string;
let liveUrl: string;
const seqs = new Map<string, number>();
const clients: LiveTestClient[] = [];

/** Publish samples for `site/line/device` as a gateway does (QoS 1: resolves once the broker has them). */
async function publish(key: string, samples: { ts?: number; m: Record<string, number> }[]): Promise<void> {
  const seq = (seqs.get(key) ?? 0) + 1;
  seqs.set(key, seq);
  await gateway.publishAsync(`pp/v1/${key}/metrics`, JSON.stringify({ seq, samples: samples.map((s) => ({ ts: s.ts ?? Date.now(), m: s.m })) }), { qos: 1 });
}

async function connect(options?: ConstructorParameters<typeof LiveTestClient>[1]): Promise<LiveTestClient> {
  const c = await LiveTestClient.open(liveUrl, options);
  clients.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metric = (name: string, labels?: Record<string, string>) => scrapeMetric(platform.httpUrl, name, labels);

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  dir = await mkdtemp(join(tmpdir(), 'pp-live-'));
  // One fast limit rule, so alert transitions can be caused on demand.
  const rules = { classes: { default: { inherit: false, rules: [{ id: 'temperature-high', metric: 'temperature_c', detector: 'limit', severity: 'critical', params: { high: 100, hysteresis: 5 } }] } } };
  await writeFile(join(dir, 'rules.json'), JSON.stringify(rules));
  platform = await startTestPlatform({
    PP_MQTT_URL: mosquitto.url,
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: 'live',
    PP_MQTT_CLIENT_ID: 'pp-live-test',
    PP_ANALYTICS_FILE: join(dir, 'rules.json'),
    PP_DATA_DIR: join(dir, 'data'),
    PP_INGEST_MAX_METRICS: '2000',
    PP_LIVE_MAX_BUFFERED_BYTES: String(64 * 1024),
    PP_LIVE_MAX_MESSAGE_BYTES: '4096',
    PP_LIVE_MAX_SUBSCRIPTIONS: '5',
    PP_LIVE_PING_INTERVAL_MS: '300',
  });
  liveUrl = `${platform.httpUrl.replace('http', 'ws')}/api/v1/live`;
  gateway = await mqtt.connectAsync(mosquitto.url, { clientId: 'live-test-gw', protocolVersion: 5 });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await gateway?.endAsync();
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('live hub: /api/v1/live on the real platform', () => {
  it('greets with the protocol and its limits', async () => {
    const c = await connect();
    expect(c.of('hello')[0]).toMatchObject({ protocol: 1, access: { sites: 'all' }, limits: { telemetryIntervalMs: 500, maxSubscriptions: 5, maxMessageBytes: 4096 }, plantUtcOffsetMinutes: 480 });
  });

  it('sends each client the telemetry it subscribed to (everything, a site, a line, a device) and nothing else; unsubscribe stops it', async () => {
    const [all, site, line, device] = await Promise.all([connect(), connect(), connect(), connect()]);
    await Promise.all([all.subscribe(), site.subscribe({ sites: ['site-02'] }), line.subscribe({ lines: ['site-01/line-01'] }), device.subscribe({ devices: ['site-01/line-02/d-3'] })]);
    await publish('site-01/line-01/d-1', [{ m: { power_kw: 11 } }]);
    await publish('site-01/line-02/d-3', [{ m: { power_kw: 13 } }]);
    await publish('site-02/line-01/d-9', [{ m: { power_kw: 29, temperature_c: 40 } }]);
    await waitFor(() => all.of('telemetry').length >= 3, 10_000, 'all three devices');
    await sleep(700); // anything misrouted would have arrived by now
    const seen = (c: LiveTestClient) => c.of('telemetry').map((t) => `${t.site}/${t.line}/${t.device}=${t.m.power_kw}`).sort();
    expect(seen(all)).toEqual(['site-01/line-01/d-1=11', 'site-01/line-02/d-3=13', 'site-02/line-01/d-9=29']);
    expect(seen(site)).toEqual(['site-02/line-01/d-9=29']);
    expect(seen(line)).toEqual(['site-01/line-01/d-1=11']);
    expect(seen(device)).toEqual(['site-01/line-02/d-3=13']);
    expect(site.of('telemetry')[0]).toMatchObject({ m: { power_kw: 29, temperature_c: 40 } });

    // A new subscriber gets the devices' latest values at once (the snapshot).
    const late = await connect();
    await late.subscribe({ sites: ['site-01'] });
    await waitFor(() => late.of('telemetry').length === 2, 5000, 'snapshot');

    device.send({ type: 'unsubscribe', devices: ['site-01/line-02/d-3'] });
    await device.next('subscribed', (s) => s.devices.length === 0);
    await sleep(600); // past the device's throttle interval
    await publish('site-01/line-02/d-3', [{ m: { power_kw: 14 } }]);
    await waitFor(() => all.of('telemetry').some((t) => t.m.power_kw === 14), 5000, 'the update');
    await sleep(300);
    expect(seen(device)).toEqual(['site-01/line-02/d-3=13']);
  });

  it('throttles a device to at most 2 messages a second per client, coalescing: the latest value is delivered', async () => {
    const c = await connect();
    await c.subscribe({ devices: ['site-05/line-01/fast'] });
    const coalescedBefore = await metric('pp_live_coalesced_total');
    const start = Date.now();
    // 40 samples in 2 s, one message each (20 per second), temperature only in the first.
    for (let i = 0; i < 40; i++) {
      await publish('site-05/line-01/fast', [{ m: i === 0 ? { power_kw: i, temperature_c: 50 } : { power_kw: i } }]);
      await sleep(50);
    }
    await waitFor(() => c.telemetry('site-05/line-01/fast').some((r) => r.msg.type === 'telemetry' && r.msg.m.power_kw === 39), 5000, 'the last value');
    await sleep(800);
    const got = c.telemetry('site-05/line-01/fast');
    const spanS = (got.at(-1)!.at - start) / 1000;
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.length).toBeLessThanOrEqual(Math.ceil(spanS * 2) + 1);
    // The server spaces them 500 ms apart; allow arrival jitter on a busy 2-core machine.
    for (let i = 1; i < got.length; i++) expect(got[i]!.at - got[i - 1]!.at).toBeGreaterThanOrEqual(400);
    const last = got.at(-1)!.msg;
    expect(last.type === 'telemetry' && last.m.power_kw).toBe(39);
    // Nothing lost in coalescing: every metric sent reached the client in some message.
    expect(got.some((r) => r.msg.type === 'telemetry' && r.msg.m.temperature_c === 50)).toBe(true);
    expect((await metric('pp_live_coalesced_total')) - coalescedBefore).toBeGreaterThan(20);
  });

  it('pushes alert transitions at once (opened, acknowledged, resolved), only to clients watching that site', async () => {
    const [watcher, other] = await Promise.all([connect(), connect()]);
    await Promise.all([watcher.subscribe({ sites: ['site-03'] }), other.subscribe({ sites: ['site-04'] })]);
    await publish('site-03/line-01/hot-1', [{ m: { temperature_c: 150 } }]);
    const opened = await watcher.next('alert', (a) => a.transition === 'opened', 10_000);
    expect(opened.alert).toMatchObject({ site: 'site-03', device: 'hot-1', rule: 'temperature-high', state: 'open', value: 150 });

    const ackSent = Date.now();
    const res = await fetch(`${platform.httpUrl}/api/v1/alerts/${opened.alert.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'li.lei' }) });
    expect(res.status).toBe(200);
    const acked = await watcher.next('alert', (a) => a.transition === 'acknowledged', 5000);
    expect(acked.alert.ackedBy).toBe('li.lei');
    expect(watcher.received.find((r) => r.msg === acked)!.at - ackSent).toBeLessThan(1000);

    await publish('site-03/line-01/hot-1', [{ m: { temperature_c: 20 } }]);
    const resolved = await watcher.next('alert', (a) => a.transition === 'resolved', 10_000);
    expect(resolved.alert.state).toBe('resolved');
    expect(watcher.of('alert').filter((a) => a.transition !== 'updated').map((a) => a.transition)).toEqual(['opened', 'acknowledged', 'resolved']);
    expect(other.of('alert')).toEqual([]);
    const stored = (await (await fetch(`${platform.httpUrl}/api/v1/alerts/${opened.alert.id}`)).json()) as Alert;
    expect(stored).toMatchObject({ state: 'resolved', ackedBy: 'li.lei' });
  });

  it('answers bad messages with an error and keeps the connection; caps subscriptions per client', async () => {
    const c = await connect();
    c.send('not json');
    expect((await c.next('error')).code).toBe('invalid_message');
    c.send({ type: 'subscribe', sites: ['bad site!'] });
    await waitFor(() => c.of('error').length === 2, 5000, 'second error');
    expect(c.of('error')[1]).toMatchObject({ code: 'invalid_message', message: expect.stringContaining('sites') });
    c.send({ type: 'subscribe', devices: ['s/l/d1', 's/l/d2', 's/l/d3', 's/l/d4', 's/l/d5', 's/l/d6'] });
    await waitFor(() => c.of('error').length === 3, 5000, 'third error');
    expect(c.of('error')[2]).toMatchObject({ code: 'too_many_subscriptions', message: expect.stringContaining('at most 5') });
    await c.subscribe({ devices: ['s/l/d1', 's/l/d2'] });
    expect(c.of('subscribed').at(-1)).toMatchObject({ devices: ['s/l/d1', 's/l/d2'] });
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(await metric('pp_live_client_errors_total', { code: 'too_many_subscriptions' })).toBeGreaterThanOrEqual(1);
  });

  it('closes a client whose frame is above PP_LIVE_MAX_MESSAGE_BYTES with 1009', async () => {
    const c = await connect();
    c.send({ type: 'subscribe', devices: Array.from({ length: 400 }, (_, i) => `site-01/line-01/device-${i}`) }); // ~11 KB
    expect((await c.closed).code).toBe(CLOSE.messageTooBig);
  });

  it('drops a client that stops answering pings, and keeps the ones that answer', async () => {
    const alive = await connect();
    const dropsBefore = await metric('pp_live_drops_total', { reason: 'heartbeat' });
    const deaf = await connect({ autoPong: false });
    const { code } = await deaf.closed;
    expect(code).toBe(1006); // terminated: a dead peer gets no closing handshake
    expect(await metric('pp_live_drops_total', { reason: 'heartbeat' })).toBe(dropsBefore + 1);
    await sleep(700); // two more ping rounds
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
  });

  it('drops a client that does not read once PP_LIVE_MAX_BUFFERED_BYTES wait unsent (close 4008), counted, memory bounded; others go on', async () => {
    // A platform of its own, with the default 30-s heartbeat: a client that does not read does
    // not answer pings either, and here the buffer limit must be what catches it.
    const own = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'live_slow', PP_MQTT_CLIENT_ID: 'pp-live-slow-test', PP_DATA_DIR: join(dir, 'data-slow'), PP_INGEST_MAX_METRICS: '2000', PP_LIVE_MAX_BUFFERED_BYTES: String(64 * 1024) });
    try {
      await slowClientDropped(own);
    } finally {
      await own.stop();
    }
  });
});

/** 40 devices of 1,500 metrics (a 3-MB snapshot); a client that stops reading and keeps asking for that snapshot. */
async function slowClientDropped(platform: Platform): Promise<void> {
  const url = `${platform.httpUrl.replace('http', 'ws')}/api/v1/live`;
  const metric = (name: string, labels?: Record<string, string>) => scrapeMetric(platform.httpUrl, name, labels);
  // 40 devices with 1,500 metrics each: a snapshot of them is about 3 MB.
  const names = Array.from({ length: 1500 }, (_, i) => `vibration_spectrum_band_${String(i).padStart(4, '0')}`);
  const m = Object.fromEntries(names.map((n, i) => [n, i + 0.123456]));
  for (let d = 0; d < 40; d++) {
    const res = await fetch(`${platform.httpUrl}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ site: 'site-09', line: 'line-01', device: `big-${d}`, samples: [{ ts: Date.now(), m }] }) });
    expect(res.status).toBe(200);
  }
  const healthy = await LiveTestClient.open(url);
  await healthy.subscribe({ sites: ['site-06'] });
  const slow = await LiveTestClient.open(url);
  clients.push(healthy, slow);
  const clientsBefore = await metric('pp_live_clients');
  const dropsBefore = await metric('pp_live_drops_total', { reason: 'slow' });
  slow.ws.pause(); // stops reading: the kernel buffers fill, then the server's socket buffer
  // Ask for the 3-MB snapshot again and again (a client's writes still go through).
  const asking = setInterval(() => slow.send({ type: 'subscribe', sites: ['site-09'] }), 550);
  try {
    await waitFor(async () => (await metric('pp_live_drops_total', { reason: 'slow' })) > dropsBefore, 45_000, 'slow client dropped');
  } finally {
    clearInterval(asking);
  }
  expect(await metric('pp_live_clients')).toBe(clientsBefore - 1);
  slow.ws.resume(); // reads what was buffered, then our close frame
  const { code, reason } = await slow.closed;
  expect(code).toBe(CLOSE.tooSlow);
  expect(reason).toMatch(/too slow: \d+ bytes unsent/);
  // What waited for it was bounded by the limit (plus at most one message), not by its backlog.
  const unsent = Number(/(\d+) bytes/.exec(reason)![1]);
  expect(unsent).toBeGreaterThan(64 * 1024);
  expect(unsent).toBeLessThan(64 * 1024 + 200 * 1024);
  // The others are still served.
  await publish('site-06/line-01/after', [{ m: { power_kw: 6 } }]);
  await healthy.next('telemetry', (t) => t.device === 'after', 5000);
}
