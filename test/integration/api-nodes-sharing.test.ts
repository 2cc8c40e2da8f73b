import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPublisher } from '../../edge-agent/index.js';
import type { Alert, AlertTransition } from '../../src/alerts/index.js';
import type { AuditEntry } from '../../src/audit/index.js';
import type { DeviceRef } from '../../src/contract/index.js';
import { idempotencyKey } from '../../src/webhooks/subscription.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { connectAsPlatform, FAST_HANDOVER_ENV, gatewayLogin, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { authHeaders, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { WebhookReceiver, type HookRequest } from '../support/webhook-receiver.js';

/**
 * Webhook subscriptions, their delivery and the audit log shared by the API nodes of a NATS
 * fleet (docs/webhooks.md, docs/scale-out.md): one worker and two API nodes (PP_ROLE=api) as
 * their own processes, a real nats-server and influxd, a real webhook receiver.
 */
const DB = 'api_nodes_sharing';
const SITE = 'site-s';
const device = (i: number): DeviceRef => ({ site: SITE, line: 'line-1', device: `m-${String(i).padStart(2, '0')}` });
/** m-00 overheats before any subscription exists: its opening is history for every subscriber. */
const EARLY = device(0);
const FIRST = Array.from({ length: 4 }, (_, i) => device(i + 1));
const SECOND = Array.from({ length: 10 }, (_, i) => device(i + 10));
const ALL = [EARLY, ...FIRST, ...SECOND];
/** Receiver paths of the two subscribers (A's URL carries a query value of its own, hidden by the API). */
const A = '/hooks-a?token=receiver-own-secret';
const B = '/hooks-b';
const PATHS = [A, B];

let influx: InfluxdProcess;
let nats: NatsProcess;
let receiver: WebhookReceiver;
let gateway: GatewayPublisher;
let dir: string;
let worker: PlatformProcess;
const nodes = new Map<string, PlatformProcess>();
/** Subscription id per receiver path. */
const subscriptions = new Map<string, string>();
let clock = Date.now() - 3_600_000;
/** The API nodes' key for signing secrets in the bucket (not a secret: tests only). */
const SECRET_KEY = 'api-nodes-sharing-test-key-0123456789abcdef';

function startApiNode(id: string): Promise<PlatformProcess> {
  return spawnPlatform(
    natsWorkerEnv(nats, {
      PP_ROLE: 'api',
      PP_NATS_WORKER_ID: id,
      ...FAST_HANDOVER_ENV,
      PP_AUTH: 'required',
      PP_INFLUX_URL: influx.url,
      PP_INFLUX_DATABASE: DB,
      PP_DATA_DIR: join(dir, id),
      PP_WEBHOOK_RETRY_BASE_MS: '100',
      PP_WEBHOOK_RETRY_MAX_MS: '800',
      PP_WEBHOOK_SHARED_SECRET_KEY: SECRET_KEY,
      // The shortest allowed: a test waits for the early alert to resolve as stale on the API nodes.
      PP_ALERT_STALE_AFTER_S: '60',
    }),
  ).then((p) => {
    nodes.set(id, p);
    return p;
  });
}

