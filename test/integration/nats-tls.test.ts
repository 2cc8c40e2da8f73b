import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { deviceTopic } from '../../src/contract/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { makeTestCertificates, type TestCertificates } from '../support/certificates.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, NATS_PLATFORM_PASSWORD, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * The shipped deploy/nats/nats.conf with its TLS blocks on (a certificate from a private CA, made
 * with openssl): a worker connects over tls:// trusting that CA (PP_NATS_TLS_CA_FILE) and a
 * gateway publishes over mqtts://; what it publishes is stored. A plain connection, and a
 * client trusting another CA, are refused.
 */
const DB = 'nats_tls';
let certs: TestCertificates;
let influx: InfluxdProcess;
let nats: NatsProcess;
let platform: Platform;

beforeAll(async () => {
  certs = makeTestCertificates(mkdtempSync(join(tmpdir(), 'pp-nats-tls-')));
  [influx, nats] = await Promise.all([startInfluxd({ database: DB }), startNats({ tls: { cert: certs.cert, key: certs.key } })]);
  platform = await startTestPlatform(natsWorkerEnv(nats, { PP_NATS_TLS_CA_FILE: certs.ca, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB }));
}, 60_000);
afterAll(async () => {
  await platform?.stop();
  await Promise.all([nats?.stop(), influx?.stop()]);
});

/** How an MQTT connection as site-01's gateway ends: 'connected', 'closed' (by the server), or the error. */
function mqttOutcome(url: string, extra: mqtt.IClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { ...gatewayLogin('site-01'), clientId: `gw-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
    const done = (outcome: string) => {
      c.end(true);
      resolve(outcome);
    };
    c.once('connect', () => done('connected'));
    c.once('error', (err) => done(err.message));
    c.once('close', () => done('closed'));
  });
}

describe('NATS over TLS (shipped configuration)', () => {
  it('a worker on tls:// stores what a gateway publishes over mqtts://', async () => {
    expect(nats.url).toMatch(/^tls:\/\//);
    const gw = await mqtt.connectAsync(nats.mqttUrl, { ...gatewayLogin('site-01'), clientId: 'gw-tls', ca: await readFile(certs.ca) });
    const samples = Array.from({ length: 10 }, (_, i) => ({ ts: Date.now() - 10_000 + i * 1000, m: { power_kw: i } }));
    await gw.publishAsync(deviceTopic({ site: 'site-01', line: 'line-1', device: 'tls-1' }, 'metrics'), JSON.stringify({ seq: 1, samples }), { qos: 1 });
    await gw.endAsync();
    const stored = async () => Number((await queryInfluxQL(influx.url, DB, "SELECT count(power_kw) FROM telemetry WHERE device = 'tls-1'"))[0]?.count ?? 0);
    await waitFor(async () => (await stored()) === 10, 15_000, '10 samples stored');
  });

  it('refuses a plain connection and a client that does not trust the server\'s CA', { timeout: 30_000 }, async () => {
    const plain = nats.url.replace('tls://', 'nats://');
    // The server requires TLS: a client that will not do TLS cannot connect.
    await expect(connect({ servers: plain, user: 'platform', pass: NATS_PLATFORM_PASSWORD, reconnect: false, tls: null })).rejects.toThrow();
    await expect(connect({ servers: nats.url, user: 'platform', pass: NATS_PLATFORM_PASSWORD, reconnect: false, tls: { caFile: certs.otherCa } })).rejects.toThrow(/certificate/i);
    const trusted = await connect({ servers: nats.url, user: 'platform', pass: NATS_PLATFORM_PASSWORD, reconnect: false, tls: { caFile: certs.ca } });
    expect(trusted.info?.tls_required).toBe(true);
    await trusted.close();
    expect(await mqttOutcome(nats.mqttUrl.replace('mqtts://', 'mqtt://'), {})).toBe('closed');
    expect(await mqttOutcome(nats.mqttUrl, { ca: await readFile(certs.otherCa) })).toMatch(/certificate/i);
    expect(await mqttOutcome(nats.mqttUrl, { ca: await readFile(certs.ca) })).toBe('connected');
  });
});
