import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import { verifySignature } from '../../src/webhooks/index.js';
import { freePort, waitFor } from '../support/ports.js';
import { authHeaders, scrapeMetric, spawnPlatform, TEST_ADMIN_TOKEN, type PlatformProcess } from '../support/platform.js';
import { WebhookReceiver, type HookRequest } from '../support/webhook-receiver.js';

/**
 * Regulator webhooks against a real HTTP receiver that first fails (503 for the first two
 * attempts of each delivery), then is down, then answers slowly (the first attempt of each after
 * the platform's timeout), with the platform SIGKILLed and restarted while deliveries are
 * waiting in its outbox. Every transition must arrive, in order per subscription, under exactly
 * one idempotency key, validly signed.
 *
 * Two subscriptions: Hangzhou (zj-hz-*, safety, warning and up) and Ningbo (zj-nb-01, critical).
 * Each action below causes at most one transition per subscription, so the order each must see
 * is exactly the order of the actions.
 */
const SECRET_HZ = 'hangzhou-webhook-secret-0123456789';
const SECRET_NB = 'ningbo-webhook-secret-9876543210';
const T0 = Date.now() - 30 * 60_000;

let receiver: WebhookReceiver;
let platform: PlatformProcess | null = null;
const outputs: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'pp-webhooks-'));
/** What each subscription must receive, in order: `<alert key>:<transition>`. */
const expected: Record<'hz' | 'nb', string[]> = { hz: [], nb: [] };
let tick = 0;

