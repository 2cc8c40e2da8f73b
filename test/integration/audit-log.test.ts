import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { AuditLog, auditCommand, type AuditEntry } from '../../src/audit/index.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { authHeaders, startTestPlatform, TEST_ADMIN_TOKEN } from '../support/platform.js';

/**
 * The audit log (docs/security.md): every kind of entry made through the real HTTP API and the
 * CLI, read back through `GET /api/v1/audit` as an admin and with `plantpulse audit list`;
 * other roles are refused; rows cannot be changed; no secret is ever in an entry.
 */
let platform: Platform;
let dataDir: string;
const T0 = Date.now() - 10 * 60_000;
const SUB_SECRET = 'regulator-webhook-secret-audit-0123';
const tokens = { manager: '', regulator: '', gateway: '', revoked: '' };
let alert: Alert;
let subscriptionId = '';
let adminSubscriptionId = '';

function run(command: typeof tokenCommand, ...args: string[]): string {
  const lines: string[] = [];
  expect(command([...args, '--data-dir', dataDir], {}, (l) => lines.push(l))).toBe(0);
  return lines.join('\n');
}
const createToken = (role: string, scope: string, name: string) => (JSON.parse(run(tokenCommand, 'create', '--role', role, '--scope', scope, '--name', name, '--json')) as { token: string }).token;
const idOf = (token: string) => token.slice(4, 16);

