import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import { startPlatform, type Platform } from '../../src/app/platform.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { authHeaders, TEST_ADMIN_TOKEN } from '../support/platform.js';
import { LiveTestClient } from '../support/live-client.js';

/**
 * Secrets never reach the log (docs/security.md): the platform runs with a logger built by
 * createLogger (the production one) writing into this test, at debug level, while requests carry
 * bearer tokens (in headers, in `?token=`, as InfluxDB 1.x `p=`), a regulator creates a webhook
 * subscription with a secret, bad tokens are presented, and the MQTT broker URL carries a
 * password. The log lines about these events must be there; the secrets must not, anywhere.
 */
const SUB_SECRET = 'webhook-secret-that-must-never-be-logged';
const MQTT_PASSWORD = 'mqtt-password-in-the-url';
const BAD_TOKEN = `ppt_0123456789ab_${'B'.repeat(43)}`;
/** In a webhook URL under a parameter name no redaction rule knows: all query values are hidden. */
const URL_QUERY_SECRET = 'query-value-of-a-webhook-url';

let mosquitto: MosquittoProcess;
let platform: Platform;
let dataDir: string;
let output = '';
const tokens = { manager: '', regulator: '', gateway: '' };

function createToken(role: string, scope: string, name: string): string {
  const lines: string[] = [];
  expect(tokenCommand(['create', '--role', role, '--scope', scope, '--name', name, '--json', '--data-dir', dataDir], {}, (l) => lines.push(l))).toBe(0);
  return (JSON.parse(lines.join('')) as { token: string }).token;
}

/** The secret half of a token: what must never be printed (its id may be). */
const secretPart = (token: string) => token.slice(17);

