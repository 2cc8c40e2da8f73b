import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * The embedded broker (aedes) with PP_AUTH=required: MQTT clients authenticate with API tokens
 * (password = the token, user name = anything, e.g. the token id) and topic-acl.ts decides what
 * each may publish, subscribe and receive. Real mqtt clients, the real platform, real InfluxDB.
 *
 * aedes speaks MQTT 3.1.1: a refused CONNECT is CONNACK 5 (no credentials) or 4 (bad user name or
 * password); a refused PUBLISH closes the connection (3.1.1 has no negative PUBACK), and the
 * message reaches no one; a refused SUBSCRIBE is granted QoS 0x80 (failure), the connection stays.
 */
const DB = 'embedded_broker_auth';
let influx: InfluxdProcess;
let platform: Platform;
let dataDir: string;
let mqttUrl: string;
const clients: MqttClient[] = [];
const tokens: Record<'gwA' | 'gwB' | 'managerA' | 'revoked', string> = { gwA: '', gwB: '', managerA: '', revoked: '' };

function cli(...args: string[]): string {
  const lines: string[] = [];
  expect(tokenCommand([...args, '--data-dir', dataDir], {}, (l) => lines.push(l))).toBe(0);
  return lines.join('\n');
}

const createToken = (role: string, scope: string) => (JSON.parse(cli('create', '--role', role, '--scope', scope, '--json')) as { token: string }).token;
const idOf = (token: string) => token.slice(4, 16);

type Connected = { client: MqttClient; error?: Error & { code?: number } };

