import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { BROKER_STAT_TOPICS } from '../../src/sources/mqtt/broker-stats.js';
import { makeTestCertificates } from '../support/certificates.js';
import { COMPOSE_ACL, COMPOSE_MOSQUITTO_CONF, startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, spawnPlatform, startTestPlatform } from '../support/platform.js';
import { freePort, waitFor } from '../support/ports.js';

/**
 * The broker side of access (docs/security.md): real Mosquitto 2 with the SHIPPED compose.conf
 * and compose.acl, a password file made with mosquitto_passwd, and the TLS listener block of
 * compose.conf switched on with certificates made by the openssl commands of docs/security.md.
 *
 * Users: `plantpulse` (the platform), `site-01` (a real gateway: its user name is its site id,
 * the ACL's `pattern` lines), `gateway` (compose's simulated factory: sites site-01 and site-02).
 *
 * What Mosquitto 2.0 does, asserted below: a refused CONNECT is CONNACK 0x87 "not authorized"
 * (MQTT 5; 5 in 3.1.1), a wrong password too (not 0x86); a refused QoS 1 PUBLISH is PUBACK
 * 0x87 (MQTT 5; 3.1.1 has no reason code: a plain PUBACK) and the connection stays open; the
 * message reaches no one. A SUBSCRIBE outside the ACL is GRANTED in the SUBACK, but no message
 * the user may not read is ever delivered on it.
 */
const PASSWORDS = { plantpulse: 'platform-password-0123', 'site-01': 'site-01-gateway-password', gateway: 'simulated-gateway-password' } as const;
type User = keyof typeof PASSWORDS;
const NOT_AUTHORIZED = 0x87;

let mosquitto: MosquittoProcess;
let dir: string;
let tlsPort: number;
const clients: MqttClient[] = [];

/** compose.conf's commented TLS block, switched on, with this test's port and certificate paths. */
function enableTls(conf: string): string {
  const start = conf.indexOf('# --- TLS');
  expect(start, 'compose.conf has a TLS block').toBeGreaterThan(0);
  const blank = conf.indexOf('\n\n', start);
  const end = blank === -1 ? conf.length : blank;
  const block = conf
    .slice(start, end)
    .split('\n')
    .map((l) => (/^#[a-z_]+ /.test(l) ? l.slice(1) : l))
    .join('\n')
    .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`)
    .replace(/\/mosquitto\/certs\//g, `${dir}/`);
  expect(block).toMatch(/^certfile /m);
  return conf.slice(0, start) + block + conf.slice(end);
}

function connect(user: User | null, opts: IClientOptions = {}): Promise<{ client: MqttClient; reasonCode?: number; error?: Error & { code?: number } }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(opts.protocol === 'mqtts' ? `mqtts://127.0.0.1:${tlsPort}` : mosquitto.url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 5,
      ...(user ? { username: user, password: PASSWORDS[user] } : {}),
      ...opts,
    });
    clients.push(client);
    client.once('connect', (connack) => resolve({ client, reasonCode: connack.reasonCode ?? connack.returnCode }));
    client.once('error', (error) => resolve({ client, error: error as Error & { code?: number } }));
  });
}

async function connected(user: User, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = await connect(user, opts);
  expect(c.error?.message).toBeUndefined();
  return c.client;
}

/** Collect what a client receives. */
function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

