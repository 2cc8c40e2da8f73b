import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { deviceTopic, type DeviceRef, type Sample } from '../../src/contract/index.js';
import { readQualitySummary, type QualityRow } from '../../src/quality/index.js';
import { influxHistory, queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * Data completeness end to end: real Mosquitto, real InfluxDB, the platform in this process. A
 * scripted gateway plays two hours of a plant; the platform's data-completeness clock is driven
 * by the test (PlatformOptions.qualityClock), so every arrival time, and therefore every delay,
 * is known to the millisecond and the figures can be computed by hand, exactly.
 *
 * The plant (site-q): gateway gw-1 carries line-a/m1 and line-a/m2; line-b/m3 has no status
 * topic (its own uploader). Every device samples every 10 s; the gateway sends one message of
 * 6 samples per device per minute, at the end of that minute (delays 60, 50, … 10 s).
 * - m1 skips seq 5, 6 and 70 (never sent), sends seq 10 twice, and its seq 40 carries one extra
 *   sample repeating the last one of seq 39 (same ts again).
 * - At 00:51 gw-1's connection drops (its will: offline). m1 and m2 keep sampling; minutes
 *   50–89 are buffered. At 01:31 gw-1 is back: m2 replays its backlog in order, then minute 90;
 *   m1 sends minute 90 first (live first), then its backlog (filling the seq gap 50–89), with seq
 *   80 twice. Then both run normally to minute 119.
 * - The platform is stopped and started again at 01:41 (restart: figures rebuilt from storage).
 * Times are written hh:mm after START (an hour start a few hours ago).
 */
const DB = 'data_completeness';
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const PLANT_UTC_OFFSET = 8 * HOUR;

/** An hour start at least 4 h ago whose next 3 hours lie in one plant-local (UTC+8) day, so the day window holds them all. */
function pickStart(): number {
  let start = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
  while (((start + PLANT_UTC_OFFSET) % (24 * HOUR)) / HOUR > 21) start -= HOUR;
  return start;
}
const START = pickStart();
const DAY_START = Math.floor((START + PLANT_UTC_OFFSET) / (24 * HOUR)) * 24 * HOUR - PLANT_UTC_OFFSET;
const at = (minutes: number) => START + minutes * MIN;

const SITE = 'site-q';
const GW = 'gw-1';
const M1: DeviceRef = { site: SITE, line: 'line-a', device: 'm1' };
const M2: DeviceRef = { site: SITE, line: 'line-a', device: 'm2' };
const M3: DeviceRef = { site: SITE, line: 'line-b', device: 'm3' };

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;
let env: Record<string, string>;
let dir: string;
let pub: MqttClient;
let watcher: MqttClient;
const alertMessages: { topic: string; type: string }[] = [];
/** The data-completeness clock: arrival time as the platform sees it. */
let clock = START;
/** Messages published since the current platform instance started (to wait until each is accounted). */
let published = 0;

/** Minute k of a device: 6 samples, 10 s apart. */
const minute = (k: number): Sample[] => Array.from({ length: 6 }, (_, j) => ({ ts: at(k) + j * 10 * S, m: { power_kw: 40 + k / 100 + j / 1000 } }));

async function send(ref: DeviceRef, seq: number, samples: Sample[]): Promise<void> {
  await pub.publishAsync(deviceTopic(ref, 'metrics'), JSON.stringify({ seq, samples }), { qos: 1 });
  published++;
}

async function status(ref: DeviceRef, body: Record<string, unknown>): Promise<void> {
  await pub.publishAsync(deviceTopic(ref, 'status'), JSON.stringify(body), { qos: 1, retain: true });
}

async function accounted(): Promise<void> {
  await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_quality_messages_total')) >= published, 20_000, `${published} messages accounted`, 10);
}

const gatewayRef: DeviceRef = { site: SITE, line: '_gateway', device: GW };
const birth = () => Promise.all([status(gatewayRef, { state: 'online', ts: clock, gateway: GW, devices: ['line-a/m1', 'line-a/m2'] }), status(M1, { state: 'online', ts: clock, gateway: GW }), status(M2, { state: 'online', ts: clock, gateway: GW })]);

/** The gateway's normal upload of minute k (sent at the end of the minute). */
async function liveMinute(k: number): Promise<void> {
  const buffered = k >= 50 && k <= 89;
  if (![5, 6, 70].includes(k) && !buffered) {
    await send(M1, k, k === 40 ? [minute(39).at(-1)!, ...minute(40)] : minute(k));
    if (k === 10) await send(M1, k, minute(k));
  }
  if (!buffered) await send(M2, k, minute(k));
  await send(M3, k, minute(k));
}

async function runMinutes(from: number, to: number): Promise<void> {
  for (let k = from; k <= to; k++) {
    clock = at(k + 1);
    await liveMinute(k);
    await accounted();
  }
}

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${platform.httpUrl}${path}`);
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};
const dataAlerts = async () => (await api<{ alerts: Alert[] }>(`/api/v1/alerts?category=data&site=${SITE}`)).alerts;
const alertState = (alerts: Alert[]) => alerts.map((a) => `${a.line}/${a.device} ${a.rule} ${a.state}`).sort();

/** Nearest rank (docs/completeness.md): the ⌈p·n⌉-th smallest. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}
/** Delays (s) of minute k's samples arriving at minute `arrival`: arrival − (k min + j·10 s). */
const delaysOf = (k: number, arrival: number) => Array.from({ length: 6 }, (_, j) => (arrival - k) * 60 - 10 * j);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

async function start(): Promise<void> {
  platform = await startTestPlatform(env, { qualityClock: () => clock });
  published = 0;
}

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  dir = await mkdtemp(join(tmpdir(), 'pp-quality-it-'));
  // No detector rules: the only alerts here are the data alerts under test.
  const rules = join(dir, 'rules.json');
  await writeFile(rules, JSON.stringify({ classes: { default: { inherit: false, rules: [] } } }));
  env = {
    PP_MQTT_URL: mosquitto.url,
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: DB,
    PP_MQTT_CLIENT_ID: 'pp-quality-test',
    PP_DATA_DIR: join(dir, 'data'),
    PP_ANALYTICS_FILE: rules,
    PP_ANALYTICS_TICK_MS: '100',
    PP_WRITE_FLUSH_MS: '5',
    PP_QUALITY_DELAY_LIMIT_S: '60',
    PP_QUALITY_SILENCE_S: '120',
    PP_QUALITY_CLOSE_AFTER_S: '60',
    PP_QUALITY_FLUSH_S: '1',
    PP_QUALITY_SITE_MIN_COMPLETENESS_PCT: '90',
    PP_QUALITY_GATEWAY_DELAY_P95_S: '120',
    PP_QUALITY_DELAY_PERIOD_S: '300',
    PP_QUALITY_OFFLINE_ALERT_MIN: '10',
  };
  await start();
  pub = await mqtt.connectAsync(mosquitto.url, { clientId: GW, protocolVersion: 5 });
  watcher = await mqtt.connectAsync(mosquitto.url, { clientId: 'alert-watcher' });
  watcher.on('message', (topic, payload) => alertMessages.push({ topic, type: (JSON.parse(payload.toString()) as { type: string }).type }));
  await watcher.subscribeAsync('pp/v1/+/+/+/alerts', { qos: 1 });
}, 120_000);

afterAll(async () => {
  await pub?.endAsync();
  await watcher?.endAsync();
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('data completeness: a scripted gateway through real Mosquitto and InfluxDB', () => {
  it('data alerts open and resolve as the gateway drops out and replays its backlog', async () => {
    await birth();
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_quality_status_messages_total')) >= 3, 10_000, 'births');
    await runMinutes(0, 49);

    // 00:51: the connection drops; the broker publishes the gateway's will.
    clock = at(51);
    await status(gatewayRef, { state: 'offline', reason: 'connection lost', gateway: GW });
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_quality_status_messages_total')) >= 4, 10_000, 'will');
    await accounted();
    await runMinutes(50, 59);
    expect(await dataAlerts()).toEqual([]); // offline for 9 minutes only; hour 0 not closed yet

    // 01:01: m1 and m2 offline for 10 min; hour 0 is closed (ended 01:00, + 60 s): site completeness
    // (288 + 300 + 360) / 1080 = 87.8 % < 90 %.
    await runMinutes(60, 60);
    await waitFor(async () => (await dataAlerts()).length === 3, 10_000, 'three data alerts');
    let alerts = await dataAlerts();
    expect(alertState(alerts)).toEqual(['_site/_site site-completeness-low open', 'line-a/m1 device-offline open', 'line-a/m2 device-offline open']);
    for (const a of alerts) expect(a.openedAt).toBe(at(61));
    expect(alerts.find((a) => a.rule === 'site-completeness-low')!.value).toBeCloseTo((100 * 948) / 1080, 9);
    expect(alerts.find((a) => a.device === 'm1')!.value).toBe(10);

    await runMinutes(61, 89);
    // 01:31: back. Births, m1's live minute 90 first, then the backlogs.
    clock = at(91);
    await birth();
    await send(M1, 90, minute(90));
    await accounted();
    for (const k of range(50, 89)) {
      if (k === 70) continue;
      await send(M1, k, minute(k));
      if (k === 80) await send(M1, k, minute(k));
    }
    for (const k of range(50, 90)) await send(M2, k, minute(k));
    await send(M3, 90, minute(90));
    await accounted();
    // Hour 0 is now (348 + 360 + 360) / 1080 = 98.9 %: the site alert resolves; m1 and m2 are online.
    await waitFor(async () => (await dataAlerts()).every((a) => a.state === 'resolved'), 10_000, 'alerts resolved');
    alerts = await dataAlerts();
    for (const a of alerts) expect(a.resolvedAt).toBe(at(91));

    // 01:35: the arrival period 01:30–01:35 is over; gw-1's upload delay p95 in it is far above 120 s.
    await runMinutes(91, 94);
    await waitFor(async () => (await dataAlerts()).some((a) => a.rule === 'upload-delay-high'), 10_000, 'gateway delay alert');
    const delay = (await dataAlerts()).find((a) => a.rule === 'upload-delay-high')!;
    expect(`${delay.site}/${delay.line}/${delay.device} ${delay.state}`).toBe(`${SITE}/_gateway/${GW} open`);
    expect(delay.openedAt).toBe(at(95));
    // Hand count of what gw-1 uploaded in that period: at 01:31 m1's minute 90 (delays 60…10 s), m1's
    // backlog (minutes 50–89 but 70; the second copy of 80 is a duplicate, not a sample), m2's backlog
    // and minute 90; at 01:32–01:34 minutes 91–93 of both. p95 = ⌈0.95 × 522⌉ = 496th smallest = 2330 s.
    const period = [...delaysOf(90, 91), ...range(50, 89).filter((k) => k !== 70).flatMap((k) => delaysOf(k, 91)), ...range(50, 90).flatMap((k) => delaysOf(k, 91)), ...range(91, 93).flatMap((k) => [...delaysOf(k, k + 1), ...delaysOf(k, k + 1)])];
    expect(period).toHaveLength(522);
    expect(nearestRank(period, 0.95)).toBe(2330);
    expect(delay.value).toBe(2330);

    // 01:40: the period 01:35–01:40 was all live (p95 60 s): resolved.
    await runMinutes(95, 99);
    await waitFor(async () => (await dataAlerts()).every((a) => a.state === 'resolved'), 10_000, 'delay alert resolved');
    expect((await dataAlerts()).find((a) => a.rule === 'upload-delay-high')!.resolvedAt).toBe(at(100));

    // 01:41: restart the platform (same data dir, same InfluxDB, same broker session).
    await runMinutes(100, 100);
    await platform.stop();
    await start();
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_quality_status_messages_total')) >= 3, 10_000, 'retained statuses after restart');
    await runMinutes(101, 119);
    clock = at(121); // hour 1 closes
    await waitFor(async () => (await api<{ total: QualityRow }>(`/api/v1/quality?site=${SITE}&window=1d&from=${DAY_START}&to=${DAY_START + 24 * HOUR}`)).total.expected === 2178, 10_000, 'the flush at 02:01');

    alerts = await dataAlerts();
    expect(alertState(alerts)).toEqual(['_gateway/gw-1 upload-delay-high resolved', '_site/_site site-completeness-low resolved', 'line-a/m1 device-offline resolved', 'line-a/m2 device-offline resolved']);
    const transitions = () => alertMessages.filter((m) => m.type !== 'updated').map((m) => `${m.topic} ${m.type}`);
    await waitFor(() => transitions().length >= 8, 5000, 'alert messages');
    expect(transitions().sort()).toEqual([
      'pp/v1/site-q/_gateway/gw-1/alerts opened',
      'pp/v1/site-q/_gateway/gw-1/alerts resolved',
      'pp/v1/site-q/_site/_site/alerts opened',
      'pp/v1/site-q/_site/_site/alerts resolved',
      'pp/v1/site-q/line-a/m1/alerts opened',
      'pp/v1/site-q/line-a/m1/alerts resolved',
      'pp/v1/site-q/line-a/m2/alerts opened',
      'pp/v1/site-q/line-a/m2/alerts resolved',
    ]);
  }, 300_000);

  /**
   * The hand computation, per device and hour (H0 = 00:00–01:00, H1 = 01:00–02:00); every device
   * is expected 360 samples an hour (3600 s / 10 s).
   * m1 H0: minutes 0–59 but 5, 6 → 58 × 6 = 348 received; duplicates: seq 10 again (6) + the repeated
   *   00:39:50 (1) = 7; late (gap-filling) messages: 50–59 = 10, their 60 samples out of order
   *   (older than minute 90, already received). On time: minutes 0–49 but 5, 6 = 288.
   *   Delays: 48 each of 10…60 s, then minute k of 50–59 at 01:31: (91 − k) min − j·10 s.
   *   p50 = 174th = 40 s; p95 = 331st = 43rd of the backlog = 2290 s.
   *   Online: watched from its first message (00:01) until the will (00:51), except 00:07–00:08: with
   *   seq 5 and 6 never sent nothing arrived between 00:05 and 00:08, silent after 120 s: 49 of 59 min.
   * m1 H1: minutes 60–119 but 70 → 354; duplicates: seq 80 again = 6; late messages 60–89 but 70 = 29
   *   (174 samples out of order); on time: 90–119 = 180. p50 = 177th = 60 s; p95 = 337th = 157th of the
   *   backlog = minute 62's 01:02:50 sample: 29 min − 50 s = 1690 s. Online 01:31–02:00 = 29 of 60 min.
   * m2 H0: 360 (minutes 50–59 late but present), no duplicates, replayed in seq order (no late
   *   messages, nothing out of order); on time 300; p50 = 180th = 40 s, p95 = 342nd = 42nd of the
   *   backlog = 2280 s. Online 50 of 59 min.
   * m2 H1: 360; on time 180; p50 = 60 s; p95 = 162nd of the backlog = minute 63's 01:03:00 = 1680 s; online 29 of 60 min.
   * m3 H0/H1: 360, all on time; p50 = 180th = 30 s; p95 = 60 s; online all the time (59 and 60 min).
   */
  const hand = {
    m1: [
      { expected: 360, received: 348, duplicates: 7, duplicateMessages: 1, lateMessages: 10, outOfOrder: 60, timed: 348, onTime: 288, delayP50Ms: 40 * S, delayP95Ms: 2290 * S, onlineMs: 49 * MIN, observedMs: 59 * MIN },
      { expected: 360, received: 354, duplicates: 6, duplicateMessages: 1, lateMessages: 29, outOfOrder: 174, timed: 354, onTime: 180, delayP50Ms: 60 * S, delayP95Ms: 1690 * S, onlineMs: 29 * MIN, observedMs: 60 * MIN },
    ],
    m2: [
      { expected: 360, received: 360, duplicates: 0, duplicateMessages: 0, lateMessages: 0, outOfOrder: 0, timed: 360, onTime: 300, delayP50Ms: 40 * S, delayP95Ms: 2280 * S, onlineMs: 50 * MIN, observedMs: 59 * MIN },
      { expected: 360, received: 360, duplicates: 0, duplicateMessages: 0, lateMessages: 0, outOfOrder: 0, timed: 360, onTime: 180, delayP50Ms: 60 * S, delayP95Ms: 1680 * S, onlineMs: 29 * MIN, observedMs: 60 * MIN },
    ],
    m3: [
      { expected: 360, received: 360, duplicates: 0, duplicateMessages: 0, lateMessages: 0, outOfOrder: 0, timed: 360, onTime: 360, delayP50Ms: 30 * S, delayP95Ms: 60 * S, onlineMs: 59 * MIN, observedMs: 59 * MIN },
      { expected: 360, received: 360, duplicates: 0, duplicateMessages: 0, lateMessages: 0, outOfOrder: 0, timed: 360, onTime: 360, delayP50Ms: 30 * S, delayP95Ms: 60 * S, onlineMs: 60 * MIN, observedMs: 60 * MIN },
    ],
  };

  it('the hand-computed percentiles follow from the delays sent', () => {
    const live = (ks: number[]) => ks.flatMap((k) => delaysOf(k, k + 1));
    const m1h0 = [...live(range(0, 49).filter((k) => k !== 5 && k !== 6)), ...range(50, 59).flatMap((k) => delaysOf(k, 91))];
    const m1h1 = [...live(range(90, 119)), ...range(60, 89).filter((k) => k !== 70).flatMap((k) => delaysOf(k, 91))];
    const m2h0 = [...live(range(0, 49)), ...range(50, 59).flatMap((k) => delaysOf(k, 91))];
    const m2h1 = [...live(range(90, 119)), ...range(60, 89).flatMap((k) => delaysOf(k, 91))];
    const got = [m1h0, m1h1, m2h0, m2h1].map((d) => [d.length, nearestRank(d, 0.5), nearestRank(d, 0.95)]);
    expect(got).toEqual([
      [348, 40, 2290],
      [354, 60, 1690],
      [360, 40, 2280],
      [360, 60, 1680],
    ]);
  });

  it('per device and hour, the stored figures equal the hand computation, across the restart', async () => {
    for (const line of ['line-a', 'line-b']) {
      const res = await api<{ devices: Record<string, QualityRow[]> }>(`/api/v1/quality?site=${SITE}&line=${line}&window=1h&from=${START}&to=${at(120)}`);
      for (const [device, rows] of Object.entries(res.devices)) {
        expect(rows.map((r) => r.start)).toEqual([START, at(60)]);
        rows.forEach((r, h) => {
          const want = hand[device as keyof typeof hand][h]!;
          expect({ device, h, ...pick(r, Object.keys(want)) }).toEqual({ device, h, ...want });
          expect(r.completenessPct).toBeCloseTo((100 * want.received) / want.expected, 9);
          expect(r.timelinessPct).toBeCloseTo((100 * want.onTime) / want.timed, 9);
          expect(r.onlinePct).toBeCloseTo((100 * want.onlineMs) / want.observedMs, 9);
        });
      }
      expect(Object.keys(res.devices).sort()).toEqual(line === 'line-a' ? ['m1', 'm2'] : ['m3']);
    }
  });

  it('rolled up per line, site and gateway; hour and day; and the current status of each device', async () => {
    const res = await api<{ total: QualityRow; windows: QualityRow[]; lines: Record<string, QualityRow[]>; gateways: Record<string, QualityRow[]>; deviceStatus: { device: string; online: boolean; missingMessages: number; gateway: string | null; intervalMs: number }[] }>(
      `/api/v1/quality?site=${SITE}&window=1h&from=${START}&to=${at(120)}`,
    );
    // Site H0: 348 + 360 + 360 of 1080; H1: 354 + 360 + 360 of 1080.
    expect(res.windows.map((w) => [w.start, w.devices, w.expected, w.receivedCounted, w.duplicates, w.lateMessages, w.onTime])).toEqual([
      [START, 3, 1080, 1068, 7, 10, 288 + 300 + 360],
      [at(60), 3, 1080, 1074, 6, 29, 180 + 180 + 360],
    ]);
    expect(res.windows[0]!.completenessPct).toBeCloseTo((100 * 1068) / 1080, 9);
    expect(res.windows[1]!.completenessPct).toBeCloseTo((100 * 1074) / 1080, 9);
    // Site H0 delays: 158 each of 10…60 s (948 live), then the two backlogs of minutes 50–59 (each delay twice):
    // p50 = 534th = 40 s; p95 = 1015th = 67th of the backlog = minute 54's 00:54:20 sample, 37 min − 20 s = 2200 s.
    expect([res.windows[0]!.delayP50Ms, res.windows[0]!.delayP95Ms]).toEqual([40 * S, 2200 * S]);
    expect(res.windows[0]!.onlinePct).toBeCloseTo((100 * (49 + 50 + 59)) / (3 * 59), 9);
    // Over both hours: 2142 of 2160.
    expect(res.total).toMatchObject({ expected: 2160, receivedCounted: 2142, duplicates: 13, lateMessages: 39, delayP95Ms: null });
    expect(res.total.completenessPct).toBeCloseTo((100 * 2142) / 2160, 9);
    expect(res.lines['line-a']!.map((w) => [w.expected, w.receivedCounted])).toEqual([
      [720, 708],
      [720, 714],
    ]);
    expect(res.lines['line-b']!.map((w) => [w.expected, w.receivedCounted])).toEqual([
      [360, 360],
      [360, 360],
    ]);
    expect(res.gateways[GW]!.map((w) => [w.devices, w.expected, w.receivedCounted, w.onlineMs])).toEqual([
      [2, 720, 708, 99 * MIN],
      [2, 720, 714, 58 * MIN],
    ]);
    expect(res.deviceStatus.map((d) => `${d.device} ${d.online} ${d.missingMessages} ${d.gateway} ${d.intervalMs}`)).toEqual(['m1 true 3 gw-1 10000', 'm2 true 0 gw-1 10000', 'm3 true 0 null 10000']);

    // The plant-local day so far (02:01): both hours plus 02:00–02:01 (6 slots per device, none received yet).
    const day = await api<{ total: QualityRow; windows: QualityRow[] }>(`/api/v1/quality?site=${SITE}&window=1d&from=${DAY_START}&to=${DAY_START + 24 * HOUR}`);
    expect(day.windows).toHaveLength(1);
    expect(day.total).toMatchObject({ start: DAY_START, expected: 2178, received: 2142, duplicates: 13, onTime: 1668 });
    expect(day.total.delayP50Ms).not.toBeNull(); // one window: its own percentiles
  });

  it('stored in InfluxDB measurement `quality`, and summarised for the energy report', async () => {
    const rows = await queryInfluxQL(influx.url, DB, `SELECT received, expected, duplicates, delay_p95_ms FROM quality WHERE level = 'device' AND device = 'm1' AND "window" = '1h' AND time >= ${START}ms AND time < ${at(120)}ms`);
    expect(rows.map((r) => [r.time, r.received, r.expected, r.duplicates, r.delay_p95_ms])).toEqual([
      [START, 348, 360, 7, 2290 * S],
      [at(60), 354, 360, 6, 1690 * S],
    ]);
    const summary = await readQualitySummary(influxHistory(influx.url, DB, {}, 10_000), { site: SITE, from: DAY_START, to: DAY_START + 24 * HOUR });
    expect(summary.total.completenessPct).toBeCloseTo((100 * 2142) / 2178, 9);
    expect(Object.keys(summary.lines).sort()).toEqual(['line-a', 'line-b']);
    expect(summary.lines['line-a']!.received).toBe(348 + 354 + 360 + 360);
    const bad = await fetch(`${platform.httpUrl}/api/v1/quality?site=${SITE}&window=5m`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'PP_ERR_INVALID_QUERY', message: expect.stringContaining('window') });
  });
});

function pick(r: QualityRow, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (r as unknown as Record<string, unknown>)[k]]));
}