function connect(opts: IClientOptions): Promise<Connected> {
  return new Promise((resolve) => {
    const client = mqtt.connect(mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
    clients.push(client);
    client.once('connect', () => resolve({ client }));
    client.once('error', (error) => resolve({ client, error: error as Error & { code?: number } }));
  });
}

async function asToken(token: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = await connect({ username: idOf(token), password: token, ...opts });
  expect(c.error?.message).toBeUndefined();
  return c.client;
}

const body = (ts: number, value: number) => JSON.stringify({ seq: value, samples: [{ ts, m: { power_kw: value } }] });

async function countStored(where: string): Promise<number> {
  const rows = await queryInfluxQL(influx.url, DB, `SELECT count(power_kw) FROM telemetry WHERE ${where}`);
  return Number(rows[0]?.count ?? 0);
}

/** The SUBACK's granted codes (mqtt.js rejects a SUBACK with a failure code; the packet travels with the error). */
async function suback(client: MqttClient, filters: string[], qos: 0 | 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

/** Publish QoS 1 and tell what became of it: acknowledged, or the connection closed on it. */
function publishOutcome(client: MqttClient, topic: string, payload: string): Promise<'acked' | 'closed'> {
  return new Promise((resolve) => {
    client.once('close', () => resolve('closed'));
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (!err) resolve('acked');
    });
  });
}

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = mkdtempSync(join(tmpdir(), 'pp-embedded-auth-'));
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: dataDir, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_EMBEDDED_PORT: '0', PP_AUTH_MAX_FAILURES: '100000' });
  expect(platform.embeddedBroker).toBe(true);
  mqttUrl = platform.mqttUrl;
  tokens.gwA = createToken('gateway', 'site-a');
  tokens.gwB = createToken('gateway', 'site-b');
  tokens.managerA = createToken('manager', 'site-a');
  tokens.revoked = createToken('gateway', 'site-a');
  expect(cli('revoke', idOf(tokens.revoked))).toContain('revoked');
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await platform?.stop();
  await influx?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('embedded broker with PP_AUTH=required', () => {
  it('refuses anonymous clients (CONNACK 5 not authorized)', async () => {
    const c = await connect({});
    expect(c.error?.code).toBe(5);
    expect(c.client.connected).toBe(false);
  });

  it('refuses a wrong password, an unknown token and a revoked one (CONNACK 4 bad user name or password)', async () => {
    expect((await connect({ username: idOf(tokens.gwA), password: 'not-the-token' })).error?.code).toBe(4);
    expect((await connect({ username: 'x', password: `ppt_0123456789ab_${'x'.repeat(43)}` })).error?.code).toBe(4);
    expect((await connect({ username: idOf(tokens.revoked), password: tokens.revoked })).error?.code).toBe(4);
    expect(await scrapeMetric(platform.httpUrl, 'pp_auth_denied_total', { reason: 'invalid_token' })).toBeGreaterThanOrEqual(3);
  });

  it("ingests a gateway's own site end to end (user name = token id, or anything)", async () => {
    const ts = Date.now() - 60_000;
    const byId = await asToken(tokens.gwA);
    await byId.publishAsync('pp/v1/site-a/line-1/dev-1/metrics', body(ts, 11), { qos: 1 });
    const anyName = await connect({ username: 'whatever-the-gateway-likes', password: tokens.gwA });
    expect(anyName.error).toBeUndefined();
    await anyName.client.publishAsync('pp/v1/site-a/line-1/dev-2/metrics', body(ts, 12), { qos: 1 });
    await waitFor(async () => (await countStored(`site = 'site-a'`)) === 2, 15_000, 'site-a samples in InfluxDB');
  });

  it("closes the connection of a gateway of site A publishing to site B; nothing of it is stored", async () => {
    const gw = await asToken(tokens.gwA);
    expect(await publishOutcome(gw, 'pp/v1/site-b/line-1/dev-9/metrics', body(Date.now() - 60_000, 666))).toBe('closed');
    const alerts = await asToken(tokens.gwA);
    expect(await publishOutcome(alerts, 'pp/v1/site-a/line-1/dev-9/alerts', '{}')).toBe('closed');
    const manager = await asToken(tokens.managerA);
    expect(await publishOutcome(manager, 'pp/v1/site-a/line-1/dev-9/metrics', body(Date.now() - 60_000, 666))).toBe('closed');
    // Site B's own gateway may: its sample is stored, the forged one never was.
    const gwB = await asToken(tokens.gwB);
    await gwB.publishAsync('pp/v1/site-b/line-1/dev-1/metrics', body(Date.now() - 60_000, 21), { qos: 1 });
    await waitFor(async () => (await countStored(`site = 'site-b'`)) === 1, 15_000, 'site-b sample');
    expect(await countStored(`power_kw = 666`)).toBe(0);
    expect(await countStored(`device = 'dev-9'`)).toBe(0);
  });

  it('refuses subscriptions outside the scope (SUBACK 0x80) and keeps the connection; a gateway reads nothing', async () => {
    const gw = await asToken(tokens.gwA);
    expect(await suback(gw, ['pp/v1/#', 'pp/v1/site-a/#', 'pp/v1/site-b/+/+/metrics', '#'], 1)).toEqual([128, 128, 128, 128]);
    expect(gw.connected).toBe(true);
    const manager = await asToken(tokens.managerA);
    expect(await suback(manager, ['pp/v1/site-a/#', 'pp/v1/site-b/#', '#', '$SYS/#'], 0)).toEqual([0, 128, 128, 128]);
    expect(manager.connected).toBe(true);
  });

  it("a manager's wildcard subscription receives its own site's messages only", async () => {
    const manager = await asToken(tokens.managerA);
    const got: string[] = [];
    manager.on('message', (topic) => got.push(topic));
    expect(await suback(manager, ['pp/v1/+/+/+/metrics'], 1)).toEqual([1]);
    const gwB = await asToken(tokens.gwB);
    await gwB.publishAsync('pp/v1/site-b/line-1/dev-3/metrics', body(Date.now() - 30_000, 31), { qos: 1 });
    const gwA = await asToken(tokens.gwA);
    await gwA.publishAsync('pp/v1/site-a/line-1/dev-3/metrics', body(Date.now() - 30_000, 32), { qos: 1 });
    await waitFor(() => got.includes('pp/v1/site-a/line-1/dev-3/metrics'), 5000, "site-a's message at the manager");
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['pp/v1/site-a/line-1/dev-3/metrics']);
  });

  it('a token revoked while connected: its connections are closed within 5 s and it receives nothing more', async () => {
    const token = createToken('manager', 'site-a');
    const reader = await asToken(token);
    const got: string[] = [];
    reader.on('message', (topic) => got.push(topic));
    expect(await suback(reader, ['pp/v1/site-a/+/+/metrics'], 1)).toEqual([1]);
    const gwToken = createToken('gateway', 'site-a');
    const gw = await asToken(gwToken);
    await gw.publishAsync('pp/v1/site-a/line-1/dev-5/metrics', body(Date.now() - 5000, 51), { qos: 1 });
    await waitFor(() => got.length === 1, 5000, 'the message before revocation');
    const closedAt = (c: MqttClient) => new Promise<number>((resolve) => c.once('close', () => resolve(Date.now())));
    const readerClosed = closedAt(reader);
    const gwClosed = closedAt(gw);
    const revokedAt = Date.now();
    cli('revoke', idOf(token));
    cli('revoke', idOf(gwToken));
    expect((await readerClosed) - revokedAt).toBeLessThanOrEqual(5000);
    expect((await gwClosed) - revokedAt).toBeLessThanOrEqual(5000);
    // Reconnecting with the revoked token is refused.
    expect((await connect({ username: idOf(gwToken), password: gwToken })).error?.code).toBe(4);
    await (await asToken(tokens.gwA)).publishAsync('pp/v1/site-a/line-1/dev-5/metrics', body(Date.now() - 3000, 53), { qos: 1 });
    await waitFor(async () => (await countStored(`device = 'dev-5'`)) === 2, 15_000, 'the two permitted samples');
    expect(got).toEqual(['pp/v1/site-a/line-1/dev-5/metrics']);
  }, 30_000);

  it("a token cannot take over the platform's own client id (CONNACK 2), and the platform stays connected", async () => {
    const c = await connect({ clientId: 'plantpulse-1', username: 'x', password: tokens.gwA });
    expect(c.error?.code).toBe(2);
    const ready = await fetch(`${platform.httpUrl}/readyz`);
    expect(ready.status, await ready.text()).toBe(200);
    const ts = Date.now() - 10_000;
    await (await asToken(tokens.gwA)).publishAsync('pp/v1/site-a/line-1/dev-4/metrics', body(ts, 41), { qos: 1 });
    await waitFor(async () => (await countStored(`device = 'dev-4'`)) === 1, 15_000, 'ingest after the takeover attempt');
  });
});

describe('embedded broker with PP_AUTH=off behaves as before: anyone connects and publishes', () => {
  let open: Platform;
  beforeAll(async () => {
    open = await startTestPlatform({ PP_AUTH: 'off', PP_MQTT_EMBEDDED_PORT: '0' });
  }, 30_000);
  afterAll(async () => open?.stop());

  it('accepts an anonymous gateway and ingests its message', async () => {
    const c = await new Promise<MqttClient>((resolve, reject) => {
      const client = mqtt.connect(open.mqttUrl, { reconnectPeriod: 0, protocolVersion: 4 });
      clients.push(client);
      client.once('connect', () => resolve(client));
      client.once('error', reject);
    });
    await c.publishAsync('pp/v1/any-site/line-1/dev-1/metrics', body(Date.now(), 1), { qos: 1 });
    await waitFor(async () => (await scrapeMetric(open.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })) === 1, 10_000, 'the anonymous sample');
  });
});