afterAll(async () => {
  if (platform) outputs.push(platform.output());
  await platform?.kill('SIGKILL');
  await receiver?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<PlatformProcess> {
  return spawnPlatform({
    PP_AUTH: 'required',
    PP_DATA_DIR: dataDir,
    PP_MQTT_EMBEDDED_PORT: String(await freePort()),
    PP_WEBHOOK_RETRY_BASE_MS: '100',
    PP_WEBHOOK_RETRY_MAX_MS: '800',
    PP_WEBHOOK_TIMEOUT_MS: '1000',
    PP_LOG_LEVEL: 'debug',
  });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${platform!.url}${path}`, { method, headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One gas reading; returns once the platform stored it (and so decided and queued its alerts). */
async function gas(site: string, device: string, pct: number): Promise<void> {
  await api('POST', `/api/v1/ingest/${site}/line-1/${device}`, { samples: [{ ts: T0 + ++tick * 1000, m: { gas_lel_pct: pct } }] });
}

/**
 * One episode: the reading rises (warning at 15 %LEL in Hangzhou, critical at 30 in Ningbo), is
 * acknowledged (Hangzhou, every other one), and falls back to 0.
 */
async function episode(n: number): Promise<void> {
  const hz = `zj-hz-0${(n % 2) + 1}`;
  const dev = `det-${n}`;
  const hzKey = `${hz}/line-1/${dev}/gas-lel-warning`;
  await gas(hz, dev, 15);
  expected.hz.push(`${hzKey}:opened`);
  if (n % 2 === 0) {
    const open = await api<{ alerts: Alert[] }>('GET', `/api/v1/alerts?device=${dev}&state=open`);
    await api('POST', `/api/v1/alerts/${open.alerts[0]!.id}/ack`, { by: 'duty officer' });
    expected.hz.push(`${hzKey}:acknowledged`);
  }
  await gas(hz, dev, 0);
  expected.hz.push(`${hzKey}:resolved`);
  // Ningbo: 30 %LEL opens the warning (not Ningbo's: below critical) and the critical alert.
  await gas('zj-nb-01', dev, 30);
  expected.nb.push(`zj-nb-01/line-1/${dev}/gas-lel-critical:opened`);
  await gas('zj-nb-01', dev, 0);
  expected.nb.push(`zj-nb-01/line-1/${dev}/gas-lel-critical:resolved`);
}

const label = (r: HookRequest) => {
  const body = JSON.parse(r.body) as { type: string; alert: Alert };
  return `${body.alert.key}:${body.type}`;
};

/** Keys in arrival order with consecutive repeats (retries) collapsed. */
function keySequence(requests: HookRequest[]): string[] {
  return requests.map((r) => r.key).filter((k, i, all) => i === 0 || all[i - 1] !== k);
}

/** Deliveries the receiver processed (answered 2xx or still answering), once per key. */
const processedKeys = (path: string) => new Set(receiver.of(path).filter((r) => r.status !== 503).map((r) => r.key));

describe('webhooks: every alert arrives, in order, once per key, signed, across faults and a SIGKILL', () => {
  it('delivers through a flaky, then down, then slow receiver and a platform restart', async () => {
    receiver = await WebhookReceiver.start();
    receiver.behaviour = { failFirst: 2, slowFirstMs: 0, slowMs: 0 };
    platform = await start();
    const hz = await api<{ id: string; signingSecret: string }>('POST', '/api/v1/subscriptions', { url: receiver.url('/hooks/hz'), name: 'Hangzhou', jurisdiction: ['zj-hz-*'], categories: ['safety'], minSeverity: 'warning', secret: SECRET_HZ });
    const nb = await api<{ id: string; signingSecret: string }>('POST', '/api/v1/subscriptions', { url: receiver.url('/hooks/nb'), name: 'Ningbo', jurisdiction: ['zj-nb-01'], categories: ['safety'], minSeverity: 'critical', secret: SECRET_NB });
    // The receiver verifies every request on arrival with the standardwebhooks library (400 when it fails).
    receiver.standardSecrets.set('/hooks/hz', hz.signingSecret);
    receiver.standardSecrets.set('/hooks/nb', nb.signingSecret);

    // 1. Flaky receiver: every delivery fails twice first.
    for (let n = 0; n < 3; n++) await episode(n);
    await waitFor(() => processedKeys('/hooks/hz').size === expected.hz.length && processedKeys('/hooks/nb').size === expected.nb.length, 30_000, 'phase 1 deliveries');
    const flakyPhase = expected.hz.length;

    // 2. Receiver down; more alerts; the platform is killed with them waiting in its outbox.
    await receiver.down();
    for (let n = 3; n < 6; n++) await episode(n);
    const waiting = await api<{ delivery: { pending: number; state: string } }>('GET', `/api/v1/subscriptions/${hz.id}`);
    expect(waiting.delivery.pending).toBeGreaterThan(0);
    await waitFor(async () => (await api<{ delivery: { state: string } }>('GET', `/api/v1/subscriptions/${hz.id}`)).delivery.state === 'retrying', 10_000, 'a failed attempt on the down receiver');
    outputs.push(platform.output());
    expect(await platform.kill('SIGKILL')).toBeNull();
    platform = await start();

    // 3. The receiver comes back slow: each delivery's first attempt is answered 2.5 s later, well
    // after the platform's 1 s timeout (it is processed, then retried: a duplicate under the same
    // key). The margin is wide because a loaded CI machine can stall the platform's timer.
    await new Promise((r) => setTimeout(r, 1500));
    receiver.behaviour = { failFirst: 0, slowFirstMs: 2500, slowMs: 200 };
    await receiver.up();
    for (let n = 6; n < 9; n++) await episode(n);
    await waitFor(() => processedKeys('/hooks/hz').size >= expected.hz.length && processedKeys('/hooks/nb').size >= expected.nb.length, 90_000, 'every delivery');
    // Let any straggling duplicate land before judging.
    await waitFor(async () => (await scrapeMetric(platform!.url, 'pp_webhook_outbox_depth')) === 0, 20_000, 'an empty outbox');

    for (const [name, path, secret, id] of [['hz', '/hooks/hz', SECRET_HZ, hz.id], ['nb', '/hooks/nb', SECRET_NB, nb.id]] as const) {
      const requests = receiver.of(path);
      // In order, nothing missing, nothing extra: all attempts of one delivery come before any of the next.
      const sequence = keySequence(requests);
      expect(sequence.length, `${name}: a delivery was attempted again after a later one`).toBe(new Set(sequence).size);
      const labels = new Map(requests.map((r) => [r.key, label(r)]));
      expect(sequence.map((k) => labels.get(k)), name).toEqual(expected[name]);
      // Exactly one key per transition, and every copy under a key is byte-identical.
      for (const r of requests) {
        expect(r.body, `${name} ${r.key}`).toBe(requests.find((x) => x.key === r.key)!.body);
        expect(r.subscription).toBe(id);
        expect(r.event).toBe(`alert.${label(r).split(':').at(-1)}`);
        // Standard Webhooks: verified by the library on arrival, the idempotency key as webhook-id.
        expect(r.standardError, `${name} ${r.key} attempt ${r.attempt}`).toBeNull();
        expect(r.headers['webhook-id']).toBe(r.key);
        // The first scheme: signed with this subscription's secret over timestamp + "." + body, and fresh.
        expect(verifySignature(secret, r.timestamp, r.body, r.signature, 300, r.arrivedAt), `${name} ${r.key} attempt ${r.attempt}`).toBe(true);
        expect(verifySignature(name === 'hz' ? SECRET_NB : SECRET_HZ, r.timestamp, r.body, r.signature, 300, r.arrivedAt)).toBe(false);
        const body = JSON.parse(r.body) as { v: number; alert: Alert };
        expect(body.v).toBe(1);
      }
      const status = await api<{ delivery: { state: string; pending: number; delivered: number; dead: number } }>('GET', `/api/v1/subscriptions/${id}`);
      expect(status.delivery).toMatchObject({ state: 'ok', pending: 0, delivered: expected[name].length, dead: 0 });
    }
    // The faults really happened: 503s, attempts retried across the restart, slow duplicates.
    const hzRequests = receiver.of('/hooks/hz');
    expect(hzRequests.filter((r) => r.status === 503).length).toBe(2 * flakyPhase);
    // After the restart every delivery's first attempt timed out: it was processed twice, and
    // only the idempotency key tells the receiver it is the same alert.
    const afterRestart = keySequence(hzRequests).slice(flakyPhase);
    expect(afterRestart.length).toBe(expected.hz.length - flakyPhase);
    for (const key of afterRestart) expect(hzRequests.filter((r) => r.key === key && r.status !== 503).length, key).toBeGreaterThanOrEqual(2);
    expect(await scrapeMetric(platform.url, 'pp_webhook_deliveries_total', { outcome: 'retried' })).toBeGreaterThan(0);
    expect(await scrapeMetric(platform.url, 'pp_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThan(0);
    expect(await scrapeMetric(platform.url, 'pp_webhook_delivery_latency_seconds_count')).toBeGreaterThan(0);

    // Neither the admin token nor a webhook secret was ever logged (debug level, both runs).
    outputs.push(platform.output());
    for (const out of outputs) {
      expect(out).not.toContain(TEST_ADMIN_TOKEN);
      expect(out).not.toContain(SECRET_HZ);
      expect(out).not.toContain(SECRET_NB);
    }
  });
});
