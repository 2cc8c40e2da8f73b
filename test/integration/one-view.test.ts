import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPublisher } from '../../edge-agent/index.js';
import type { Alert, AlertTransition } from '../../src/alerts/index.js';
import { parseScope, TokenStore } from '../../src/auth/index.js';
import type { DeviceRef } from '../../src/contract/index.js';
import type { DeviceQualityStatus } from '../../src/quality/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { idempotencyKey } from '../../src/webhooks/subscription.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { LiveTestClient } from '../support/live-client.js';
import { gatewayLogin, natsWorkerEnv, startNats, viewWorkerEnv, type NatsProcess } from '../support/nats.js';
import { launchChromium } from '../support/browser.js';
import { authHeaders, scrapeMetric, spawnPlatform, startTestPlatform, TEST_ADMIN_TOKEN, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * One view across NATS workers (docs/scale-out.md): three worker processes (PP_ROLE=worker)
 * share the partitions of a real NATS JetStream and one API node (PP_ROLE=api) serves the
 * HTTP API, the live WebSocket and webhooks from what they publish. Real nats-server, influxd,
 * platform processes, a real webhook receiver and a real WebSocket client.
 */
declare const document: { querySelectorAll(selector: string): { length: number }; querySelector(selector: string): { textContent: string | null } | null };
declare const localStorage: { setItem(key: string, value: string): void };

const DB = 'one_view';
const SITE = 'site-a';
const LOAD_SITE = 'site-load';
const UNITS = 13; // 12 partitions and the unmapped unit
const DEVICES: DeviceRef[] = Array.from({ length: 24 }, (_, i) => ({ site: SITE, line: `line-${i % 3}`, device: `m-${String(i).padStart(2, '0')}` }));
const keyOf = (d: DeviceRef) => `${d.site}/${d.line}/${d.device}/temperature-high`;

let influx: InfluxdProcess;
let nats: NatsProcess;
let receiver: WebhookReceiver;
let gateway: GatewayPublisher;
let dir: string;
let apiNode: PlatformProcess;
let subscriptionId: string;
const workers = new Map<string, PlatformProcess>();
const extraNodes: PlatformProcess[] = [];
/** Sample times: a second apart, an hour back, so every reading is newer than the last. */
let clock = Date.now() - 3_600_000;

async function startWorker(id: string): Promise<PlatformProcess> {
  const w = await spawnPlatform(viewWorkerEnv(nats, id, { influxUrl: influx.url, database: DB, dir }));

  workers.set(id, w);
  return w;
}

function startApiNode(id: string, dataDir: string): Promise<PlatformProcess> {
  return spawnPlatform(natsWorkerEnv(nats, {
    PP_ROLE: 'api',
    PP_NATS_WORKER_ID: id,
    PP_AUTH: 'required',
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: DB,
    PP_DATA_DIR: dataDir,
    PP_WEBHOOK_RETRY_BASE_MS: '100',
    PP_WEBHOOK_RETRY_MAX_MS: '800',
    // The shortest allowed: the last test waits for it (workers keep the default, 45 min).
    PP_ALERT_STALE_AFTER_S: '60',
  }));
}

async function api<T>(node: PlatformProcess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${node.url}${path}`, { method, headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const alertsOn = async (node: PlatformProcess, query = `site=${SITE}`) => (await api<{ alerts: Alert[] }>(node, 'GET', `/api/v1/alerts?${query}&limit=10000`)).alerts;

/** Every reading sent to site-a, in order (replayed to a single process for comparison). */
const readings: { ref: DeviceRef; ts: number; value: number }[] = [];

/** One temperature reading per device, acknowledged by NATS (so stored in the stream). */
async function temperature(devices: DeviceRef[], value: number): Promise<void> {
  clock += 1000;
  for (const ref of devices) readings.push({ ref, ts: clock, value });
  await Promise.all(devices.map((d) => gateway.publish(d, [{ ts: clock, m: { temperature_c: value } }])));
}

async function owned(w: PlatformProcess): Promise<string[]> {
  const found = /"owned":(\[[^\]]*\])/.exec(await (await fetch(`${w.url}/readyz`)).text());
  return found ? (JSON.parse(found[1]!) as string[]) : [];
}

/** The webhook keys the single process would send for these transitions. */
const keysOf = (transitions: Pick<AlertTransition, 'type' | 'ts' | 'alert'>[]) => transitions.map((t) => idempotencyKey(subscriptionId, t as AlertTransition));
const delivered = () => new Set(receiver.of('/hooks').filter((r) => r.status !== null && r.status < 300).map((r) => r.key));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-one-view-'));
  const rules = { classes: { default: { inherit: false, rules: [{ id: 'temperature-high', metric: 'temperature_c', detector: 'limit', severity: 'critical', category: 'safety', params: { high: 100, hysteresis: 5 } }] } } };
  await writeFile(join(dir, 'rules.json'), JSON.stringify(rules));
  [influx, nats, receiver] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE, LOAD_SITE] }), WebhookReceiver.start()]);
  const started = await Promise.all([startWorker('worker-1'), startWorker('worker-2'), startWorker('worker-3'), startApiNode('api-1', join(dir, 'api-1'))]);
  apiNode = started[3];
  subscriptionId = (await api<{ id: string }>(apiNode, 'POST', '/api/v1/subscriptions', { url: receiver.url('/hooks'), name: 'regulator', secret: 'one-view-webhook-secret-0123456789' })).id;
  gateway = new GatewayPublisher({ brokerUrl: nats.mqttUrl, gatewayId: 'gw-a', site: SITE, devices: DEVICES, ...gatewayLogin(SITE) });
  await gateway.connect();
  await waitFor(async () => {
    const split = await Promise.all([...workers.values()].map(owned));
    return new Set(split.flat()).size === UNITS && split.flat().length === UNITS && split.every((units) => units.length >= 4);
  }, 30_000, 'the units split 5/4/4 over three workers', 200);
}, 180_000);

afterAll(async () => {
  await gateway?.stop().catch(() => undefined);
  for (const p of [...workers.values(), apiNode, ...extraNodes]) await p?.kill('SIGTERM');
  await receiver?.close();
  await Promise.all([nats?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('one view for users across three NATS workers', () => {
  it('faults raise alerts on different workers; GET /api/v1/alerts on the API node lists every device\'s alert', async () => {
    await temperature(DEVICES, 120);
    await waitFor(async () => (await alertsOn(apiNode, `site=${SITE}&state=open`)).length === DEVICES.length, 20_000, `${DEVICES.length} open alerts on the API node`, 250);
    const listed = await alertsOn(apiNode, `site=${SITE}&state=open`);
    expect(new Set(listed.map((a) => a.key))).toEqual(new Set(DEVICES.map(keyOf)));
    // Each worker lists only what it decided; together they are the API node's list.
    const perWorker = await Promise.all([...workers.values()].map(async (w) => (await (await fetch(`${w.url}/api/v1/alerts?site=${SITE}`)).json()) as { alerts: Alert[] }));
    const counts = perWorker.map((r) => r.alerts.length);
    expect(counts.filter((n) => n > 0).length, `alerts per worker ${counts.join('/')}`).toBeGreaterThanOrEqual(2);
    expect(counts.reduce((s, n) => s + n, 0)).toBe(DEVICES.length);
    expect(new Set(perWorker.flatMap((r) => r.alerts.map((a) => a.id)))).toEqual(new Set(listed.map((a) => a.id)));
    console.log(`alerts per worker: ${counts.join(' / ')}`);
    // The API node reports its view; it ingests nothing, and workers take no webhook subscriptions.
    const view = async () => ((await (await fetch(`${apiNode.url}/readyz`)).json()) as { checks: { view: { ready: boolean; node: string; alertsPending: number } } }).checks.view;
    await waitFor(async () => (await view()).alertsPending === 0, 10_000, 'no alert transition left to read');
    expect(await view()).toMatchObject({ ready: true, node: 'api-1', alertsPending: 0 });
    const ingest = await fetch(`${apiNode.url}/api/v1/ingest/${SITE}/line-0/m-00`, { method: 'POST', headers: { ...authHeaders(), 'content-type': 'application/json' }, body: JSON.stringify({ samples: [{ ts: clock, m: { temperature_c: 1 } }] }) });
    expect(ingest.status).toBe(404);
    const subscribe = await fetch(`${workers.get('worker-1')!.url}/api/v1/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url('/worker') }) });
    expect(subscribe.status).toBe(404);
  });

  it('the live WebSocket on the API node receives the values of devices on every worker', async () => {
    const live = await LiveTestClient.open(`${apiNode.url.replace('http', 'ws')}/api/v1/live`, { headers: authHeaders() });
    try {
      await live.subscribe({ sites: [SITE] });
      const since = live.received.length;
      await temperature(DEVICES, 121);
      const seen = () => new Set(live.received.slice(since).flatMap((r) => (r.msg.type === 'telemetry' && r.msg.m.temperature_c === 121 ? [r.msg.device] : [])));
      await waitFor(() => seen().size === DEVICES.length, 10_000, 'every device live on the API node', 100);
      expect(seen()).toEqual(new Set(DEVICES.map((d) => d.device)));
    } finally {
      live.ws.close();
    }
  });

  it('GET /api/v1/quality on the API node covers every device', async () => {
    const status = async () => (await api<{ deviceStatus: DeviceQualityStatus[] }>(apiNode, 'GET', `/api/v1/quality?site=${SITE}`)).deviceStatus;
    // Each worker publishes what changed once per analytics tick: the newest reading shows within a few.
    await waitFor(async () => (await status()).filter((s) => s.lastSampleTs === clock).length === DEVICES.length, 10_000, 'every device\'s status with its newest reading', 250);
    const q = await status();
    expect(new Set(q.map((s) => s.device))).toEqual(new Set(DEVICES.map((d) => d.device)));
    // The gateway too: learnt from status messages, which NATS delivers once, as news, to whichever
    // worker owned the partition then (the split was still settling); it moves with the device.
    for (const s of q) expect(s, s.device).toMatchObject({ online: true, lastSampleTs: clock, retired: false, gateway: 'gw-a' });
    // The windowed figures come from InfluxDB, where every worker writes its devices' (each second here).
    for (const line of ['line-0', 'line-1', 'line-2']) {
      const want = DEVICES.filter((d) => d.line === line).map((d) => d.device).sort();
      const figures = async () => (await api<{ devices: Record<string, { completenessPct: number | null }[]> }>(apiNode, 'GET', `/api/v1/quality?site=${SITE}&line=${line}&from=now-3h`)).devices;
      await waitFor(async () => Object.keys(await figures()).sort().join() === want.join(), 15_000, `${line}: every device's completeness figures`, 250);
    }
  });

  it('the dashboard on the API node (Chromium) shows every worker\'s devices and alerts; an acknowledgement there reaches the webhooks', async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      await context.addInitScript((token) => {
        localStorage.setItem('pp.lang', 'en');
        localStorage.setItem('pp.token', token);
      }, TEST_ADMIN_TOKEN);
      const page = await context.newPage();
      await page.goto(`${apiNode.url}/dashboard/`);
      await page.waitForFunction((n) => document.querySelectorAll('.tile[data-device]').length === n, DEVICES.length, { timeout: 20_000 });
      const tiles = await page.$$eval('.tile[data-device]', (els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.device));
      expect(new Set(tiles)).toEqual(new Set(DEVICES.map((d) => `${d.site}/${d.line}/${d.device}`)));
      await page.waitForFunction((n) => document.querySelector('#alert-count')?.textContent === String(n), DEVICES.length, { timeout: 10_000 });
      const item = page.locator('#alert-feed li[data-alert-id]').first();
      const id = (await item.getAttribute('data-alert-id'))!;
      await item.locator('button[data-action=ack]').click();
      await page.waitForSelector(`#alert-feed li[data-alert-id="${id}"][data-acked=true]`, { timeout: 5_000 });
      expect((await api<Alert>(apiNode, 'GET', `/api/v1/alerts/${id}`)).ackedAt).not.toBeNull();
    } finally {
      await browser.close();
    }
  });

  it('the webhook receiver gets each transition once per key, as a single process fed the same readings sends them', async () => {
    await temperature(DEVICES, 50);
    await waitFor(async () => (await alertsOn(apiNode, `site=${SITE}&state=open`)).length === 0, 20_000, 'every alert resolved on the API node', 250);
    const all = await alertsOn(apiNode);
    expect(all).toHaveLength(DEVICES.length);
    expect(all.filter((a) => a.ackedAt !== null)).toHaveLength(1); // acknowledged on the dashboard
    const expected = keysOf(all.flatMap((a) => [{ type: 'opened' as const, ts: a.openedAt, alert: a }, ...(a.ackedAt === null ? [] : [{ type: 'acknowledged' as const, ts: a.ackedAt, alert: a }]), { type: 'resolved' as const, ts: a.resolvedAt!, alert: a }]));
    await waitFor(() => expected.every((k) => delivered().has(k)), 20_000, `${expected.length} webhooks delivered`, 250);
    expect(delivered()).toEqual(new Set(expected));
    for (const r of receiver.of('/hooks')) expect(r.body, r.key).toBe(receiver.of('/hooks').find((x) => x.key === r.key)!.body);

    // The same readings through one single process (PP_ROLE=all): the same transitions (alert id, type, time).
    const single = await startTestPlatform({ PP_INFLUX_MANAGED: 'false', PP_MQTT_EMBEDDED_PORT: '0', PP_ANALYTICS_FILE: join(dir, 'rules.json'), PP_DATA_DIR: join(dir, 'single') });
    try {
      await fetch(`${single.httpUrl}/api/v1/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url('/single'), secret: 'single-process-webhook-secret-0123' }) });
      for (const r of readings) {
        const res = await fetch(`${single.httpUrl}/api/v1/ingest/${r.ref.site}/${r.ref.line}/${r.ref.device}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples: [{ ts: r.ts, m: { temperature_c: r.value } }] }) });
        expect(res.status).toBe(200);
      }
      const transitions = (path: string) => new Set(receiver.of(path).filter((h) => h.event !== 'alert.acknowledged').map((h) => JSON.parse(h.body) as { type: string; ts: number; alert: Alert }).map((b) => `${b.alert.id} ${b.type} ${b.ts}`));
      await waitFor(() => transitions('/single').size === 2 * DEVICES.length, 20_000, 'the single process\'s webhooks', 250);
      expect(transitions('/hooks')).toEqual(transitions('/single'));
    } finally {
      await single.stop();
    }
  });

  it('a worker restarted republishes its recent alerts: the API node changes nothing and sends no webhook again', async () => {
    const alertsBefore = await alertsOn(apiNode);
    const hooksBefore = receiver.of('/hooks').length;
    const old = workers.get('worker-2')!;
    const its = ((await (await fetch(`${old.url}/api/v1/alerts?site=${SITE}`)).json()) as { alerts: Alert[] }).alerts.length;
    expect(its).toBeGreaterThan(0);
    await old.kill('SIGTERM');
    const restarted = await startWorker('worker-2');
    await waitFor(async () => (await scrapeMetric(restarted.url, 'pp_view_published_total', { kind: 'alerts' })) >= its, 20_000, `${its} alerts published again`, 250);
    await new Promise((r) => setTimeout(r, 1500)); // what the API node would do with them, it has done by now
    expect(await alertsOn(apiNode)).toEqual(alertsBefore);
    expect(receiver.of('/hooks').length).toBe(hooksBefore);
  });

  it('an API node restarted catches up from the streams, and a new one builds the whole view', async () => {
    const faulty = DEVICES.slice(0, 6);
    const dataDir = join(dir, 'api-1');
    await apiNode.kill('SIGKILL');
    await temperature(faulty, 130);
    apiNode = await startApiNode('api-1', dataDir);
    await waitFor(async () => (await alertsOn(apiNode, `site=${SITE}&state=open`)).length === faulty.length, 20_000, 'the alerts opened while it was down', 250);
    const open = await alertsOn(apiNode, `site=${SITE}&state=open`);
    expect(new Set(open.map((a) => a.key))).toEqual(new Set(faulty.map(keyOf)));
    await waitFor(() => keysOf(open.map((a) => ({ type: 'opened', ts: a.openedAt, alert: a }))).every((k) => delivered().has(k)), 20_000, 'their webhooks', 250);
    // A node with a new data dir and id reads the whole stream; it is ready only once it has.
    const fresh = await startApiNode('api-2', join(dir, 'api-2'));
    extraNodes.push(fresh);
    expect(await alertsOn(fresh)).toHaveLength(DEVICES.length + faulty.length);
    const mine = new Map((await alertsOn(apiNode)).map((a) => [a.id, a]));
    for (const a of await alertsOn(fresh)) expect(a, a.id).toEqual(mine.get(a.id));
  });

  it('API tokens are shared: one made with the CLI on one node works on the other; revoked on either, it is refused everywhere', async () => {
    const other = extraNodes[0]!;
    const status = async (node: PlatformProcess, token: string) => (await fetch(`${node.url}/api/v1/whoami`, { headers: authHeaders(token) })).status;
    // The CLI writes the node's auth.sqlite, as this does.
    const onFirst = new TokenStore(join(dir, 'api-1', 'auth.sqlite'));
    const { token, info } = onFirst.create({ role: 'manager', scope: parseScope([SITE]), name: 'shift lead', createdBy: 'cli' });
    onFirst.close();
    expect(await status(apiNode, token)).toBe(200);
    await waitFor(async () => (await status(other, token)) === 200, 15_000, 'the token accepted by the other API node', 250);
    const onOther = new TokenStore(join(dir, 'api-2', 'auth.sqlite'));
    expect(onOther.revoke(info.id)).toBe(true);
    onOther.close();
    await waitFor(async () => (await status(apiNode, token)) === 401, 15_000, 'the revocation reaching the first API node', 250);
    // A worker has it too (workers check no tokens in this test, so its file is asked).
    const onWorker = new TokenStore(join(dir, 'worker-3', 'auth.sqlite'));
    await waitFor(() => onWorker.get(info.id)?.revokedAt !== null && onWorker.get(info.id) !== null, 15_000, 'the revoked token on a worker', 250);
    onWorker.close();
  });

  it('one worker SIGKILLed under load: its partitions move, sent = stored, every alert still listed, no id twice', async () => {
    const stored = async () => Number((await queryInfluxQL(influx.url, DB, `SELECT count(power_kw) FROM telemetry WHERE site = '${LOAD_SITE}'`))[0]?.count ?? 0);
    const before = await stored();
    const load = steadyLoad({ brokerUrl: nats.mqttUrl, devices: 30, messagesPerSecond: 200, samplesPerMessage: 5, durationMs: 6000, site: LOAD_SITE, gateway: gatewayLogin(LOAD_SITE) });
    await waitFor(async () => (await stored()) > before + 300, 15_000, 'load flowing');
    const ackedAtKill = load.progress().samples;
    await workers.get('worker-1')!.kill('SIGKILL');
    const survivors = [workers.get('worker-2')!, workers.get('worker-3')!];
    await waitFor(async () => (await Promise.all(survivors.map(owned))).flat().length === UNITS, 15_000, 'the survivors own every unit', 100);
    // The faults still hold: devices that moved are judged again by their new owner.
    await temperature(DEVICES.slice(0, 6), 131);
    const sent = await load.done;
    expect(ackedAtKill).toBeLessThan(sent.samples);
    await waitFor(async () => (await stored()) - before === sent.samples, 30_000, `all ${sent.samples} samples stored`, 250);
    await waitFor(async () => (await alertsOn(apiNode, `site=${SITE}&state=open`)).every((a) => a.lastSeen === clock), 20_000, 'the API node has the latest readings', 250);
    const all = await alertsOn(apiNode);
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
    expect(new Set(all.map((a) => a.key))).toEqual(new Set(DEVICES.map(keyOf)));
    const open = all.filter((a) => a.state === 'open');
    expect(open.map((a) => a.key).sort()).toEqual(DEVICES.slice(0, 6).map(keyOf).sort()); // one open alert per key
    console.log(`worker SIGKILLed under load: sent ${sent.samples}, stored ${(await stored()) - before}; API node lists ${all.length} alerts, ${open.length} open`);
  });

  it('an alert nothing more is heard about resolves as stale on the API node, with the transition its worker would send', async () => {
    const open = await alertsOn(apiNode, `site=${SITE}&state=open`);
    expect(open).toHaveLength(6);
    await waitFor(async () => (await alertsOn(apiNode, `site=${SITE}&state=open`)).length === 0, 100_000, 'the open alerts resolved as stale', 1000);
    const ids = new Set(open.map((a) => a.id));
    const resolved = (await alertsOn(apiNode)).filter((a) => ids.has(a.id));
    expect(resolved).toHaveLength(6);
    for (const a of resolved) expect(a.resolvedAt, a.id).toBe(a.lastSeen); // what AlertManager.tick on the worker decides
    const keys = keysOf(resolved.map((a) => ({ type: 'resolved', ts: a.lastSeen, alert: a })));
    await waitFor(() => keys.every((k) => delivered().has(k)), 20_000, 'their webhooks', 250);
    const bodies = receiver.of('/hooks').filter((r) => keys.includes(r.key)).map((r) => JSON.parse(r.body) as { reason?: string });
    expect(bodies.every((b) => b.reason === 'stale')).toBe(true);
  }, 150_000);
});
