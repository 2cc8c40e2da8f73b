import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import type { DeliveryStatus } from '../../src/webhooks/index.js';
import { freePort, waitFor } from '../support/ports.js';
import { authHeaders, scrapeMetric, startTestPlatform } from '../support/platform.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The outbox's end states, in a platform with a short dead-after (2 s): deliveries to a receiver
 * that never answers die with their reason shown to the admin, and come back in order when the
 * admin redelivers; a regulator's subscription sends nothing once its token is revoked.
 */
let platform: Platform;
let receiver: WebhookReceiver;
const dataDir = mkdtempSync(join(tmpdir(), 'pp-webhooks-dead-'));
let tick = 0;
const T0 = Date.now() - 10 * 60_000;

beforeAll(async () => {
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: '0', PP_WEBHOOK_DEAD_AFTER_S: '2', PP_WEBHOOK_RETRY_BASE_MS: '100', PP_WEBHOOK_RETRY_MAX_MS: '300', PP_WEBHOOK_TIMEOUT_MS: '500' });
});
afterAll(async () => {
  await platform?.stop();
  await receiver?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${platform.httpUrl}${path}`, { method, headers: { ...authHeaders(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

async function gasEpisode(site: string, device: string): Promise<void> {
  for (const pct of [15, 0]) expect((await api('POST', `/api/v1/ingest/${site}/l1/${device}`, { samples: [{ ts: T0 + ++tick * 1000, m: { gas_lel_pct: pct } }] })).status).toBe(200);
}

type View = { id: string; delivery: DeliveryStatus };

describe('webhook deliveries that cannot be made', () => {
  it('die after PP_WEBHOOK_DEAD_AFTER_S with the reason visible to the admin, and are redelivered in order on request', async () => {
    const port = await freePort(); // nothing listens here yet
    const sub = (await api<{ id: string }>('POST', '/api/v1/subscriptions', { url: `http://127.0.0.1:${port}/hook`, jurisdiction: ['site-d'], secret: 'dead-letter-secret-0123' })).body;
    await gasEpisode('site-d', 'det-1');
    await waitFor(async () => {
      // Both transitions expire, each about 2 s after it was queued (the second a moment after the first).
      const d = (await api<View>('GET', `/api/v1/subscriptions/${sub.id}`)).body.delivery;
      return d.dead === 2 && d.pending === 0;
    }, 15_000, 'dead deliveries');
    const { delivery } = (await api<View>('GET', `/api/v1/subscriptions/${sub.id}`)).body;
    expect(delivery).toMatchObject({ state: 'dead', pending: 0, delivered: 0, dead: 2 });
    expect(delivery.lastDead!.error).toMatch(/not delivered within 2 s \(PP_WEBHOOK_DEAD_AFTER_S\) after \d+ attempts; last: ECONNREFUSED/);
    const dead = (await api<{ deliveries: { event: string; state: string; attempts: number; lastError: string }[] }>('GET', `/api/v1/subscriptions/${sub.id}/deliveries?state=dead`)).body.deliveries;
    expect(dead.map((d) => d.event).sort()).toEqual(['alert.opened', 'alert.resolved']);
    // The head was tried until it expired; the one behind it died with it.
    expect(Math.max(...dead.map((d) => d.attempts))).toBeGreaterThan(1);
    expect(dead.every((d) => d.lastError.length > 0)).toBe(true);
    expect(await scrapeMetric(platform.httpUrl, 'pp_webhook_deliveries_total', { outcome: 'dead' })).toBe(2);

    receiver = await WebhookReceiver.startOn(port);
    expect((await api<{ redelivered: number }>('POST', `/api/v1/subscriptions/${sub.id}/redeliver`)).body).toEqual({ redelivered: 2 });
    await waitFor(() => receiver.requests.length >= 2, 10_000, 'redelivered');
    expect(receiver.requests.map((r) => r.event)).toEqual(['alert.opened', 'alert.resolved']);
    await waitFor(async () => (await api<View>('GET', `/api/v1/subscriptions/${sub.id}`)).body.delivery.state === 'ok', 5000, 'state ok');
    expect((await api<View>('GET', `/api/v1/subscriptions/${sub.id}`)).body.delivery).toMatchObject({ delivered: 2, dead: 0, pending: 0 });
  });

  it("a regulator's subscription matches its jurisdiction only, and nothing once its token is revoked", async () => {
    receiver ??= await WebhookReceiver.start();
    const lines: string[] = [];
    expect(tokenCommand(['create', '--role', 'regulator', '--scope', 'zj-hz-*', '--json', '--data-dir', dataDir], {}, (l) => lines.push(l))).toBe(0);
    const { id: tokenId, token } = JSON.parse(lines[0]!) as { id: string; token: string };
    const created = await api<{ id: string; ownerTokenId: string; jurisdiction: string[] }>('POST', '/api/v1/subscriptions', { url: receiver.url('/regulator') }, token);
    expect(created.status).toBe(201);
    // No jurisdiction given: the regulator's own.
    expect(created.body).toMatchObject({ ownerTokenId: tokenId, jurisdiction: ['zj-hz-*'] });

    await gasEpisode('zj-hz-07', 'det-2');
    await gasEpisode('zj-nb-01', 'det-2');
    await waitFor(() => receiver.of('/regulator').length === 2, 10_000, 'the Hangzhou episode');
    expect(receiver.of('/regulator').map((r) => (JSON.parse(r.body) as { alert: { site: string } }).alert.site)).toEqual(['zj-hz-07', 'zj-hz-07']);

    expect(tokenCommand(['revoke', tokenId, '--data-dir', dataDir], {}, () => undefined)).toBe(0);
    await gasEpisode('zj-hz-07', 'det-3');
    const view = (await api<View>('GET', `/api/v1/subscriptions/${created.body.id}`)).body;
    expect(view.delivery).toMatchObject({ delivered: 2, pending: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.of('/regulator')).toHaveLength(2);
  });
});
