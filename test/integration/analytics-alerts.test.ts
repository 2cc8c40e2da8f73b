import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plant, type FaultKind } from '../../edge-agent/index.js';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { deviceKey, deviceTopic, type Sample } from '../../src/contract/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * The simulated factory with injected faults, through real Mosquitto and InfluxDB: each fault
 * opens exactly one alert, which resolves when the fault ends; healthy machines raise nothing;
 * energy windows in InfluxDB equal the totals computed here from the meter readings sent.
 *
 * Two hours of plant time (5-s samples, hour-aligned, ending an hour or two ago) are replayed as
 * a backlog, as a gateway's store-and-forward would; then a live phase checks silence.
 */
const DB = 'analytics_alerts';
const STEP_MS = 5000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const SPAN_MS = 2 * HOUR;
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - SPAN_MS;
/** When each fault is active, in minutes after START. */
const FAULTS: { device: string; kind: FaultKind; from: number; to: number }[] = [
  { device: 'm-001', kind: 'overheat', from: 30, to: 60 },
  { device: 'm-002', kind: 'stuck', from: 40, to: 70 },
  { device: 'm-003', kind: 'idle-waste', from: 30, to: 75 },
];
/** m-004's energy meter is replaced at this minute: its reading restarts near zero. */
const RESET_AT_MIN = 50;

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;
let dir: string;
let pub: MqttClient;
let sub: MqttClient;
const alertMessages: { topic: string; body: { type: string; alert: Alert } }[] = [];
/** What was sent, per device key. */
const sent = new Map<string, Sample[]>();
const seq = new Map<string, number>();
const plant = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 4, seed: 11 });
const SITE = 'site-01';
const LINE = 'line-01';
const key = (device: string) => `${SITE}/${LINE}/${device}`;

/** Keep every machine running except the ones a fault holds (no random stops: a deterministic plant). */
function step(): void {
  for (const m of plant.machines) if (!m.faults.includes('idle-waste')) m.state = 'running';
  plant.step(STEP_MS);
}