beforeAll(async () => {
  mosquitto = await startMosquitto();
  dataDir = mkdtempSync(join(tmpdir(), 'pp-redaction-'));
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (output += d.toString()));
  const config = loadConfig({
    PP_SIMULATOR: 'false',
    PP_INFLUX_MANAGED: 'false',
    PP_HTTP_PORT: '0',
    PP_DATA_DIR: dataDir,
    PP_AUTH: 'required',
    PP_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    PP_MQTT_URL: `mqtt://pp-user:${MQTT_PASSWORD}@127.0.0.1:${mosquitto.port}`,
    PP_MQTT_CLIENT_ID: 'pp-redaction-test',
  });
  platform = await startPlatform(config, createLogger('debug', sink));
  tokens.manager = createToken('manager', 'site-a', 'manager A');
  tokens.regulator = createToken('regulator', 'site-*', 'office');
  tokens.gateway = createToken('gateway', 'site-a', 'gateway A');
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  await mosquitto?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const api = (token: string | null, method: string, path: string, body?: unknown) =>
  fetch(`${platform.httpUrl}${path}`, { method, headers: { ...(token ? authHeaders(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });

describe('log redaction, through a running platform', () => {
  it('logs the events, never the secrets', async () => {
    // Requests with bearer tokens: ingest (gateway), acknowledge (manager), line protocol with p=.
    expect((await api(tokens.gateway, 'POST', '/api/v1/ingest/site-a/line-1/det-1', { samples: [{ ts: Date.now() - 60_000, m: { gas_lel_pct: 15 } }] })).status).toBe(200);
    const alerts = (await (await api(tokens.manager, 'GET', '/api/v1/alerts?state=open')).json()) as { alerts: Alert[] };
    const alert = alerts.alerts.find((a) => a.rule === 'gas-lel-warning')!;
    expect((await api(tokens.manager, 'POST', `/api/v1/alerts/${alert.id}/ack`, { note: 'ok' })).status).toBe(200);
    expect((await fetch(`${platform.httpUrl}/write?db=x&u=telegraf&p=${tokens.gateway}`, { method: 'POST', body: `telemetry,site=site-a,line=l,device=d power_kw=1 ${Date.now()}000000` })).status).toBe(204);
    // A subscription with a secret.
    expect((await api(tokens.regulator, 'POST', '/api/v1/subscriptions', { url: `http://127.0.0.1:9/hook?sig=${URL_QUERY_SECRET}`, secret: SUB_SECRET })).status).toBe(201);
    // Failed logins: a bad bearer token, a bad ?token= on the live WebSocket, a bad p= on /write.
    expect((await api(BAD_TOKEN, 'GET', '/api/v1/alerts')).status).toBe(401);
    const live = new LiveTestClient(`${platform.httpUrl.replace('http', 'ws')}/api/v1/live?token=${BAD_TOKEN}`);
    expect((await live.closed).code).toBe(4401);
    expect((await fetch(`${platform.httpUrl}/write?db=x&u=telegraf&p=${BAD_TOKEN}`, { method: 'POST', body: 'telemetry,site=a,line=l,device=d f=1' })).status).toBe(401);
    // /readyz shows the broker URL, without its password.
    const ready = await (await fetch(`${platform.httpUrl}/readyz`)).text();
    expect(ready).toContain('pp-user:[redacted]@127.0.0.1');
    expect(ready).not.toContain(MQTT_PASSWORD);

    await new Promise((r) => setTimeout(r, 200));
    // The lines are there ...
    expect(output).toMatch(/"msg":"connected to broker"/);
    expect(output).toContain('pp-user:[redacted]@127.0.0.1');
    expect(output).toContain('"msg":"audit: alert.acknowledge');
    expect(output).toContain('"msg":"audit: subscription.create');
    expect(output).toContain('"msg":"webhook subscription created"');
    expect(output).toContain('http://127.0.0.1:9/hook?sig=[redacted]');
    expect((output.match(/"msg":"authentication failed"/g) ?? []).length).toBeGreaterThanOrEqual(3);
    // ... with the presented token's public id, to tell which token it was.
    expect(output).toContain('0123456789ab');
    // ... and no secret, anywhere.
    for (const secret of [SUB_SECRET, URL_QUERY_SECRET, MQTT_PASSWORD, secretPart(BAD_TOKEN), ...Object.values(tokens).map(secretPart), secretPart(TEST_ADMIN_TOKEN)]) {
      expect(output.includes(secret), `a secret (${secret.slice(0, 6)}…) is in the log`).toBe(false);
    }
  });
});

describe('the production logger (createLogger) on its own', () => {
  it('redacts secret fields by path and secrets inside strings, and keeps everything else', () => {
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => (out += d.toString()));
    const log = createLogger('info', sink);
    const token = `ppt_00000000beef_${'S'.repeat(43)}`;
    log.info({ req: { method: 'GET', url: `/api/v1/live?token=${token}`, headers: { authorization: `Bearer ${token}`, 'user-agent': 'kept-agent' } } }, 'request one');
    log.info({ headers: { authorization: 'Basic dXNlcjpwYXNzd29yZC12YWx1ZQ==' } }, 'request two');
    log.info({ subscription: { id: 's1', secret: 'nested-webhook-secret', url: 'https://u:url-password@hooks.example/x?access_token=query-secret&keep=kept-param' } }, 'subscription');
    log.info({ config: { mqtt: { password: 'config-password', username: 'kept-user' }, influx: { token: 'influx-token-value' } } }, 'config');
    log.error({ err: new Error(`cannot connect to mqtt://gw:error-password@broker:1883 with ${token}`) }, 'failure');
    log.warn(`message text with Bearer ${token} and http://a:message-password@h/`);
    for (const secret of ['S'.repeat(43), 'dXNlcjpwYXNzd29yZC12YWx1ZQ==', 'nested-webhook-secret', 'url-password', 'query-secret', 'config-password', 'influx-token-value', 'error-password', 'message-password']) {
      expect(out.includes(secret), `${secret} is in the log`).toBe(false);
    }
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(['request one', 'request two', 'subscription', 'config', 'failure', expect.stringContaining('message text with Bearer [redacted]')]);
    expect(out).toContain('kept-agent');
    expect(out).toContain('kept-user');
    expect(out).toContain('keep=kept-param');
    expect(out).toContain('ppt_00000000beef_[redacted]');
    expect((lines[4]!.err as { message: string }).message).toContain('mqtt://gw:[redacted]@broker:1883');
  });
});
