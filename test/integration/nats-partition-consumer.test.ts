import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/index.js';
import { PartitionConsumer } from '../../src/sources/nats/partition-consumer.js';
import { TELEMETRY_STREAM } from '../../src/sources/nats/index.js';
import { NATS_PLATFORM_PASSWORD, startNats, type NatsProcess } from '../support/nats.js';
import { waitFor } from '../support/ports.js';

/**
 * One partition's consumer against a real JetStream: it acks a message only once the handler
 * resolved and only while its lease is valid; a message finished after the lease lapsed is not
 * acked, and JetStream delivers it again after ack_wait (to the next owner).
 */
let nats: NatsProcess;
let nc: NatsConnection;
const log = createLogger('silent');

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url, user: 'platform', pass: NATS_PLATFORM_PASSWORD });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: TELEMETRY_STREAM, subjects: ['pp.part.>'] });
  await jsm.consumers.add(TELEMETRY_STREAM, { durable_name: 'pp-part-0', filter_subject: 'pp.part.0.>', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000, max_ack_pending: 10 });
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('a partition consumer', () => {
  it('acks after the handler, withholds the ack once the lease lapsed, and JetStream redelivers', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    let validUntil = Date.now() + 60_000;
    const pending: (() => void)[] = [];
    const seen: string[] = [];
    const events = { acked: 0, withheld: 0, ended: 0 };
    const consumer = new PartitionConsumer('0', () => validUntil, (subject, payload) => {
      seen.push(`${subject} ${payload.toString()}`);
      return new Promise<void>((resolve) => pending.push(resolve));
    }, { acked: () => events.acked++, withheld: () => events.withheld++, ended: () => events.ended++ }, log);
    await consumer.start(js, 10);

    await js.publish('pp.part.0.s.l.d.metrics', 'first');
    await waitFor(() => pending.length === 1, 5000, 'first delivered');
    expect((await jsm.consumers.info(TELEMETRY_STREAM, 'pp-part-0')).num_ack_pending).toBe(1); // not acked while not durable
    pending.shift()!();
    await waitFor(async () => (await jsm.consumers.info(TELEMETRY_STREAM, 'pp-part-0')).num_ack_pending === 0, 5000, 'first acked');
    expect(events.acked).toBe(1);

    await js.publish('pp.part.0.s.l.d.metrics', 'second');
    await waitFor(() => pending.length === 1, 5000, 'second delivered');
    validUntil = Date.now() - 1; // the lease lapsed while the write was under way
    pending.shift()!();
    await waitFor(() => events.withheld === 1, 5000, 'ack withheld');
    expect(events.acked).toBe(1);
    // Not acked: delivered again after ack_wait (2 s), here to the same consumer.
    validUntil = Date.now() + 60_000;
    await waitFor(() => pending.length === 1, 5000, 'second redelivered');
    expect(seen).toEqual(['pp.part.0.s.l.d.metrics first', 'pp.part.0.s.l.d.metrics second', 'pp.part.0.s.l.d.metrics second']);
    pending.shift()!();
    await waitFor(() => events.acked === 2, 5000, 'redelivery acked');
    consumer.halt();
    expect(events.ended).toBe(0); // halted on purpose: not reported as a failure
  });
});
