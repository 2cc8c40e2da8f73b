import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPublisher } from '../../edge-agent/index.js';
import type { Alert } from '../../src/alerts/index.js';
import type { DeviceRef } from '../../src/contract/index.js';
import type { DeviceQualityStatus, QualityRow } from '../../src/quality/index.js';
import { DEVICE_STATE_BUCKET } from '../../src/sources/nats/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { connectAsPlatform, gatewayLogin, natsWorkerEnv, startNats, viewWorkerEnv, type NatsProcess } from '../support/nats.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * What workers and an API node agree on when devices move between workers (docs/scale-out.md):
 * real nats-server, influxd and platform processes; twelve devices of one line behind one gateway.
 * - a device's gateway, heard (as status news) by the worker that owned its partition before the
 *   partition moved, is known to its new owner and to the API node;
 * - the line's completeness figures on the API node cover all twelve devices, though two
 *   workers hold them;
 * - an acknowledgement made on the API node is recorded by the worker that holds the alert;
 * - a worker restarted holds open alerts only for the devices of the partitions it owns, and
 *   resolves none of the others' as stale;
 * - each node lists (and documents) the routes of its role, and names the role for the others.
 */
const DB = 'nats_fleet_view';
const SITE = 'site-f';
const LINE = 'line-1';
const UNITS = 13;
const DEVICES: DeviceRef[] = Array.from({ length: 12 }, (_, i) => ({ site: SITE, line: LINE, device: `f-${String(i).padStart(2, '0')}` }));
const STALE_S = 60;

let influx: InfluxdProcess;
let nats: NatsProcess;
let gateway: GatewayPublisher;
let dir: string;
let apiNode: PlatformProcess;
const workers = new Map<string, PlatformProcess>();
let clock = Date.now() - 3_600_000;

function startWorker(id: string, env: Record<string, string> = {}): Promise<PlatformProcess> {
  return spawnPlatform(viewWorkerEnv(nats, id, { influxUrl: influx.url, database: DB, dir }, { PP_NATS_STATE_SAVE_S: '1', ...env })).then((w) => {
    workers.set(id, w);
    return w;
  });
}

