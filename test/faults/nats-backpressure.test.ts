import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { TELEMETRY_STREAM } from '../../src/sources/nats/index.js';
import type { InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, startNatsStack, type NatsProcess, type NatsStack } from '../support/nats.js';
import { scrapeMetric } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

/**
 * InfluxDB down, no spool: the writer's queue fills to PP_WRITE_MAX_PENDING_LINES and the JetStream
 * source stops taking messages into the pipeline, so they wait in NATS, not in the worker's memory;
 * once InfluxDB is back every acknowledged sample is stored.
 */
const DB = 'nats_backpressure';
const SITE = 'site-load';
const MAX_PENDING = 1000;
let stack: NatsStack;
let influx: InfluxdProcess;
let nats: NatsProcess;
let platform: Platform;
let nc: NatsConnection;

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

beforeAll(async () => {
  stack = await startNatsStack({ database: DB, nats: { gatewaySites: [SITE] }, env: { PP_NATS_WORKER_ID: 'bp-1', PP_SPOOL_ENABLED: 'false', PP_WRITE_MAX_PENDING_LINES: String(MAX_PENDING), PP_LOG_LEVEL: 'error' } });
  ({ influx, nats, platform, nc } = stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe('JetStream source while storage cannot keep up', () => {
  it('holds the writer queue near its limit, leaves the rest in NATS, and stores everything after', async () => {
    await influx.kill('SIGKILL');
    const load = steadyLoad({ brokerUrl: nats.mqttUrl, devices: 30, messagesPerSecond: 200, samplesPerMessage: 5, durationMs: 4000, site: SITE, gateway: gatewayLogin(SITE) });
    let peakQueue = 0;
    const poll = setInterval(() => void scrapeMetric(platform.httpUrl, 'pp_write_queue_lines').then((v) => (peakQueue = Math.max(peakQueue, v))), 100);
    const sent = await load.done;
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(poll);
    const jsm = await nc.jetstreamManager();
    const waiting = (await jsm.streams.info(TELEMETRY_STREAM)).state.messages;
    console.log(`InfluxDB down: ${sent.samples} samples acknowledged by NATS, writer queue peaked at ${peakQueue} lines (limit ${MAX_PENDING}), ${waiting} messages waiting in the stream`);
    expect(sent.samples).toBeGreaterThan(3000);
    expect(peakQueue).toBeGreaterThanOrEqual(MAX_PENDING); // the limit was reached...
    expect(peakQueue).toBeLessThan(MAX_PENDING * 1.2); // ...and held (one message's lines over at most)
    expect(waiting).toBeGreaterThan(sent.messages / 2);
    await influx.restart();
    await waitFor(async () => (await stored()) === sent.samples, 60_000, `all ${sent.samples} samples stored`, 250);
  });
});