async function publish(device: string, samples: Sample[]): Promise<void> {
  const ref = { site: SITE, line: LINE, device };
  const n = (seq.get(device) ?? 0) + 1;
  seq.set(device, n);
  await pub.publishAsync(deviceTopic(ref, 'metrics'), JSON.stringify({ seq: n, samples }), { qos: 1 });
}

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${platform.httpUrl}${path}`);
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  dir = await mkdtemp(join(tmpdir(), 'pp-analytics-'));

  // Warm up three hours (not sent) so temperatures are steady; each machine's high limit is its
  // normal running maximum + 15 °C, set per device as a plant engineer would.
  for (let t = 0; t < 3 * HOUR; t += STEP_MS) step();
  const normalMax = new Map<string, number>();
  for (let t = 0; t < HOUR; t += STEP_MS) {
    step();
    for (const m of plant.machines) normalMax.set(m.ref.device, Math.max(normalMax.get(m.ref.device) ?? -Infinity, m.sample(0).m.temperature_c!));
  }
  const rules = {
    classes: {
      default: {
        inherit: false,
        rules: [
          { id: 'temperature-high', metric: 'temperature_c', detector: 'limit', severity: 'critical', params: { high: 999, hysteresis: 5, minDurationS: 30 } },
          { id: 'temperature-stuck', metric: 'temperature_c', detector: 'flatline', category: 'sensor', params: { epsilon: 0, minDurationS: 120, minSamples: 10 } },
          { id: 'idle-share-high', metric: 'idle_share', detector: 'limit', category: 'energy', params: { high: 0.3, hysteresis: 0.05, minDurationS: 900, maxGapS: 900 } },
          { id: 'silence', metric: '*', detector: 'silence', params: { timeoutS: 4 } },
        ],
      },
    },
    devices: Object.fromEntries([...normalMax].map(([d, max]) => [key(d), { override: { 'temperature-high': { params: { high: Math.round(max + 15) } } } }])),
  };
  const rulesFile = join(dir, 'analytics.yaml');
  await writeFile(rulesFile, JSON.stringify(rules));

  platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-analytics-test', PP_ANALYTICS_FILE: rulesFile, PP_ANALYTICS_TICK_MS: '200', PP_DATA_DIR: join(dir, 'data') });
  sub = await mqtt.connectAsync(mosquitto.url, { clientId: 'alerts-watcher' });
  sub.on('message', (topic, payload) => alertMessages.push({ topic, body: JSON.parse(payload.toString()) as { type: string; alert: Alert } }));
  await sub.subscribeAsync('pp/v1/+/+/+/alerts', { qos: 1 });
  pub = await mqtt.connectAsync(mosquitto.url, { clientId: 'test-gateway', protocolVersion: 5 });

  // The backlog: two hours, faults switched on and off on plant time, sent in messages of 60 samples.
  const buffers = new Map<string, Sample[]>();
  let resetOffset: number | null = null;
  for (let ts = START; ts <= END; ts += STEP_MS) {
    if (ts > START) step();
    const minute = (ts - START) / MIN;
    for (const f of FAULTS) {
      const m = plant.machine(key(f.device))!;
      if (minute === f.from) m.injectFault(f.kind);
      if (minute === f.to) m.clearFaults(f.kind);
    }
    for (const { machine, sample } of plant.sample(ts)) {
      if (machine.ref.device === 'm-004' && minute >= RESET_AT_MIN) {
        // The new meter starts from what the old one read one sample earlier: the first reading
        // after the swap is exactly the energy of its interval.
        resetOffset ??= sent.get(deviceKey(machine.ref))!.at(-1)!.m.energy_kwh!;
        sample.m.energy_kwh = Math.round((sample.m.energy_kwh! - resetOffset) * 1000) / 1000;
      }
      const k = deviceKey(machine.ref);
      sent.set(k, [...(sent.get(k) ?? []), sample]);
      const buf = [...(buffers.get(k) ?? []), sample];
      if (buf.length === 60) {
        await publish(machine.ref.device, buf);
        buffers.set(k, []);
      } else buffers.set(k, buf);
    }
  }
  for (const [k, buf] of buffers) if (buf.length) await publish(k.split('/')[2]!, buf);
  const total = [...sent.values()].reduce((n, s) => n + s.length, 0);
  await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })) >= total, 60_000, 'the backlog stored');
}, 180_000);

afterAll(async () => {
  await pub?.endAsync();
  await sub?.endAsync();
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Per device key, what the energy meter says was drawn between two sample times (the reset handled as the platform must). */
function meterEnergy(samples: Sample[], from: number, to: number): number {
  let kwh = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (b.ts <= from || b.ts > to) continue;
    const d = b.m.energy_kwh! - a.m.energy_kwh!;
    kwh += d >= 0 ? d : b.m.energy_kwh!; // a reset counts from zero
  }
  return kwh;
}

describe('injected faults → alerts, through real Mosquitto and InfluxDB', () => {
  it('each fault opened exactly one alert of the expected rule and category, resolved once the fault ended; nothing else', async () => {
    await waitFor(async () => (await api<{ alerts: Alert[] }>('/api/v1/alerts?state=open')).alerts.length === 0, 20_000, 'no alert left open');
    const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts?site=site-01');
    const got = alerts.map((a) => `${a.device} ${a.rule} ${a.category} ${a.state}`).sort();
    expect(got).toEqual(['m-001 temperature-high safety resolved', 'm-002 temperature-stuck sensor resolved', 'm-003 idle-share-high energy resolved']);
    const by = (device: string) => alerts.find((a) => a.device === device)!;
    const at = (minutes: number) => START + minutes * MIN;
    // Overheat: opens some minutes after the fault starts, resolves after it ends (thermal lag).
    expect(by('m-001').openedAt).toBeGreaterThan(at(30));
    expect(by('m-001').openedAt).toBeLessThan(at(50));
    expect(by('m-001').resolvedAt!).toBeGreaterThan(at(60));
    expect(by('m-001').peak).toBeGreaterThan(by('m-001').threshold!);
    expect(by('m-001').severity).toBe('critical');
    // Stuck: raised once the 40:00 reading has repeated for 2 min; cleared by the first real
    // reading (the 70:00 one was measured before the fault was cleared, so 70:05).
    expect(by('m-002').openedAt).toBe(at(40) + 2 * MIN);
    expect(by('m-002').resolvedAt).toBe(at(70) + STEP_MS);
    // Idle waste (45 min): raised at the end of the second idle 15-min window, cleared by the first busy one.
    expect(by('m-003').openedAt).toBe(at(60));
    expect(by('m-003').resolvedAt).toBe(at(90));
    expect(by('m-003').value).toBeCloseTo(1, 2);
    for (const a of alerts) expect(a.message.zh.length).toBeGreaterThan(0);
  });

  it('every transition is in InfluxDB and was published on the device alerts topic', async () => {
    const rows = await queryInfluxQL(influx.url, DB, `SELECT id, value FROM alert GROUP BY device, rule, transition`);
    const transitions = rows.map((r) => `${r.device} ${r.rule} ${r.transition}`).sort();
    expect(transitions).toEqual([
      'm-001 temperature-high opened',
      'm-001 temperature-high resolved',
      'm-002 temperature-stuck opened',
      'm-002 temperature-stuck resolved',
      'm-003 idle-share-high opened',
      'm-003 idle-share-high resolved',
    ]);
    await waitFor(() => alertMessages.length >= 6, 10_000, 'alert messages on MQTT');
    expect(alertMessages.map((m) => `${m.topic} ${m.body.type}`).sort()).toEqual([
      'pp/v1/site-01/line-01/m-001/alerts opened',
      'pp/v1/site-01/line-01/m-001/alerts resolved',
      'pp/v1/site-01/line-01/m-002/alerts opened',
      'pp/v1/site-01/line-01/m-002/alerts resolved',
      'pp/v1/site-01/line-01/m-003/alerts opened',
      'pp/v1/site-01/line-01/m-003/alerts resolved',
    ]);
  });

  it('energy windows in InfluxDB equal the meter totals, across the meter swap', async () => {
    for (const [windowName, size] of [['15m', 15 * MIN], ['1h', HOUR]] as const) {
      const rows = await queryInfluxQL(influx.url, DB, `SELECT kwh FROM energy WHERE "window" = '${windowName}' AND time >= ${START}ms AND time < ${END}ms GROUP BY device`);
      expect(rows).toHaveLength(4 * (SPAN_MS / size));
      for (const r of rows) {
        const expected = meterEnergy(sent.get(key(String(r.device)))!, r.time as number, (r.time as number) + size);
        expect(r.kwh as number).toBeCloseTo(expected, 6);
        expect(expected).toBeGreaterThan(0);
      }
    }
    const energy = await api<{ total: { kwh: number; idleKwh: number }; lines: Record<string, unknown[]> }>(`/api/v1/energy?site=${SITE}&window=1h&from=${START}&to=${END}`);
    const all = [...sent.values()].reduce((sum, s) => sum + meterEnergy(s, START, END), 0);
    expect(energy.total.kwh).toBeCloseTo(all, 6);
    expect(energy.total.idleKwh).toBeGreaterThan(0); // m-003's idle waste
    expect(Object.keys(energy.lines)).toEqual([LINE]);
  });

  it('history: /api/v1/series returns the downsampled temperature the gateway sent', async () => {
    const res = await api<{ every: string; points: { ts: number; mean: number; max: number; n: number }[] }>(`/api/v1/series?device=${key('m-001')}&metric=temperature_c&from=${START}&to=${END}&every=15m`);
    expect(res.points).toHaveLength(8);
    const samples = sent.get(key('m-001'))!;
    for (const p of res.points) {
      const inside = samples.filter((s) => s.ts >= p.ts && s.ts < p.ts + 15 * MIN).map((s) => s.m.temperature_c!);
      expect(p.n).toBe(inside.length);
      expect(p.max).toBe(Math.max(...inside));
      expect(p.mean).toBeCloseTo(inside.reduce((a, b) => a + b, 0) / inside.length, 6);
    }
    const bad = await fetch(`${platform.httpUrl}/api/v1/series?device=${key('m-001')}&metric=temperature_c&from=yesterday`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'PP_ERR_INVALID_QUERY', message: expect.stringContaining('from') });
  });

  it('a device that stops reporting opens a silence alert, resolved when it reports again; acknowledging it is recorded', async () => {
    // Live now: every device reports every 500 ms, except m-004 for a while.
    let silent = true;
    let live = true;
    const loop = (async () => {
      while (live) {
        for (const m of plant.machines) {
          if (m.ref.device === 'm-004' && silent) continue;
          await publish(m.ref.device, [{ ts: Date.now(), m: { power_kw: 1 } }]);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      let open: Alert[] = [];
      await waitFor(async () => (open = (await api<{ alerts: Alert[] }>('/api/v1/alerts?state=open')).alerts).length > 0, 20_000, 'silence alert');
      expect(open.map((a) => `${a.device} ${a.rule} ${a.category}`)).toEqual(['m-004 silence data']);
      // A body at fault is a body error, naming the field.
      const badAck = await fetch(`${platform.httpUrl}/api/v1/alerts/${open[0]!.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 7 }) });
      expect(badAck.status).toBe(400);
      expect(await badAck.json()).toMatchObject({ code: 'PP_ERR_INVALID_BODY', message: expect.stringContaining('note') });
      const ack = await fetch(`${platform.httpUrl}/api/v1/alerts/${open[0]!.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'wang.fang', note: 'gateway cable' }) });
      expect(ack.status).toBe(200);
      expect(await ack.json()).toMatchObject({ acknowledged: true, alert: { ackedBy: 'wang.fang', ackNote: 'gateway cable' } });
      silent = false;
      await waitFor(async () => (await api<Alert>(`/api/v1/alerts/${open[0]!.id}`)).state === 'resolved', 20_000, 'silence resolved');
      expect((await api<{ alerts: Alert[] }>('/api/v1/alerts?state=open')).alerts).toEqual([]);
      expect((await fetch(`${platform.httpUrl}/api/v1/alerts/nope/ack`, { method: 'POST' })).status).toBe(404);
    } finally {
      live = false;
      await loop;
    }
  });
});