async function get<T>(node: PlatformProcess, path: string): Promise<T> {
  const res = await fetch(`${node.url}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function owned(w: PlatformProcess): Promise<string[]> {
  const found = /"owned":(\[[^\]]*\])/.exec(await (await fetch(`${w.url}/readyz`)).text());
  return found ? (JSON.parse(found[1]!) as string[]) : [];
}

async function temperature(value: number): Promise<void> {
  clock += 1000;
  await Promise.all(DEVICES.map((d) => gateway.publish(d, [{ ts: clock, m: { temperature_c: value } }])));
}

const openOn = async (node: PlatformProcess) => (await get<{ alerts: Alert[] }>(node, `/api/v1/alerts?site=${SITE}&state=open&limit=1000`)).alerts;

/** Each device's partition, from the keys of its saved state (`{partition}.{site}.{line}.{device}`). */
async function partitions(): Promise<Map<string, string>> {
  const nc = await connectAsPlatform(nats);
  try {
    const kv = await nc.jetstream().views.kv(DEVICE_STATE_BUCKET);
    const out = new Map<string, string>();
    for await (const key of await kv.keys()) {
      const [unit, , , device] = key.split('.');
      out.set(device!, unit!);
    }
    return out;
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-fleet-view-'));
  const rules = { classes: { default: { inherit: false, rules: [{ id: 'temperature-high', metric: 'temperature_c', detector: 'limit', severity: 'critical', category: 'safety', params: { high: 100, hysteresis: 5 } }] } } };
  await writeFile(join(dir, 'rules.json'), JSON.stringify(rules));
  [influx, nats] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE] })]);
  // Worker-1 alone hears the gateway's births (status news, delivered once); then worker-2 joins
  // and half the partitions move to it before any data arrives.
  const w1 = await startWorker('worker-1');
  await waitFor(async () => (await owned(w1)).length === UNITS, 20_000, 'worker-1 owns every unit');
  gateway = new GatewayPublisher({ brokerUrl: nats.mqttUrl, gatewayId: 'gw-f', site: SITE, devices: DEVICES, ...gatewayLogin(SITE) });
  await gateway.connect();
  await waitFor(async () => (await scrapeMetric(w1.url, 'pp_quality_status_messages_total', { kind: 'device' })) >= DEVICES.length, 20_000, 'worker-1 heard every device\'s birth', 200);
  await new Promise((r) => setTimeout(r, 1500)); // one periodic save of the states (PP_NATS_STATE_SAVE_S=1)
  const w2 = await startWorker('worker-2');
  await waitFor(async () => (await owned(w1)).length === 7 && (await owned(w2)).length === 6, 20_000, 'the units split 7/6', 200);
  apiNode = await spawnPlatform(natsWorkerEnv(nats, { PP_ROLE: 'api', PP_NATS_WORKER_ID: 'api-f', PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_DATA_DIR: join(dir, 'api') }));
  await temperature(120);
  await waitFor(async () => (await openOn(apiNode)).length === DEVICES.length, 20_000, 'an open alert per device on the API node', 250);
}, 180_000);

afterAll(async () => {
  await gateway?.stop().catch(() => undefined);
  for (const p of [...workers.values(), apiNode]) await p?.kill('SIGTERM');
  await Promise.all([nats?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('workers and an API node agree on moved devices', () => {
  it('a device\'s gateway, heard by its old owner, is known to its new owner and the API node', async () => {
    const moved = (await partitions()).size;
    expect(moved).toBe(DEVICES.length);
    const status = async (node: PlatformProcess) => (await get<{ deviceStatus: DeviceQualityStatus[] }>(node, `/api/v1/quality?site=${SITE}`)).deviceStatus;
    await waitFor(async () => (await status(apiNode)).filter((s) => s.lastSampleTs === clock).length === DEVICES.length, 10_000, 'every device\'s newest reading on the API node', 250);
    for (const s of await status(apiNode)) expect(s.gateway, s.device).toBe('gw-f');
    // Each worker's own view of its devices, those that came with a moved partition included.
    const perWorker = await Promise.all([...workers.values()].map(status));
    expect(perWorker.map((l) => l.length).every((n) => n > 0)).toBe(true);
    for (const s of perWorker.flat()) expect(s.gateway, s.device).toBe('gw-f');
  });

  it('the line\'s completeness on the API node covers every device, though two workers hold them', async () => {
    const byWorker = await Promise.all([...workers.values()].map(async (w) => (await get<{ deviceStatus: DeviceQualityStatus[] }>(w, `/api/v1/quality?site=${SITE}`)).deviceStatus.length));
    expect(byWorker.every((n) => n > 0 && n < DEVICES.length), `devices per worker ${byWorker.join('/')}`).toBe(true);
    const hour = Math.floor(clock / 3_600_000) * 3_600_000;
    const line = async () => get<{ total: QualityRow; windows: QualityRow[]; devices: Record<string, QualityRow[]> }>(apiNode, `/api/v1/quality?site=${SITE}&line=${LINE}&from=${hour}&to=${hour + 3_600_000}`);
    await waitFor(async () => (await line()).windows[0]?.received === DEVICES.length, 15_000, 'the reading of every device in the line\'s hour', 250);
    const l = await line();
    expect(l.windows).toHaveLength(1);
    expect(l.windows[0]).toMatchObject({ devices: DEVICES.length, received: DEVICES.length, timed: DEVICES.length });
    expect(Object.keys(l.devices).sort()).toEqual(DEVICES.map((d) => d.device));
    // The line's delays are those of all its devices: p95 at least every device's p50.
    for (const [device, rows] of Object.entries(l.devices)) expect(l.windows[0]!.delayP95Ms!, device).toBeGreaterThanOrEqual(rows[0]!.delayP50Ms!);
    const site = await get<{ windows: QualityRow[]; lines: Record<string, QualityRow[]>; gateways: Record<string, QualityRow[]> }>(apiNode, `/api/v1/quality?site=${SITE}&from=${hour}&to=${hour + 3_600_000}`);
    expect(site.windows[0]).toMatchObject({ devices: DEVICES.length, received: DEVICES.length });
    expect(site.lines[LINE]![0]).toMatchObject({ devices: DEVICES.length, received: DEVICES.length });
    expect(site.gateways['gw-f']![0]).toMatchObject({ devices: DEVICES.length, received: DEVICES.length });
    // Workers write device figures only: no partial line of one worker's devices in storage.
    expect(await queryInfluxQL(influx.url, DB, `SELECT count(received) FROM quality WHERE site = '${SITE}' AND level <> 'device'`)).toEqual([]);
  });

  it('an acknowledgement on the API node is recorded by the worker holding the alert, with the same time and author', async () => {
    const alerts = await openOn(apiNode);
    const holders = await Promise.all([...workers.values()].map(async (w) => ({ w, ids: new Set((await openOn(w)).map((a) => a.id)) })));
    // One alert held by each worker.
    const picks = holders.map(({ w, ids }) => ({ w, alert: alerts.find((a) => ids.has(a.id))! }));
    for (const { alert } of picks) {
      const res = await fetch(`${apiNode.url}/api/v1/alerts/${alert.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'shift-lead', note: 'on it' }) });
      expect(res.status).toBe(200);
    }
    for (const { w, alert } of picks) {
      const onApi = await get<Alert>(apiNode, `/api/v1/alerts/${alert.id}`);
      await waitFor(async () => (await get<Alert>(w, `/api/v1/alerts/${alert.id}`)).ackedAt !== null, 10_000, `the acknowledgement of ${alert.device} on its worker`, 200);
      expect(await get<Alert>(w, `/api/v1/alerts/${alert.id}`)).toMatchObject({ ackedAt: onApi.ackedAt, ackedBy: 'shift-lead', ackNote: 'on it' });
      // The worker decides the alert's transitions, and writes the acknowledgement's history point.
      await waitFor(async () => (await queryInfluxQL(influx.url, DB, `SELECT acked_by FROM alert WHERE transition = 'acknowledged' AND device = '${alert.device}'`)).length === 1, 10_000, 'the acknowledged point', 250);
    }
    // The worker's state for hand-over has it: a later raise keeps it on the API node too.
    await temperature(121);
    await waitFor(async () => (await openOn(apiNode)).every((a) => a.lastSeen === clock), 10_000, 'the next raise on the API node', 250);
    for (const { alert } of picks) expect((await get<Alert>(apiNode, `/api/v1/alerts/${alert.id}`)).ackedBy).toBe('shift-lead');
  });

  it('each node lists and documents the routes of its role; another role\'s route names the role', async () => {
    const paths = async (node: PlatformProcess) => Object.keys(((await get<{ paths: Record<string, unknown> }>(node, '/docs/json')).paths));
    const [api, worker] = [await paths(apiNode), await paths(workers.get('worker-1')!)];
    expect(api).not.toContain('/api/v1/ingest/{site}/{line}/{device}');
    expect(api).not.toContain('/write');
    expect(api).toContain('/api/v1/subscriptions');
    expect(worker).toContain('/api/v1/ingest/{site}/{line}/{device}');
    expect(worker).not.toContain('/api/v1/subscriptions');
    const ingest = await fetch(`${apiNode.url}/api/v1/ingest/${SITE}/${LINE}/f-00`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples: [{ ts: clock, m: { temperature_c: 1 } }] }) });
    expect(ingest.status).toBe(404);
    const body = (await ingest.json()) as { code: string; message: string };
    expect(body.code).toBe('PP_ERR_NOT_ON_THIS_NODE');
    expect(body.message).toContain('PP_ROLE=worker');
    expect(body.message).toContain('this node runs PP_ROLE=api');
    const subscriptions = await fetch(`${workers.get('worker-1')!.url}/api/v1/subscriptions`);
    expect(await subscriptions.json()).toMatchObject({ code: 'PP_ERR_NOT_ON_THIS_NODE', message: expect.stringContaining('this node runs PP_ROLE=worker') });
    expect(await (await fetch(`${apiNode.url}/api/v1/nowhere`)).json()).toMatchObject({ code: 'PP_ERR_NOT_FOUND' });
  });

  it('a worker restarted holds open alerts only for the devices it owns, and resolves none of the others\' as stale', async () => {
    // Worker-1 stops; worker-3 joins; worker-1 comes back with a stale rule of a minute: the
    // units split three ways, so some devices whose alerts its store holds open are elsewhere now.
    await workers.get('worker-1')!.kill('SIGTERM');
    workers.delete('worker-1');
    const w3 = await startWorker('worker-3');
    const w1 = await startWorker('worker-1', { PP_ALERT_STALE_AFTER_S: String(STALE_S) });
    const all = [w1, workers.get('worker-2')!, w3];
    await waitFor(async () => (await Promise.all(all.map(owned))).every((u) => u.length >= 4), 30_000, 'the units split 5/4/4', 200);
    const unitOf = await partitions();
    const mine = new Set(await owned(w1));
    const ownedDevices = DEVICES.filter((d) => mine.has(unitOf.get(d.device)!)).map((d) => d.device);
    const elsewhere = DEVICES.filter((d) => !mine.has(unitOf.get(d.device)!)).map((d) => d.device);
    expect(ownedDevices.length).toBeGreaterThan(0);
    expect(elsewhere.length).toBeGreaterThan(0);
    await waitFor(async () => (await scrapeMetric(w1.url, 'pp_alerts_open')) === ownedDevices.length, 10_000, `worker-1 holding the alerts of its ${ownedDevices.length} devices`, 200);
    // The faults go on, heard by their owners; after worker-1's stale time nothing was resolved.
    const ids = new Set((await openOn(apiNode)).map((a) => a.id));
    const until = Date.now() + (STALE_S + 5) * 1000;
    while (Date.now() < until) {
      await temperature(122);
      await new Promise((r) => setTimeout(r, 3000));
    }
    expect(await scrapeMetric(w1.url, 'pp_alerts_open')).toBe(ownedDevices.length);
    expect(await queryInfluxQL(influx.url, DB, `SELECT id FROM alert WHERE site = '${SITE}' AND transition = 'resolved'`)).toEqual([]);
    const open = await openOn(apiNode);
    expect(open.map((a) => a.id).sort()).toEqual([...ids].sort());
    expect(open.every((a) => a.lastSeen === clock)).toBe(true);
  }, 150_000);
});
