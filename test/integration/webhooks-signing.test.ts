import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { verifySignature } from '../../src/webhooks/index.js';
import { waitFor } from '../support/ports.js';
import { authHeaders, startTestPlatform } from '../support/platform.js';
import { WebhookReceiver, type HookRequest } from '../support/webhook-receiver.js';

/**
 * Webhook signatures as receivers check them, on real deliveries from a running platform: the
 * Standard Webhooks headers verified on arrival by the `standardwebhooks` library (the receiver
 * answers 400 when it fails), and the first scheme's `X-PlantPulse-*` headers, still sent.
 */
let platform: Platform;
let receiver: WebhookReceiver;
const dataDir = mkdtempSync(join(tmpdir(), 'pp-webhooks-signing-'));
const T0 = Date.now() - 10 * 60_000;
/** A chosen secret beyond ASCII: the key is its UTF-8 bytes in both schemes. */
const CHOSEN = '杭州-energy-office-secret-ü-0123';

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: '0', PP_WEBHOOK_RETRY_BASE_MS: '100', PP_WEBHOOK_RETRY_MAX_MS: '300' });
});
afterAll(async () => {
  await platform?.stop();
  await receiver?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${platform.httpUrl}${path}`, { method, headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

type Created = { id: string; secret?: string; signingSecret: string };

describe('webhook signatures', () => {
  let generated: Created;
  let chosen: Created;
  let requests: HookRequest[];

  it('creation shows the Standard Webhooks secret (whsec_) once; the generated secret too', async () => {
    const a = await api<Created>('POST', '/api/v1/subscriptions', { url: receiver.url('/generated'), jurisdiction: ['site-s'] });
    const b = await api<Created>('POST', '/api/v1/subscriptions', { url: receiver.url('/chosen'), jurisdiction: ['site-s'], secret: CHOSEN });
    expect([a.status, b.status]).toEqual([201, 201]);
    generated = a.body;
    chosen = b.body;
    expect(generated.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generated.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(chosen.secret).toBeUndefined();
    expect(chosen.signingSecret).toBe(`whsec_${Buffer.from(CHOSEN, 'utf8').toString('base64')}`);
    const later = await api<Record<string, unknown>>('GET', `/api/v1/subscriptions/${generated.id}`);
    expect(later.body.secret).toBeUndefined();
    expect(later.body.signingSecret).toBeUndefined();
  });

  it('real deliveries verify with the standardwebhooks library, the webhook-id being the idempotency key', async () => {
    receiver.standardSecrets.set('/generated', generated.signingSecret);
    receiver.standardSecrets.set('/chosen', chosen.signingSecret);
    for (const [i, pct] of [15, 0].entries()) expect((await api('POST', '/api/v1/ingest/site-s/l1/det-1', { samples: [{ ts: T0 + i * 1000, m: { gas_lel_pct: pct } }] })).status).toBe(200);
    await waitFor(() => receiver.of('/generated').length >= 2 && receiver.of('/chosen').length >= 2, 15_000, 'opened and resolved at both receivers');
    requests = [...receiver.of('/generated'), ...receiver.of('/chosen')];
    for (const r of requests) {
      expect(r.standardError, `${r.path} ${r.key}`).toBeNull();
      expect(r.status).toBe(200);
      expect(r.headers['webhook-id']).toBe(r.key);
      expect(r.headers['webhook-timestamp']).toBe(r.timestamp);
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    expect(receiver.of('/generated').map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['opened', 'resolved']);
  });

  it('the library refuses the wrong secret, a changed body, id or timestamp', () => {
    const r = receiver.of('/chosen')[0]!;
    const fails = (secret: string, body: string, headers: Record<string, string>) => expect(() => new Webhook(secret).verify(body, headers)).toThrow();
    fails(generated.signingSecret, r.body, r.headers);
    fails(chosen.signingSecret, r.body.replace('"opened"', '"resolved"'), r.headers);
    fails(chosen.signingSecret, r.body, { ...r.headers, 'webhook-id': receiver.of('/chosen')[1]!.key });
    fails(chosen.signingSecret, r.body, { ...r.headers, 'webhook-timestamp': String(Number(r.timestamp) - 1) });
    expect(new Webhook(chosen.signingSecret).verify(r.body, r.headers)).toMatchObject({ type: 'opened' });
  });

  it('the X-PlantPulse-* headers of the first scheme are still sent and verify', () => {
    for (const r of receiver.of('/generated')) expect(verifySignature(generated.secret!, r.timestamp, r.body, r.signature, 300, r.arrivedAt)).toBe(true);
    for (const r of receiver.of('/chosen')) {
      expect(verifySignature(CHOSEN, r.timestamp, r.body, r.signature, 300, r.arrivedAt)).toBe(true);
      expect(r.headers['x-plantpulse-event']).toMatch(/^alert\.(opened|resolved)$/);
      expect(r.headers['x-plantpulse-subscription']).toBe(chosen.id);
    }
  });
});

describe('secrets in webhook URLs', () => {
  it('the full URL only in the creation answer; every later answer and the audit log show host and path, query values hidden; deliveries use the full URL', async () => {
    const full = receiver.url('/masked?sig=url-query-secret-1&site=site-m');
    const created = await api<{ id: string; url: string }>('POST', '/api/v1/subscriptions', { url: full, jurisdiction: ['site-m'] });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(full);
    const masked = receiver.url('/masked?sig=[redacted]&site=[redacted]');
    expect((await api<{ url: string }>('GET', `/api/v1/subscriptions/${created.body.id}`)).body.url).toBe(masked);
    const list = (await api<{ subscriptions: { id: string; url: string }[] }>('GET', '/api/v1/subscriptions')).body.subscriptions;
    expect(list.find((x) => x.id === created.body.id)!.url).toBe(masked);
    const audit = await api<{ entries: { target: string; details: { url?: string } }[] }>('GET', '/api/v1/audit?action=subscription.create');
    expect(audit.body.entries.find((e) => e.target === created.body.id)!.details.url).toBe(masked);
    // The receiver itself gets its query string.
    expect((await api('POST', '/api/v1/ingest/site-m/l1/det-1', { samples: [{ ts: T0, m: { gas_lel_pct: 15 } }] })).status).toBe(200);
    await waitFor(() => receiver.requests.some((r) => r.path === '/masked?sig=url-query-secret-1&site=site-m'), 15_000, 'a delivery to the full URL');
    const deliveries = await api('GET', `/api/v1/subscriptions/${created.body.id}/deliveries`);
    for (const answer of [deliveries.body, list, audit.body]) expect(JSON.stringify(answer)).not.toContain('url-query-secret-1');
  });
});