async function call(token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...(token ? authHeaders(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(`${platform.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function audit(query = ''): Promise<AuditEntry[]> {
  const a = await call(TEST_ADMIN_TOKEN, 'GET', `/api/v1/audit${query}`);
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  expect(a.body.count).toBe((a.body.entries as unknown[]).length);
  return a.body.entries as AuditEntry[];
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pp-audit-'));
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: '0' });
  // CLI: token creation and revocation.
  tokens.manager = createToken('manager', 'site-a', 'Plant manager A');
  tokens.regulator = createToken('regulator', 'site-*', 'Energy office');
  tokens.gateway = createToken('gateway', 'site-a', 'gateway A');
  tokens.revoked = createToken('manager', 'site-a', 'leaver');
  expect(run(tokenCommand, 'revoke', idOf(tokens.revoked))).toContain('revoked');

  // An alert to acknowledge: a gas reading above the 10 %LEL warning level.
  const ingest = await call(tokens.gateway, 'POST', '/api/v1/ingest/site-a/line-1/det-1', { samples: [{ ts: T0, m: { gas_lel_pct: 15 } }] });
  expect(ingest.status).toBe(200);
  const open = await call(tokens.manager, 'GET', '/api/v1/alerts?state=open');
  alert = (open.body.alerts as Alert[]).find((a) => a.rule === 'gas-lel-warning')!;
  expect(alert).toBeDefined();
  // HTTP: acknowledgement, subscriptions created, deleted, redelivered.
  expect((await call(tokens.manager, 'POST', `/api/v1/alerts/${alert.id}/ack`, { note: 'detector checked' })).status).toBe(200);
  const sub = await call(tokens.regulator, 'POST', '/api/v1/subscriptions', { url: 'http://127.0.0.1:9/hook?token=url-secret-value', name: 'office hook', secret: SUB_SECRET });
  expect(sub.status).toBe(201);
  subscriptionId = sub.body.id as string;
  expect((await call(tokens.regulator, 'DELETE', `/api/v1/subscriptions/${subscriptionId}`)).status).toBe(204);
  const adminSub = await call(TEST_ADMIN_TOKEN, 'POST', '/api/v1/subscriptions', { url: 'http://127.0.0.1:9/admin-hook' });
  expect(adminSub.status).toBe(201);
  adminSubscriptionId = adminSub.body.id as string;
  expect((await call(TEST_ADMIN_TOKEN, 'POST', `/api/v1/subscriptions/${adminSubscriptionId}/redeliver`)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('audit log', () => {
  it('records who did what, to what, when, through the API and the CLI (newest first)', async () => {
    const entries = await audit();
    const summary = entries.map((e) => `${e.action} ${e.actor.name}`);
    expect(summary).toEqual([
      'subscription.redeliver bootstrap admin',
      'subscription.create bootstrap admin',
      'subscription.delete Energy office',
      'subscription.create Energy office',
      'alert.acknowledge Plant manager A',
      expect.stringMatching(/^token\.revoke cli /),
      expect.stringMatching(/^token\.create cli /),
      expect.stringMatching(/^token\.create cli /),
      expect.stringMatching(/^token\.create cli /),
      expect.stringMatching(/^token\.create cli /),
      'token.create platform start-up',
    ]);
    const byAction = (action: string) => entries.filter((e) => e.action === action);
    const ack = byAction('alert.acknowledge')[0]!;
    expect(ack).toMatchObject({ target: alert.id, source: 'http', actor: { tokenId: idOf(tokens.manager), role: 'manager', name: 'Plant manager A' }, details: { site: 'site-a', rule: 'gas-lel-warning', note: 'detector checked', acknowledged: true } });
    expect(ack.address).toMatch(/127\.0\.0\.1/);
    expect(Math.abs(ack.ts - Date.now())).toBeLessThan(60_000);
    const created = byAction('subscription.create').find((e) => e.target === subscriptionId)!;
    expect(created).toMatchObject({ actor: { tokenId: idOf(tokens.regulator), role: 'regulator' }, details: { name: 'office hook', jurisdiction: ['site-*'], secretGenerated: false } });
    expect(created.details.url).toBe('http://127.0.0.1:9/hook?token=[redacted]');
    expect(byAction('subscription.delete')[0]).toMatchObject({ target: subscriptionId, actor: { role: 'regulator' } });
    expect(byAction('subscription.redeliver')[0]).toMatchObject({ target: adminSubscriptionId, actor: { role: 'admin', tokenId: idOf(TEST_ADMIN_TOKEN) }, details: { redelivered: 0 } });
    expect(byAction('token.revoke')[0]).toMatchObject({ target: idOf(tokens.revoked), source: 'cli', actor: { tokenId: null, role: 'operator' }, details: { role: 'manager', name: 'leaver' } });
    expect(byAction('token.create').map((e) => e.target)).toEqual([tokens.revoked, tokens.gateway, tokens.regulator, tokens.manager, TEST_ADMIN_TOKEN].map(idOf));
    expect(byAction('token.create').find((e) => e.target === idOf(tokens.regulator))).toMatchObject({ details: { role: 'regulator', scope: ['site-*'], name: 'Energy office' } });
  });

  it('never stores a secret: tokens, the webhook secret, credentials in URL query strings', async () => {
    const raw = JSON.stringify(await audit());
    for (const secret of [SUB_SECRET, 'url-secret-value', ...Object.values(tokens), TEST_ADMIN_TOKEN]) expect(raw).not.toContain(secret);
  });

  it('filters by action, actor (token id or name), time, and limits', async () => {
    expect((await audit('?action=token.create')).every((e) => e.action === 'token.create')).toBe(true);
    expect((await audit(`?actor=${idOf(tokens.regulator)}`)).map((e) => e.action)).toEqual(['subscription.delete', 'subscription.create']);
    expect((await audit(`?actor=${encodeURIComponent('Plant manager A')}`)).map((e) => e.action)).toEqual(['alert.acknowledge']);
    expect(await audit(`?from=${Date.now() + 60_000}`)).toEqual([]);
    expect((await audit(`?from=now-1h&to=now&limit=2`)).map((e) => e.action)).toEqual(['subscription.redeliver', 'subscription.create']);
    expect((await call(TEST_ADMIN_TOKEN, 'GET', '/api/v1/audit?action=token.steal')).status).toBe(400);
  });

  it('is for admins only: managers, regulators and gateways get 403, no token 401', async () => {
    for (const t of [tokens.manager, tokens.regulator, tokens.gateway]) expect((await call(t, 'GET', '/api/v1/audit')).body.code).toBe('PP_ERR_FORBIDDEN');
    expect((await call(tokens.manager, 'GET', '/api/v1/audit')).status).toBe(403);
    expect((await call(null, 'GET', '/api/v1/audit')).status).toBe(401);
  });

  it('plantpulse audit list shows the same entries (JSON and table)', async () => {
    const fromCli = JSON.parse(run(auditCommand, 'list', '--json')) as AuditEntry[];
    expect(fromCli).toEqual(await audit());
    const table = run(auditCommand, 'list', '--action', 'alert.acknowledge');
    expect(table.split('\n')[0]).toMatch(/^TIME\s+ACTION\s+TARGET\s+ACTOR/);
    expect(table).toContain(`alert.acknowledge  ${alert.id}`);
    expect(table).toContain(`Plant manager A (${idOf(tokens.manager)})`);
  });

  it('is append-only: the database refuses changes and deletions', () => {
    const db = new Database(join(dataDir, 'audit.sqlite'));
    try {
      expect(() => db.prepare(`UPDATE audit_log SET actor_name = 'someone else'`).run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      expect((db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n).toBe(11);
    } finally {
      db.close();
    }
  });
});

describe('audit retention (PP_AUDIT_RETENTION_DAYS)', () => {
  const DAY = 86_400_000;
  let aged: Platform;
  let agedDir: string;
  afterAll(async () => {
    await aged?.stop();
    if (agedDir) await rm(agedDir, { recursive: true, force: true });
  });

  it('a platform started with 30 days deletes older entries, keeps newer ones, and records the pruning', async () => {
    agedDir = mkdtempSync(join(tmpdir(), 'pp-audit-aged-'));
    // Entries written 40 and 10 days ago (as the CLI would have, back then).
    let then = Date.now() - 40 * DAY;
    const past = new AuditLog(join(agedDir, 'audit.sqlite'), undefined, () => then);
    const operator = { tokenId: null, role: 'operator' as const, name: 'cli ops@host' };
    past.record({ actor: operator, action: 'token.create', target: 'aaaaaaaaaaaa', source: 'cli' });
    past.record({ actor: operator, action: 'token.revoke', target: 'aaaaaaaaaaaa', source: 'cli' });
    then = Date.now() - 10 * DAY;
    past.record({ actor: operator, action: 'token.create', target: 'bbbbbbbbbbbb', source: 'cli' });
    past.close();

    aged = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: agedDir, PP_MQTT_EMBEDDED_PORT: '0', PP_AUDIT_RETENTION_DAYS: '30' });
    const res = await fetch(`${aged.httpUrl}/api/v1/audit`, { headers: authHeaders() });
    expect(res.status).toBe(200);
    const entries = ((await res.json()) as { entries: AuditEntry[] }).entries;
    // Newest first: the first admin token (made after pruning at start-up), the pruning, the 10-day-old entry.
    expect(entries.map((e) => `${e.action} ${e.target}`)).toEqual([`token.create ${idOf(TEST_ADMIN_TOKEN)}`, 'audit.prune audit_log', 'token.create bbbbbbbbbbbb']);
    const prune = entries.find((e) => e.action === 'audit.prune')!;
    expect(prune).toMatchObject({ source: 'retention', actor: { role: 'platform' }, details: { deleted: 2 } });
    expect(Math.abs((prune.details.before as number) - (Date.now() - 30 * DAY))).toBeLessThan(60_000);
    // Outside pruning the log is still append-only.
    const db = new Database(join(agedDir, 'audit.sqlite'));
    try {
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });
});