async function api<T>(node: PlatformProcess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${node.url}${path}`, { method, headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (res.status === 204 ? null : await res.json()) as T;
}

const node = (id: string) => nodes.get(id)!;
const alertsOn = async (n: PlatformProcess, query: string) => (await api<{ alerts: Alert[] }>(n, 'GET', `/api/v1/alerts?site=${SITE}&limit=10000&${query}`)).alerts;

async function view(n: PlatformProcess): Promise<{ node: string; alertsPending: number; deliversWebhooks: boolean }> {
  return ((await (await fetch(`${n.url}/readyz`)).json()) as { checks: { view: { node: string; alertsPending: number; deliversWebhooks: boolean } } }).checks.view;
}

/** The API node delivering now (exactly one must say so; `expected`: wait until it is that one). */
async function deliverer(expected?: string): Promise<string> {
  let found: string[] = [];
  await waitFor(async () => {
    const live = [...nodes].filter(([, p]) => p.child.exitCode === null && p.child.signalCode === null);
    found = (await Promise.all(live.map(async ([id, p]) => ((await view(p)).deliversWebhooks ? [id] : [])))).flat();
    return found.length === 1 && (expected === undefined || found[0] === expected);
  }, 20_000, `exactly one API node delivering webhooks${expected ? ` (${expected})` : ''}`, 200);
  return found[0]!;
}

async function temperature(devices: DeviceRef[], value: number): Promise<void> {
  clock += 1000;
  await Promise.all(devices.map((d) => gateway.publish(d, [{ ts: clock, m: { temperature_c: value } }])));
}

/** The idempotency keys one process would send `path`'s subscription for these transitions. */
function keysOf(path: string, transitions: Pick<AlertTransition, 'type' | 'ts' | 'alert'>[]): string[] {
  return transitions.map((t) => idempotencyKey(subscriptions.get(path)!, t as AlertTransition));
}

const answered = (path: string) => receiver.of(path).filter((r) => r.status !== null && r.status < 300);
const keysAt = (path: string) => new Set(answered(path).map((r) => r.key));

/** Every request the receiver got is one of `expected`; each expected key answered 2xx; repeats carry the same key and body. */
function checkExactly(path: string, expected: string[]): { requests: number; repeats: number } {
  const got = receiver.of(path);
  expect(new Set(got.map((r) => r.key))).toEqual(new Set(expected));
  expect(keysAt(path)).toEqual(new Set(expected));
  const byKey = new Map<string, HookRequest[]>();
  for (const r of got) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const [key, requests] of byKey) {
    expect(new Set(requests.map((r) => r.body)).size, key).toBe(1);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])), key).toEqual(new Set([key]));
  }
  return { requests: got.length, repeats: got.length - byKey.size };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-api-nodes-'));
  const rules = { classes: { default: { inherit: false, rules: [{ id: 'temperature-high', metric: 'temperature_c', detector: 'limit', severity: 'critical', category: 'safety', params: { high: 100, hysteresis: 5 } }] } } };
  await writeFile(join(dir, 'rules.json'), JSON.stringify(rules));
  [influx, nats, receiver] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE] }), WebhookReceiver.start()]);
  [worker] = await Promise.all([
    spawnPlatform(natsWorkerEnv(nats, { PP_ROLE: 'worker', PP_NATS_WORKER_ID: 'worker-1', ...FAST_HANDOVER_ENV, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_ANALYTICS_FILE: join(dir, 'rules.json'), PP_ANALYTICS_TICK_MS: '250', PP_DATA_DIR: join(dir, 'worker-1') })),
    startApiNode('api-1'),
    startApiNode('api-2'),
  ]);
  gateway = new GatewayPublisher({ brokerUrl: nats.mqttUrl, gatewayId: 'gw-s', site: SITE, devices: ALL, ...gatewayLogin(SITE) });
  await gateway.connect();
  // History before any subscription: m-00's alert opens and stays open.
  await temperature([EARLY], 120);
  await waitFor(async () => (await alertsOn(node('api-1'), 'state=open')).length === 1 && (await alertsOn(node('api-2'), 'state=open')).length === 1, 20_000, 'the early alert on both API nodes', 200);
}, 180_000);

afterAll(async () => {
  
  await gateway?.stop().catch(() => undefined);
  for (const p of [worker, ...nodes.values()]) await p?.kill('SIGTERM');
  await receiver?.close();
  await Promise.all([nats?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('webhook subscriptions, delivery and the audit log shared by API nodes', () => {
  it('a subscription made on one API node is listed on the other within seconds; deleted on the other, it is gone from both', async () => {
    const a = await api<{ id: string; signingSecret: string }>(node('api-1'), 'POST', '/api/v1/subscriptions', { url: receiver.url(A), name: 'regulator A', secret: 'shared-subscription-secret-a-0123456789' });
    const b = await api<{ id: string; signingSecret: string }>(node('api-2'), 'POST', '/api/v1/subscriptions', { url: receiver.url(B), name: 'regulator B', secret: 'shared-subscription-secret-b-0123456789' });
    subscriptions.set(A, a.id);
    subscriptions.set(B, b.id);
    receiver.standardSecrets.set(A, a.signingSecret);
    receiver.standardSecrets.set(B, b.signingSecret);
    for (const n of ['api-1', 'api-2']) {
      await waitFor(async () => (await api<{ count: number }>(node(n), 'GET', '/api/v1/subscriptions')).count === 2, 10_000, `both subscriptions on ${n}`, 100);
      const shown = await api<{ name: string; url: string; delivery: { state: string } }>(node(n), 'GET', `/api/v1/subscriptions/${a.id}`);
      // As on one process: never the secret, the URL's query values hidden.
      expect(shown).toMatchObject({ name: 'regulator A', url: receiver.url('/hooks-a?token=[redacted]'), delivery: { state: 'ok' } });
      expect(JSON.stringify(shown)).not.toContain('shared-subscription-secret');
    }
    // In NATS the signing secrets are sealed (PP_WEBHOOK_SHARED_SECRET_KEY): the bucket holds neither.
    const nc = await connectAsPlatform(nats);
    try {
      const kv = await nc.jetstream().views.kv('pp_webhook_subscriptions');
      for (const id of [a.id, b.id]) {
        const stored = (await kv.get(id))!.string();
        expect(stored).toContain(id);
        expect(stored).toContain('"sealedSecret":"v1.');
        expect(stored).not.toContain('shared-subscription-secret');
      }
    } finally {
      await nc.close();
    }
    const gone = await api<{ id: string }>(node('api-2'), 'POST', '/api/v1/subscriptions', { url: receiver.url('/gone'), name: 'short-lived' });
    await waitFor(async () => (await api<{ count: number }>(node('api-1'), 'GET', '/api/v1/subscriptions')).count === 3, 10_000, 'the third subscription on api-1', 100);
    await api(node('api-1'), 'DELETE', `/api/v1/subscriptions/${gone.id}`);
    await waitFor(async () => (await fetch(`${node('api-2').url}/api/v1/subscriptions/${gone.id}`, { headers: authHeaders() })).status === 404, 10_000, 'the deleted subscription gone from api-2', 100);
    expect((await api<{ count: number }>(node('api-2'), 'GET', '/api/v1/subscriptions')).count).toBe(2);
  });

  it('an alert is delivered once per subscriber across both API nodes, the history before the subscription not at all; both nodes show the deliveries', async () => {
    const delivering = await deliverer();
    await temperature(FIRST, 120);
    // Both nodes: `opened` is read from api-1, which may lag api-2 on a busy machine.
    for (const n of ['api-1', 'api-2']) await waitFor(async () => (await alertsOn(node(n), 'state=open')).length === 1 + FIRST.length, 20_000, `the new alerts on ${n}`, 200);
    const opened = (await alertsOn(node('api-1'), 'state=open')).filter((a) => a.device !== EARLY.device);
    for (const p of PATHS) await waitFor(() => keysAt(p).size === FIRST.length, 20_000, `${p}: ${FIRST.length} deliveries`, 100);
    await new Promise((r) => setTimeout(r, 1500)); // a second node sending too would have by now
    for (const p of PATHS) {
      const { repeats } = checkExactly(p, keysOf(p, opened.map((alert) => ({ type: 'opened', ts: alert.openedAt, alert }))));
      expect(repeats, `${p}: repeated requests`).toBe(0);
      for (const r of receiver.of(p)) expect(r.standardError, 'Standard Webhooks signature').toBeNull();
    }
    const early = (await alertsOn(node('api-1'), 'state=open')).find((a) => a.device === EARLY.device)!;
    expect(receiver.requests.some((r) => r.body.includes(early.id))).toBe(false);
    // The node that does not deliver shows the same delivery state and history.
    const other = delivering === 'api-1' ? 'api-2' : 'api-1';
    for (const p of PATHS) {
      const id = subscriptions.get(p)!;
      await waitFor(async () => (await api<{ delivery: { delivered: number } }>(node(other), 'GET', `/api/v1/subscriptions/${id}`)).delivery.delivered === FIRST.length, 10_000, `${other} shows ${p}'s deliveries`, 100);
      const history = await api<{ deliveries: { idempotencyKey: string; state: string; lastStatus: number }[] }>(node(other), 'GET', `/api/v1/subscriptions/${id}/deliveries`);
      expect(new Set(history.deliveries.map((d) => d.idempotencyKey))).toEqual(keysAt(p));
      expect(history.deliveries.every((d) => d.state === 'delivered' && d.lastStatus === 200)).toBe(true);
    }
  });

  it('the delivering node SIGKILLed mid-delivery: the other takes over, the receiver gets every transition, repeats only with the same webhook-id', async () => {
    const killed = await deliverer();
    const survivor = killed === 'api-1' ? 'api-2' : 'api-1';
    receiver.behaviour = { failFirst: 0, slowFirstMs: 300, slowMs: 300 };
    const before = new Map(PATHS.map((p) => [p, receiver.of(p).length]));
    // FIRST resolve, SECOND open: 14 transitions per subscriber, 300 ms each at the receiver.
    await temperature(FIRST, 20);
    await temperature(SECOND, 120);
    await waitFor(() => PATHS.every((p) => receiver.of(p).length >= before.get(p)! + 3), 20_000, 'deliveries under way', 20);
    await node(killed).kill('SIGKILL');
    expect(await deliverer(survivor)).toBe(survivor);
    const all = await alertsOn(node(survivor), '');
    const transitions = all
      .filter((a) => a.device !== EARLY.device)
      .flatMap((alert) => [{ type: 'opened' as const, ts: alert.openedAt, alert }, ...(alert.state === 'resolved' ? [{ type: 'resolved' as const, ts: alert.resolvedAt!, alert }] : [])]);
    expect(transitions).toHaveLength(FIRST.length * 2 + SECOND.length);
    for (const p of PATHS) await waitFor(() => keysAt(p).size === transitions.length, 30_000, `${p}: every transition delivered`, 100);
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of PATHS) {
      const { requests, repeats } = checkExactly(p, keysOf(p, transitions));
      console.log(`${p}: ${requests} requests for ${transitions.length} transitions (${repeats} repeated, same webhook-id) after ${killed} was SIGKILLed`);
      // Per subscription one delivery is in flight at a time: at most that one is sent again.
      expect(repeats).toBeLessThanOrEqual(1);
      // Order kept per alert: opened before resolved.
      const order = receiver.of(p).map((r) => JSON.parse(r.body) as { type: string; alert: { id: string } });
      for (const a of all.filter((x) => x.state === 'resolved')) {
        const first = (type: string) => order.findIndex((m) => m.alert.id === a.id && m.type === type);
        expect(first('opened')).toBeLessThan(first('resolved'));
      }
    }
    receiver.behaviour = { failFirst: 0, slowFirstMs: 0, slowMs: 0 };
  });

  it('a new API node reads the whole alert stream and takes delivery over without sending any history again', async () => {
    const before = receiver.requests.length;
    // api-0 sorts first: once caught up it holds the delivery lease.
    const fresh = await startApiNode('api-0');
    await waitFor(async () => (await view(fresh)).alertsPending === 0, 20_000, 'api-0 caught up', 200);
    expect(await deliverer('api-0')).toBe('api-0');
    expect((await alertsOn(fresh, '')).length).toBe(1 + FIRST.length + SECOND.length);
    expect((await api<{ count: number }>(fresh, 'GET', '/api/v1/subscriptions')).count).toBe(2);
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.requests.length, 'requests after api-0 started').toBe(before);
    // And it delivers what comes next, once.
    await temperature(SECOND, 20);
    const resolved = async () => (await alertsOn(fresh, 'state=resolved')).filter((a) => SECOND.some((d) => d.device === a.device));
    await waitFor(async () => (await resolved()).length === SECOND.length, 20_000, 'SECOND resolved on api-0', 200);
    const next = (await resolved()).map((alert) => ({ type: 'resolved' as const, ts: alert.resolvedAt!, alert }));
    for (const p of PATHS) await waitFor(() => keysOf(p, next).every((k) => keysAt(p).has(k)), 20_000, `${p}: the resolutions delivered by api-0`, 100);
    await new Promise((r) => setTimeout(r, 1000));
    const sinceStart = receiver.requests.slice(before);
    expect(sinceStart.length).toBe(PATHS.length * SECOND.length);
    expect(new Set(sinceStart.map((r) => r.key))).toEqual(new Set(PATHS.flatMap((p) => keysOf(p, next))));
  });

  it('audit entries made on either API node are listed on every API node', async () => {
    const survivor = nodes.get('api-1')!.child.exitCode === null && nodes.get('api-1')!.child.signalCode === null ? 'api-1' : 'api-2';
    // Heard of again (an update, no webhook): it stays open while this test acknowledges it.
    await temperature([EARLY], 121);
    await waitFor(async () => (await alertsOn(node('api-0'), 'state=open')).find((a) => a.device === EARLY.device)?.value === 121, 10_000, 'the early alert updated', 100);
    const open = (await alertsOn(node('api-0'), 'state=open')).filter((a) => a.device === EARLY.device);
    expect(open).toHaveLength(1);
    await api(node(survivor), 'POST', `/api/v1/alerts/${open[0]!.id}/ack`, { note: `checked on ${survivor}` });
    const made = await api<{ id: string }>(node('api-0'), 'POST', '/api/v1/subscriptions', { url: receiver.url('/audited'), name: 'audited on api-0' });
    await api(node('api-0'), 'DELETE', `/api/v1/subscriptions/${made.id}`);
    const expected = [
      { action: 'alert.acknowledge', target: open[0]!.id },
      { action: 'subscription.create', target: made.id },
      { action: 'subscription.delete', target: made.id },
      // Made on api-1 and api-2 in the first test, before api-0 existed.
      { action: 'subscription.create', target: subscriptions.get(A)! },
      { action: 'subscription.create', target: subscriptions.get(B)! },
    ];
    for (const n of [survivor, 'api-0']) {
      const entries = async () => (await api<{ entries: AuditEntry[] }>(node(n), 'GET', '/api/v1/audit?limit=1000')).entries;
      await waitFor(async () => {
        const got = await entries();
        return expected.every((e) => got.some((g) => g.action === e.action && g.target === e.target));
      }, 10_000, `every API node's entries on ${n}`, 200);
      const got = await entries();
      // Each entry once, newest first, from several logs.
      expect(new Set(got.map((e) => `${e.origin}:${e.id}`)).size).toBe(got.length);
      expect(got.map((e) => e.ts)).toEqual([...got.map((e) => e.ts)].sort((x, y) => y - x));
      expect(new Set(got.filter((e) => expected.some((x) => x.target === e.target)).map((e) => e.origin)).size).toBeGreaterThanOrEqual(2);
      // Start-up entries of every API node (each made the test admin token): api-0, api-1, api-2.
      expect(got.filter((e) => e.action === 'token.create' && e.source === 'start-up').length).toBeGreaterThanOrEqual(3);
    }
    // The shared log keeps PP_AUDIT_RETENTION_DAYS (365 by default) and refuses deletes and purges.
    const nc = await connectAsPlatform(nats);
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info('PP_AUDIT');
      expect(info.config).toMatchObject({ max_age: 365 * 86_400 * 1e9, deny_delete: true, deny_purge: true });
      expect(info.state.messages).toBeGreaterThanOrEqual(expected.length);
      await expect(jsm.streams.deleteMessage('PP_AUDIT', info.state.first_seq)).rejects.toThrow();
      await expect(jsm.streams.purge('PP_AUDIT')).rejects.toThrow();
      expect((await jsm.streams.info('PP_AUDIT')).state.messages).toBe(info.state.messages);
    } finally {
      await nc.close();
    }
    // The acknowledgement made on a node that does not deliver reaches each subscriber once
    // (the alert opened before the subscriptions; its acknowledgement is news).
    const acked = (await alertsOn(node('api-0'), 'state=open')).find((a) => a.id === open[0]!.id)!;
    expect(acked.ackedAt).not.toBeNull();
    for (const p of PATHS) {
      const [key] = keysOf(p, [{ type: 'acknowledged', ts: acked.ackedAt!, alert: acked }]);
      await waitFor(() => keysAt(p).has(key!), 10_000, `${p}: the acknowledgement delivered`, 100);
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.of(p).filter((r) => r.key === key)).toHaveLength(1);
    }
  });

  it('a stale resolution the API nodes decided is read from the stream by a node started later, not decided again for a newer subscriber', async () => {
    // Nothing more heard of m-00: the API nodes resolve it as stale (PP_ALERT_STALE_AFTER_S=60) and publish that.
    await waitFor(async () => (await alertsOn(node('api-0'), 'state=resolved')).some((a) => a.device === EARLY.device), 90_000, 'the early alert resolved as stale', 1000);
    const early = (await alertsOn(node('api-0'), 'state=resolved')).find((a) => a.device === EARLY.device)!;
    expect(early.resolvedAt).toBe(early.lastSeen);
    for (const p of PATHS) {
      const [key] = keysOf(p, [{ type: 'resolved', ts: early.resolvedAt!, alert: early }]);
      await waitFor(() => keysAt(p).has(key!), 10_000, `${p}: the stale resolution delivered`, 100);
    }
    const c = await api<{ id: string }>(node('api-0'), 'POST', '/api/v1/subscriptions', { url: receiver.url('/hooks-c'), name: 'regulator C' });
    const before = receiver.requests.length;
    // A node with a new data dir whose id sorts first (before api-0): it reads the resolution from the stream and delivers from then on.
    const later = await startApiNode('ap-late');
    await waitFor(async () => (await view(later)).alertsPending === 0, 20_000, 'ap-late caught up', 200);
    expect(await deliverer('ap-late')).toBe('ap-late');
    expect((await alertsOn(later, 'state=resolved')).find((a) => a.id === early.id)).toMatchObject({ resolvedAt: early.resolvedAt });
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.requests.slice(before).map((r) => `${r.path} ${r.event}`), 'requests after ap-late started').toEqual([]);
    expect(c.id).toMatch(/^sub_/);
  }, 150_000);

  it('with NATS away, a subscription change is refused (503 PP_ERR_FLEET_UNAVAILABLE) and changes nothing; the node stops cleanly', async () => {
    const n = [...nodes.values()].find((p) => p.child.exitCode === null && p.child.signalCode === null)!;
    const before = (await api<{ count: number }>(n, 'GET', '/api/v1/subscriptions')).count;
    await nats.kill('SIGTERM');
    const res = await fetch(`${n.url}/api/v1/subscriptions`, { method: 'POST', headers: { ...authHeaders(), 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url('/while-nats-away') }) });
    const body = await res.text();
    expect(res.status, body).toBe(503);
    expect(JSON.parse(body), body).toMatchObject({ code: 'PP_ERR_FLEET_UNAVAILABLE' });
    const del = await fetch(`${n.url}/api/v1/subscriptions/${subscriptions.get(B)!}`, { method: 'DELETE', headers: authHeaders() });
    expect(del.status).toBe(503);
    expect((await api<{ count: number }>(n, 'GET', '/api/v1/subscriptions')).count).toBe(before);
    // It still stops cleanly (its lease expires by itself; it does not wait out NATS's timeouts).
    const t0 = Date.now();
    expect(await n.kill('SIGTERM')).toBe(0);
    console.log(`an API node stopped with NATS away in ${Date.now() - t0} ms`);
    await nats.restart();
  }, 120_000);
});
