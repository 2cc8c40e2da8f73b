import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryInfluxQL } from '../../src/storage/index.js';
import { TELEMETRY_STREAM } from '../../src/sources/nats/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { connectAsPlatform, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * Leases under a burst (docs/scale-out.md): a worker starts on a stream holding a backlog, so
 * JetStream delivers it window × partitions messages at once, while its leases (TTL 3 s, renewed
 * every 600 ms) must be renewed on time throughout. Lease renewals have a connection of their
 * own: no partition is lost while the backlog is worked off, and everything is stored once.
 */
const DB = 'nats_lease_burst';
const SITE = 'site-burst';
const DEVICES = 48;
const MESSAGES_PER_DEVICE = 250;
const SAMPLES_PER_MESSAGE = 5;

let influx: InfluxdProcess;
let nats: NatsProcess;
let nc: NatsConnection;
let dir: string;
let worker: PlatformProcess | null = null;

const env = () => natsWorkerEnv(nats, { PP_NATS_WORKER_ID: 'burst-1', PP_NATS_LEASE_TTL_MS: '3000', PP_NATS_LEASE_RENEW_MS: '600', PP_NATS_ACK_WAIT_S: '30', PP_NATS_WINDOW: '1000', PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_DATA_DIR: dir, PP_LOG_LEVEL: 'info' });
const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-lease-burst-'));
  [influx, nats] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE] })]);
  // A first start makes the streams and consumers; then the backlog is published while no worker runs.
  worker = await spawnPlatform(env());
  await worker.kill('SIGTERM');
  worker = null;
  nc = await connectAsPlatform(nats);
}, 120_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await nc?.close();
  await Promise.all([nats?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('partition leases while a worker works off a burst', () => {
  it('no lease lapses while window × partitions messages are delivered at once; every sample stored once', async () => {
    const js = nc.jetstream();
    const base = Date.now() - 3_600_000;
    let samples = 0;
    for (let round = 0; round < MESSAGES_PER_DEVICE; round++) {
      await Promise.all(
        Array.from({ length: DEVICES }, (_, d) => {
          const body = { seq: round + 1, samples: Array.from({ length: SAMPLES_PER_MESSAGE }, (_, k) => ({ ts: base + (round * SAMPLES_PER_MESSAGE + k) * 1000, m: { power_kw: d + k / 10, temperature_c: 40 + (k % 3) } })) };
          samples += SAMPLES_PER_MESSAGE;
          // As a gateway's MQTT publish arrives: the server's mapping puts it in its partition.
          return js.publish(`pp.v1.${SITE}.line-${d % 4}.dev-${d}.metrics`, JSON.stringify(body));
        }),
      );
    }
    const backlog = (await (await nc.jetstreamManager()).streams.info(TELEMETRY_STREAM)).state.messages;
    expect(backlog).toBe(DEVICES * MESSAGES_PER_DEVICE);

    worker = await spawnPlatform(env());
    const started = Date.now();
    await waitFor(async () => (await stored()) === samples, 150_000, `all ${samples} samples stored`, 500);
    const seconds = (Date.now() - started) / 1000;
    const lost = await scrapeMetric(worker.url, 'pp_nats_ownership_changes_total', { change: 'released' });
    const acquired = await scrapeMetric(worker.url, 'pp_nats_ownership_changes_total', { change: 'acquired' });
    const lapses = (worker.output().match(/lease not renewed in time/g) ?? []).length;
    console.log(`backlog of ${backlog} messages (${samples} samples) worked off in ${seconds.toFixed(1)} s; ownership changes: ${acquired} acquired, ${lost} released; ${lapses} leases lapsed`);
    expect(lapses).toBe(0);
    expect(lost).toBe(0);
    expect(acquired).toBe(13); // each unit once, at start
    expect(await stored()).toBe(samples);
  }, 200_000);
});
