import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_STREAM, ensureJetStream, LEASE_BUCKET, TELEMETRY_STREAM, type JetStreamLayout } from '../../src/sources/nats/index.js';
import { connectAsPlatform, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { startTestPlatform } from '../support/platform.js';

/** The set-up every worker runs at start, against a real JetStream: idempotent, concurrent, and strict about the partition count. */
let nats: NatsProcess;
let nc: NatsConnection;
const layout: JetStreamLayout = { partitions: 4, window: 500, ackWaitMs: 30_000, deadLetterPrefix: 'pp.dead-letter.v1', replicas: 1 };

beforeAll(async () => {
  nats = await startNats({ partitions: 4 });
  nc = await connectAsPlatform(nats);
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

async function consumers(): Promise<Map<string, { filter?: string; window: number; ackWaitMs: number }>> {
  const m = new Map<string, { filter?: string; window: number; ackWaitMs: number }>();
  for await (const c of (await nc.jetstreamManager()).consumers.list(TELEMETRY_STREAM)) m.set(c.name, { filter: c.config.filter_subject, window: c.config.max_ack_pending ?? -1, ackWaitMs: (c.config.ack_wait ?? 0) / 1e6 });
  return m;
}

describe('JetStream set-up', () => {
  it('three workers setting up at once end with one stream, one dead-letter stream and one consumer per partition', async () => {
    const jsm = await nc.jetstreamManager();
    await Promise.all([ensureJetStream(jsm, layout), ensureJetStream(jsm, layout), ensureJetStream(jsm, layout)]);
    const info = await jsm.streams.info(TELEMETRY_STREAM);
    expect(info.config.subjects.sort()).toEqual(['pp.part.>', 'pp.v1.>']);
    expect(info.config.retention).toBe('workqueue');
    expect((await jsm.streams.info(DEAD_LETTER_STREAM)).config.subjects).toEqual(['pp.dead-letter.v1.>']);
    expect(await consumers()).toEqual(
      new Map([
        ['pp-part-0', { filter: 'pp.part.0.>', window: 500, ackWaitMs: 30_000 }],
        ['pp-part-1', { filter: 'pp.part.1.>', window: 500, ackWaitMs: 30_000 }],
        ['pp-part-2', { filter: 'pp.part.2.>', window: 500, ackWaitMs: 30_000 }],
        ['pp-part-3', { filter: 'pp.part.3.>', window: 500, ackWaitMs: 30_000 }],
        ['pp-unmapped', { filter: 'pp.v1.>', window: 500, ackWaitMs: 30_000 }],
      ]),
    );
  });

  it('running it again with a new window and ack wait updates the consumers in place', async () => {
    await ensureJetStream(await nc.jetstreamManager(), { ...layout, window: 2000, ackWaitMs: 10_000 });
    const all = await consumers();
    expect(all.size).toBe(5);
    for (const c of all.values()) expect([c.window, c.ackWaitMs]).toEqual([2000, 10_000]);
  });

  it('refuses a partition count that does not fit the consumers already there', async () => {
    await expect(ensureJetStream(await nc.jetstreamManager(), { ...layout, partitions: 3 })).rejects.toThrow(/consumer pp-part-3 \(filter pp\.part\.3\.>\) that does not fit PP_NATS_PARTITIONS=3/);
  });

  it('times leases by the TTL the bucket was made with, and refuses to start when the renew interval does not fit it', async () => {
    const env = (ttl: string, renew: string) => natsWorkerEnv(nats, { PP_NATS_PARTITIONS: '4', PP_NATS_WINDOW: '500', PP_NATS_LEASE_TTL_MS: ttl, PP_NATS_LEASE_RENEW_MS: renew, PP_NATS_WORKER_ID: 'ttl-check', PP_LOG_LEVEL: 'error' });
    const first = await startTestPlatform(env('2000', '400'));
    await first.stop();
    const kv = await nc.jetstream().views.kv(LEASE_BUCKET);
    expect((await kv.status()).ttl).toBe(2000);
    await expect(startTestPlatform(env('6000', '1500'))).rejects.toThrow(/lease bucket pp_leases has a TTL of 2000 ms \(set when it was made\), too short for PP_NATS_LEASE_RENEW_MS=1500/);
    const longer = await startTestPlatform(env('6000', '700')); // fits 2000 ms: runs on the bucket's TTL
    await longer.stop();
  });
});