/** The PUBACK of a QoS 1 publish: its reason code (0 = accepted). */
async function pubackCode(client: MqttClient, topic: string, payload: string, opts: { retain?: boolean } = {}): Promise<number> {
  try {
    await client.publishAsync(topic, payload, { qos: 1, ...opts });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pp-broker-acl-'));
  const passwd = join(dir, 'passwd');
  // As make-auth.sh does it: salted hashes, never the passwords.
  execFileSync('mosquitto_passwd', ['-c', '-b', passwd, 'plantpulse', PASSWORDS.plantpulse]);
  for (const user of ['site-01', 'gateway'] as const) execFileSync('mosquitto_passwd', ['-b', passwd, user, PASSWORDS[user]]);
  expect(await readFile(passwd, 'utf8')).not.toContain(PASSWORDS.plantpulse);
  makeTestCertificates(dir);
  tlsPort = await freePort();
  mosquitto = await startMosquitto('', {
    confFile: COMPOSE_MOSQUITTO_CONF,
    transform: (conf) => enableTls(conf).replace(/^password_file .*$/m, `password_file ${passwd}`).replace(/^acl_file .*$/m, `acl_file ${COMPOSE_ACL}`),
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await mosquitto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Mosquitto with the shipped compose.conf and compose.acl', () => {
  it('refuses anonymous clients (CONNACK 0x87 not authorized; 5 in MQTT 3.1.1)', async () => {
    const v5 = await connect(null);
    expect(v5.error?.code).toBe(NOT_AUTHORIZED);
    const v4 = await connect(null, { protocolVersion: 4 });
    expect(v4.error?.code).toBe(5);
  });

  it('refuses a wrong password, also with 0x87 (Mosquitto 2.0 does not answer 0x86)', async () => {
    const c = await connect(null, { username: 'site-01', password: 'not-the-password' });
    expect(c.error?.code).toBe(NOT_AUTHORIZED);
    expect(c.client.connected).toBe(false);
  });

  it("a gateway's own telemetry and retained status reach the platform's account (as a $share group, as the platform subscribes)", async () => {
    const platform = await connected('plantpulse', { clientId: 'acl-platform-1' });
    const got = inbox(platform);
    await platform.subscribeAsync('$share/acl-test/pp/v1/#', { qos: 1 });
    const gw = await connected('site-01', { clientId: 'acl-gw-own' });
    expect(await pubackCode(gw, 'pp/v1/site-01/line-1/dev-1/metrics', 'own-metrics')).toBe(0);
    expect(await pubackCode(gw, 'pp/v1/site-01/_gateway/gw-1/status', 'own-status', { retain: true })).toBe(0);
    await waitFor(() => got.length >= 2, 5000, 'own messages at the platform');
    expect(got).toEqual([
      { topic: 'pp/v1/site-01/line-1/dev-1/metrics', payload: 'own-metrics' },
      { topic: 'pp/v1/site-01/_gateway/gw-1/status', payload: 'own-status' },
    ]);
    // Its own retained status it may also clear.
    expect(await pubackCode(gw, 'pp/v1/site-01/_gateway/gw-1/status', '', { retain: true })).toBe(0);
  });

  it("refuses a gateway's publish to another site (PUBACK 0x87, the connection stays) and delivers it to no one", async () => {
    const platform = await connected('plantpulse', { clientId: 'acl-platform-2' });
    const got = inbox(platform);
    await platform.subscribeAsync('pp/v1/#', { qos: 1 });
    const gw = await connected('site-01', { clientId: 'acl-gw-other' });
    expect(await pubackCode(gw, 'pp/v1/site-02/line-1/dev-1/metrics', 'forged-site-02')).toBe(NOT_AUTHORIZED);
    expect(await pubackCode(gw, 'pp/v1/site-01/line-1/dev-1/alerts', 'forged-alert')).toBe(NOT_AUTHORIZED);
    expect(await pubackCode(gw, 'pp/dead-letter/v1/x', 'forged-dead-letter')).toBe(NOT_AUTHORIZED);
    expect(await pubackCode(gw, 'spBv1.0/site-01/NDATA/node-1', 'not-in-the-acl')).toBe(NOT_AUTHORIZED);
    expect(gw.connected).toBe(true);
    // MQTT 3.1.1 has no negative PUBACK: Mosquitto acknowledges and drops.
    const gw4 = await connected('site-01', { clientId: 'acl-gw-other-v4', protocolVersion: 4 });
    expect(await pubackCode(gw4, 'pp/v1/site-02/line-1/dev-1/metrics', 'forged-site-02-v311')).toBe(0);
    // A permitted message sent after them arrives: the refused ones, sent before, never will.
    expect(await pubackCode(gw, 'pp/v1/site-01/line-1/dev-1/metrics', 'marker')).toBe(0);
    await waitFor(() => got.some((m) => m.payload === 'marker'), 5000, 'the marker');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map((m) => m.payload)).toEqual(['marker']);
  });

  it('the simulated gateway of compose may write its two sites only', async () => {
    const sim = await connected('gateway', { clientId: 'acl-sim' });
    expect(await pubackCode(sim, 'pp/v1/site-01/line-1/machine-1/metrics', 'x')).toBe(0);
    expect(await pubackCode(sim, 'pp/v1/site-02/_gateway/sim-gw-site-02/status', 'x')).toBe(0);
    expect(await pubackCode(sim, 'pp/v1/site-03/line-1/machine-1/metrics', 'x')).toBe(NOT_AUTHORIZED);
    expect(await pubackCode(sim, 'pp/v1/site-01/line-1/machine-1/alerts', 'x')).toBe(NOT_AUTHORIZED);
  });

  it('a gateway reads nothing: Mosquitto 2.0 grants its SUBSCRIBE but delivers none of what the platform account receives', async () => {
    const gw = await connected('site-01', { clientId: 'acl-gw-reader' });
    const gwGot = inbox(gw);
    const granted = await gw.subscribeAsync(['#', 'pp/v1/site-01/#', 'pp/v1/+/+/+/alerts', '$share/g/pp/v1/#'], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1, 1]);
    const control = await connected('plantpulse', { clientId: 'acl-platform-3' });
    const controlGot = inbox(control);
    await control.subscribeAsync('pp/#', { qos: 1 });
    // An alert of its own site (published by the platform), another gateway's telemetry and a retained status.
    expect(await pubackCode(control, 'pp/v1/site-01/line-1/dev-1/alerts', 'alert-of-site-01')).toBe(0);
    const sim = await connected('gateway', { clientId: 'acl-sim-2' });
    expect(await pubackCode(sim, 'pp/v1/site-02/line-1/dev-1/metrics', 'site-02-data')).toBe(0);
    expect(await pubackCode(sim, 'pp/v1/site-01/line-1/dev-1/status', 'site-01-status', { retain: true })).toBe(0);
    await waitFor(() => controlGot.length >= 3, 5000, 'the control subscriber');
    await new Promise((r) => setTimeout(r, 300));
    expect(gwGot).toEqual([]);
    // A fresh subscription does not get the retained status either.
    const late = await connected('site-01', { clientId: 'acl-gw-late' });
    const lateGot = inbox(late);
    await late.subscribeAsync('pp/v1/#', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(lateGot).toEqual([]);
    expect(await pubackCode(sim, 'pp/v1/site-01/line-1/dev-1/status', '', { retain: true })).toBe(0);
  });

  it("the platform account reads the broker's three queue statistics on $SYS and no other; gateway accounts read none", async () => {
    const stats = [...Object.values(BROKER_STAT_TOPICS)].sort();
    const platform = await connected('plantpulse', { clientId: 'acl-platform-sys' });
    const platformGot = inbox(platform);
    // Every $SYS topic asked for; the ACL lets through only the three (retained: sent at once).
    await platform.subscribeAsync(['$SYS/#', ...stats], { qos: 0 });
    const readers = await Promise.all((['site-01', 'gateway'] as const).map(async (user) => {
      const c = await connected(user, { clientId: `acl-${user}-sys` });
      const got = inbox(c);
      await c.subscribeAsync(['$SYS/#', ...stats], { qos: 0 });
      return got;
    }));
    await waitFor(() => new Set(platformGot.map((m) => m.topic)).size >= stats.length, 5000, "the platform account's statistics");
    await new Promise((r) => setTimeout(r, 500));
    expect([...new Set(platformGot.map((m) => m.topic))].sort()).toEqual(stats);
    for (const m of platformGot) expect(m.payload, m.topic).toMatch(/^\d+$/);
    expect(readers).toEqual([[], []]);
  });

  it('the platform account publishes alerts and dead letters, never telemetry', async () => {
    const platform = await connected('plantpulse', { clientId: 'acl-platform-4' });
    expect(await pubackCode(platform, 'pp/v1/site-01/line-1/dev-1/alerts', '{}')).toBe(0);
    expect(await pubackCode(platform, 'pp/dead-letter/v1/pp/v1/site-01/line-1/dev-1/metrics', '{}')).toBe(0);
    expect(await pubackCode(platform, 'pp/v1/site-01/line-1/dev-1/metrics', 'forged')).toBe(NOT_AUTHORIZED);
  });

  it('the TLS listener: a client trusting the CA connects (and is still authenticated); plain MQTT or another CA cannot', async () => {
    const ca = await readFile(join(dir, 'ca.crt'));
    const tls = await connect('site-01', { protocol: 'mqtts', ca, servername: 'localhost', clientId: 'acl-tls' });
    expect(tls.error?.message).toBeUndefined();
    expect(await pubackCode(tls.client, 'pp/v1/site-01/line-1/dev-1/metrics', 'over-tls')).toBe(0);
    expect(await pubackCode(tls.client, 'pp/v1/site-02/line-1/dev-1/metrics', 'over-tls')).toBe(NOT_AUTHORIZED);
    expect((await connect(null, { protocol: 'mqtts', ca, servername: 'localhost' })).error?.code).toBe(NOT_AUTHORIZED);
    const wrongCa = await connect('site-01', { protocol: 'mqtts', ca: await readFile(join(dir, 'other.crt')), servername: 'localhost' });
    expect(wrongCa.error?.message).toMatch(/self[- ]signed|unable to verify|certificate/i);
    const plain = await new Promise<string>((resolve) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${tlsPort}`, { reconnectPeriod: 0, connectTimeout: 2000, username: 'site-01', password: PASSWORDS['site-01'] });
      clients.push(c);
      c.once('connect', () => resolve('connected'));
      c.once('error', (e) => resolve(`error: ${e.message}`));
      c.once('close', () => resolve('closed'));
    });
    expect(plain).not.toBe('connected');
  });
});

describe('the platform under the shipped ACL', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_MQTT_USERNAME: 'plantpulse', PP_MQTT_PASSWORD: PASSWORDS.plantpulse, PP_MQTT_CLIENT_ID: 'acl-plantpulse-1', PP_MQTT_SHARED_GROUP: 'pp' });
  }, 30_000);
  afterAll(async () => platform?.stop());

  it('ingests a gateway’s telemetry and publishes its dead letters, with the platform account', async () => {
    const deadLetters = await connected('plantpulse', { clientId: 'acl-dead-letters' });
    const dl = inbox(deadLetters);
    await deadLetters.subscribeAsync('pp/dead-letter/#', { qos: 1 });
    const gw = await connected('site-01', { clientId: 'acl-gw-platform' });
    const ts = Date.now();
    expect(await pubackCode(gw, 'pp/v1/site-01/line-1/dev-1/metrics', JSON.stringify({ seq: 1, samples: [{ ts, m: { power_kw: 1 } }, { ts: ts + 1000, m: { power_kw: 2 } }] }))).toBe(0);
    expect(await pubackCode(gw, 'pp/v1/site-01/line-1/dev-1/metrics', '{not json')).toBe(0);
    expect(await pubackCode(gw, 'pp/v1/site-02/line-1/dev-1/metrics', JSON.stringify({ seq: 1, samples: [{ ts, m: { power_kw: 666 } }] }))).toBe(NOT_AUTHORIZED);
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })) >= 2, 10_000, 'samples stored');
    await waitFor(() => dl.some((m) => m.topic === 'pp/dead-letter/v1/pp/v1/site-01/line-1/dev-1/metrics'), 10_000, 'the dead letter of the malformed message');
    await new Promise((r) => setTimeout(r, 300));
    // The forged site-02 sample (power_kw 666) was refused by the broker: it was never stored.
    expect(await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })).toBe(2);
  });

  it("reads the broker's queue statistics with the platform account: the store's size on /metrics", async () => {
    // The broker's retained $SYS messages are in its store, so a watcher that reads it sees more than 0.
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_broker_stored_messages')) > 0, 10_000, 'pp_broker_stored_messages');
    expect(await scrapeMetric(platform.httpUrl, 'pp_broker_stored_bytes')).toBeGreaterThan(0);
    expect(await scrapeMetric(platform.httpUrl, 'pp_broker_dropped_messages')).toBe(0);
  });
});

describe('the platform over the TLS listener', () => {
  it('connects with mqtts:// and the CA in NODE_EXTRA_CA_CERTS (docs/security.md), and ingests', async () => {
    const p = await spawnPlatform({
      PP_MQTT_URL: `mqtts://127.0.0.1:${tlsPort}`,
      PP_MQTT_USERNAME: 'plantpulse',
      PP_MQTT_PASSWORD: PASSWORDS.plantpulse,
      PP_MQTT_CLIENT_ID: 'acl-plantpulse-tls',
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'),
    });
    try {
      const ready = (await (await fetch(`${p.url}/readyz`)).json()) as { checks: { broker: { ready: boolean; url: string } } };
      expect(ready.checks.broker).toMatchObject({ ready: true, url: `mqtts://127.0.0.1:${tlsPort}` });
      const ca = await readFile(join(dir, 'ca.crt'));
      const gw = await connected('site-01', { protocol: 'mqtts', ca, servername: 'localhost', clientId: 'acl-gw-tls-platform' });
      const ts = Date.now();
      expect(await pubackCode(gw, 'pp/v1/site-01/line-9/dev-1/metrics', JSON.stringify({ seq: 1, samples: [{ ts, m: { power_kw: 5 } }] }))).toBe(0);
      await waitFor(async () => (await scrapeMetric(p.url, 'pp_samples_stored_total', { source: 'mqtt' })) >= 1, 15_000, 'the sample, over TLS end to end');
    } finally {
      await p.kill('SIGTERM');
    }
  }, 90_000);
});
