import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

/** NATS itself SIGKILLed and restarted: what it acknowledged to gateways is stored, none lost. */
const DB = 'nats_restart';
const SITE = 'site-load';
let influx: InfluxdProcess;
let nats: NatsProcess;
let platform: Platform | null = null;

const workerEnv = (id: string) => natsWorkerEnv(nats, { PP_NATS_WORKER_ID: id, PP_NATS_LEASE_TTL_MS: '2000', PP_NATS_LEASE_RENEW_MS: '400', PP_NATS_ACK_WAIT_S: '3', PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB });
const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
const load = (durationMs: number) => steadyLoad({ brokerUrl: nats.mqttUrl, devices: 30, messagesPerSecond: 150, samplesPerMessage: 5, durationMs, site: SITE, gateway: gatewayLogin(SITE) });

beforeAll(async () => {
  [influx, nats] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE] })]);
}, 60_000);
afterAll(async () => {
  await platform?.stop();
  await Promise.all([nats?.stop(), influx?.stop()]);
});

describe('NATS SIGKILLed and restarted', () => {
  let first = 0;
  it('keeps what it acknowledged before any worker read it', async () => {
    // Set up the stream first (a worker's start-up does it), then stop, so the messages wait in it.
    platform = await startTestPlatform(workerEnv('restart-1'));
    await platform.stop();
    platform = null;
    const sent = await load(2000).done;
    await nats.kill('SIGKILL');
    await nats.restart();
    platform = await startTestPlatform(workerEnv('restart-2'));
    await waitFor(async () => (await stored()) === sent.samples, 20_000, `all ${sent.samples} samples stored`, 250);
    first = sent.samples;
    expect(first).toBeGreaterThan(1000);
  });

  it('a worker consuming under load reconnects, and sent = stored', async () => {
    const running = load(8000);
    await waitFor(async () => (await stored()) > first + 500, 10_000, 'load flowing');
    await nats.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await nats.restart();
    const sent = await running.done;
    await waitFor(async () => (await stored()) - first === sent.samples, 30_000, `all ${sent.samples} samples stored`, 250).catch(async (e) => {
      console.log('nats restart', { sent, stored: (await stored()) - first }, nats.log().slice(-1500));
      throw e;
    });
    console.log(`NATS SIGKILLed under load: sent ${sent.samples}, stored ${(await stored()) - first}`);
  });
});
