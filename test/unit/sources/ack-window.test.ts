import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { writeToStream } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, createLogger } from '../../../src/observability/index.js';
import { AckWindow, PublishCounter, type AckWindowOptions } from '../../../src/sources/index.js';
import { connectWithAckWindow } from '../../../src/sources/mqtt/ack-window.js';
import type { AckEntry } from '../../../src/sources/mqtt/ordered-acks.js';
import { PacketBroker } from '../../support/packet-broker.js';

const WINDOW = 50;
let broker: PacketBroker | null = null;
let consumer: Consumer | null = null;

interface Consumer {
  client: MqttClient;
  window: AckWindow;
  delivered: { id: number; entry: AckEntry }[];
  /** Largest number of messages held at once, seen as each one was delivered. */
  maxHeld: number;
}

async function consume(broker: PacketBroker, hooks: Pick<AckWindowOptions, 'hold' | 'onFilling' | 'windowBytes'> = {}): Promise<Consumer> {
  const client = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'ack-window-test', manualConnect: true, reconnectPeriod: 0, properties: { receiveMaximum: WINDOW } });
  const window = new AckWindow(client, { window: WINDOW, ...hooks });
  const c: Consumer = { client, window, delivered: [], maxHeld: 0 };
  client.on('message', (_topic, _payload, packet: IPublishPacket) => {
    c.delivered.push({ id: packet.messageId!, entry: window.track(packet) });
    c.maxHeld = Math.max(c.maxHeld, window.size);
  });
  client.connect();
  await broker.clientConnected;
  await client.subscribeAsync('t/#', { qos: 1 });
  return c;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A consumer stalled at the window, with `behind` more messages queued before the PUBACK of anything it publishes. */
async function stalledWithAckBehind(behind: number): Promise<Consumer> {
  broker = await PacketBroker.start();
  const c = await consume(broker);
  broker.publish(WINDOW, 't/x', 'blast');
  await until(() => c.window.stalled, 'the window to fill');
  broker.ackOwnAfter = behind;
  broker.publish(behind, 't/x', 'blast');
  return c;
}

/** Release every message as it is delivered, from the `from`th on, until the broker has a PUBACK for each of `ids`. */
async function releaseAsTheyCome(c: Consumer, b: PacketBroker, from: number, ids: readonly number[]): Promise<void> {
  let released = from;
  while (b.pubacks.length < ids.length) {
    while (released < c.delivered.length) c.window.release(c.delivered[released++]!.entry);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Let the event loop run for a while (nothing more should happen). */
const settle = () => new Promise((r) => setTimeout(r, 150));

afterEach(async () => {
  await consumer?.client.endAsync(true);
  await broker?.close();
  consumer = null;
  broker = null;
});

describe('AckWindow (packet level, mqtt client against a scripted broker on TCP)', () => {
  it('holds at most the window from a broker that ignores receive-maximum; PUBACKs only once durable, in receive order', async () => {
    broker = await PacketBroker.start();
    let fillings = 0;
    consumer = await consume(broker, { onFilling: () => fillings++ });
    const ids = broker.publish(5 * WINDOW, 't/x', 'blast');

    await until(() => consumer!.delivered.length === WINDOW, 'the first window');
    await settle();
    expect(consumer.delivered.length).toBe(WINDOW); // reading stopped at the window
    expect(consumer.window.stalled).toBe(true);
    expect(fillings).toBe(2); // at half the window and at the stall: storage writes what it has without waiting
    expect(broker.pubacks).toEqual([]); // nothing durable yet: no PUBACK at all
    expect(consumer.window.overrunCount).toBe(4 * WINDOW); // counted as the bytes arrived

    // Durable out of order: the later ones wait for the first.
    for (const d of consumer.delivered.slice(1, 10).reverse()) consumer.window.release(d.entry);
    await settle();
    expect(broker.pubacks).toEqual([]);
    consumer.window.release(consumer.delivered[0]!.entry);
    await until(() => broker!.pubacks.length === 10, 'ten PUBACKs');
    expect(broker.pubacks).toEqual(ids.slice(0, 10));
    // 40 held, above the low-water mark (37): still not reading.
    await settle();
    expect(consumer.delivered.length).toBe(WINDOW);

    // Release everything as it comes: all arrive, in order, never more than the window held.
    await releaseAsTheyCome(consumer, broker, 10, ids);
    expect(consumer.delivered.map((d) => d.id)).toEqual(ids);
    expect(broker.pubacks).toEqual(ids);
    expect(consumer.maxHeld).toBe(WINDOW);
  });

  it('keeps a connection whose PINGRESP waits behind a long overrun: its PUBACKs stand for the pings', async () => {
    broker = await PacketBroker.start();
    // Keepalive 1 s: MQTT.js pings after 1 s without a reschedule and drops the connection 0.5 s
    // later. Storage releases what arrived every 100 ms, so getting through the blast takes ~4 s
    // with reading stopped at the window most of the time, and a PINGRESP would sit behind it.
    const client = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'ack-window-keepalive', manualConnect: true, reconnectPeriod: 0, keepalive: 1, properties: { receiveMaximum: WINDOW } });
    const window = new AckWindow(client, { window: WINDOW });
    consumer = { client, window, delivered: [], maxHeld: 0 };
    const c = consumer;
    let closed = 0;
    client.on('close', () => closed++);
    client.on('message', (_topic, _payload, packet: IPublishPacket) => c.delivered.push({ id: packet.messageId!, entry: window.track(packet) }));
    client.connect();
    await broker.clientConnected;
    await client.subscribeAsync('t/#', { qos: 1 });
    const ids = broker.publish(40 * WINDOW, 't/x', 'blast');
    let released = 0;
    const started = Date.now();
    while (broker.pubacks.length < ids.length && Date.now() - started < 20_000) {
      while (released < c.delivered.length) window.release(c.delivered[released++]!.entry);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Date.now() - started).toBeGreaterThan(2500); // slower than the 1.5 s a ping may go unanswered
    expect(closed).toBe(0);
    expect(client.connected).toBe(true);
    expect(c.delivered.map((d) => d.id)).toEqual(ids); // each once: nothing resent on a reconnect
    expect(broker.pubacks).toEqual(ids);
    expect(broker.received.filter((p) => p.cmd === 'pingreq')).toHaveLength(0);
  });

  it('counts no overrun when the broker honours receive-maximum, and keeps the stream going', async () => {
    broker = await PacketBroker.start();
    consumer = await consume(broker);
    const ids = broker.publish(3 * WINDOW, 't/x', 'honour');
    let released = 0;
    while (broker.pubacks.length < ids.length) {
      while (released < consumer.delivered.length) consumer.window.release(consumer.delivered[released++]!.entry);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(broker.pubacks).toEqual(ids);
    expect(consumer.window.overrunCount).toBe(0);
    expect(consumer.maxHeld).toBeLessThanOrEqual(WINDOW);
  });

  it('reads on at the window while its own QoS 1 publication waits for the broker (a dead letter cannot deadlock it)', async () => {
    consumer = await stalledWithAckBehind(20);
    const acked = consumer.window.publishAwaited('dead/letter', 'x', { qos: 1 }); // resolves only on its PUBACK
    await Promise.race([acked, new Promise((_, reject) => setTimeout(() => reject(new Error('own publication never acknowledged: the window deadlocked')), 5000))]);
    expect(consumer.delivered.length).toBe(WINDOW + 20);
    expect(consumer.maxHeld).toBeLessThanOrEqual(2 * WINDOW);
    expect(broker!.pubacks).toEqual([]);
  });

  it('does not read past the window for a publication no held message waits for (an alert)', async () => {
    consumer = await stalledWithAckBehind(20);
    let acked = false;
    void consumer.client.publishAsync('alerts/x', 'x', { qos: 1 }).then(() => (acked = true));
    await settle();
    expect(consumer.delivered.length).toBe(WINDOW);
    expect(acked).toBe(false);
    for (const d of consumer.delivered.slice(0, WINDOW / 2)) consumer.window.release(d.entry);
    await until(() => acked, 'the alert acknowledged once reading resumed');
    expect(consumer.maxHeld).toBe(WINDOW);
  });

  it('stops reading while storage says hold, below the window too, and goes on when it stops saying so', async () => {
    broker = await PacketBroker.start();
    let full = true;
    consumer = await consume(broker, { hold: () => full });
    const ids = broker.publish(WINDOW, 't/x', 'blast');
    await until(() => consumer!.delivered.length === 1, 'the first message');
    await settle();
    expect(consumer.delivered.length).toBe(1);
    consumer.window.release(consumer.delivered[0]!.entry);
    await settle();
    expect(consumer.delivered.length).toBe(1); // nothing held, but storage is full
    full = false;
    await until(() => consumer!.delivered.length === WINDOW, 'the rest once storage has room');
    expect(consumer.delivered.map((d) => d.id)).toEqual(ids);
  });

  it('with a byte window, holds at most that many payload bytes (one message past it at most), far below the message window', async () => {
    broker = await PacketBroker.start();
    let fillings = 0;
    consumer = await consume(broker, { windowBytes: 1000, onFilling: () => fillings++ });
    const ids = broker.publish(40, 't/x', 'blast', 100);
    await until(() => consumer!.delivered.length === 10, 'the first 1,000 bytes');
    await settle();
    expect(consumer.delivered.length).toBe(10); // 10 of 100 bytes: the byte window, not the 50 messages
    expect(consumer.window.stalled).toBe(true);
    expect(consumer.window.bytes).toBe(1000);
    expect(fillings).toBe(2); // at half the bytes and at the stall
    // Low water is three quarters of the bytes: 800 held is not enough to read again, 700 is.
    for (const d of consumer.delivered.slice(0, 2)) consumer.window.release(d.entry);
    await settle();
    expect(consumer.delivered.length).toBe(10);
    expect(consumer.window.bytes).toBe(800);
    consumer.window.release(consumer.delivered[2]!.entry);
    await until(() => consumer!.delivered.length === 13, 'three more once below low water');
    expect(consumer.window.bytes).toBe(1000);
    await releaseAsTheyCome(consumer, broker, 3, ids);
    expect(consumer.delivered.map((d) => d.id)).toEqual(ids);
    expect(broker.pubacks).toEqual(ids);
    expect(consumer.window.peakBytes).toBe(1000);
    expect(consumer.window.bytes).toBe(0);

    // A message larger than what is left is still read (the window never deadlocks on one large
    // message); the next waits.
    const big = broker.publish(3, 't/x', 'blast', 900);
    await until(() => consumer!.delivered.length === ids.length + 2, 'two large messages');
    await settle();
    expect(consumer.delivered.length).toBe(ids.length + 2);
    expect(consumer.window.bytes).toBe(1800);
    for (const d of consumer.delivered.slice(ids.length)) consumer.window.release(d.entry);
    await until(() => consumer!.delivered.length === ids.length + 3, 'the third once the first two are released');
    consumer.window.release(consumer.delivered.at(-1)!.entry);
    await until(() => broker!.pubacks.length === ids.length + 3, 'every PUBACK');
    expect(broker.pubacks.slice(ids.length)).toEqual(big);
  });

  it('refuses a byte window that is not a positive integer', () => {
    const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true });
    expect(() => new AckWindow(client, { window: 10, windowBytes: 0 })).toThrow(/ack window bytes must be a positive integer/);
    expect(() => new AckWindow(client, { window: 10, windowBytes: 1.5 })).toThrow(/ack window bytes must be a positive integer/);
  });

  it('fails loudly when attached to something that is not the MQTT.js client it was written for', () => {
    expect(() => new AckWindow({} as MqttClient, { window: 10 })).toThrow(/mqtt internals changed: MqttClient._sendPacket/);
    const connected = mqtt.connect('mqtt://127.0.0.1:1', { reconnectPeriod: 0 });
    connected.on('error', () => undefined);
    try {
      expect(() => new AckWindow(connected, { window: 10 })).toThrow(/before the client connects/);
    } finally {
      connected.end(true);
    }
  });
});

describe('connectWithAckWindow', () => {
  it("turns mqtt-packet's cache of 65,536 message-id Buffers off, and acknowledges from its own allocations", async () => {
    broker = await PacketBroker.start();
    const { client, acks } = connectWithAckWindow(broker.url, { protocolVersion: 5, clientId: 'cache-test', reconnectPeriod: 0, properties: { receiveMaximum: WINDOW } }, WINDOW, 'mqtt', createMetrics(), createLogger('silent'));
    expect(writeToStream.cacheNumbers).toBe(false);
    const delivered: AckEntry[] = [];
    client.on('message', (_t, _p, packet: IPublishPacket) => delivered.push(acks.track(packet)));
    await broker.clientConnected;
    await client.subscribeAsync('t/#', { qos: 1 });
    broker.publish(3, 't/x', 'blast');
    await until(() => delivered.length === 3, 'three messages');
    for (const e of delivered) acks.release(e);
    await until(() => broker!.pubacks.length === 3, 'three PUBACKs');
    consumer = { client, window: acks, delivered: [], maxHeld: 0 };
  });
});

describe('PUBACKs of a burst of releases', () => {
  it('go out as one socket write, in receive order', async () => {
    broker = await PacketBroker.start();
    consumer = await consume(broker);
    broker.publish(20, 't/x', 'blast');
    await until(() => consumer!.delivered.length === 20, 'twenty messages');
    const stream = consumer.client.stream;
    const writes: Buffer[] = [];
    const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
    stream.write = ((chunk: Buffer) => {
      writes.push(Buffer.from(chunk));
      return write(chunk);
    }) as typeof stream.write;
    // As a storage write completes a batch: each message's release in its own microtask, out of order.
    const order = [...consumer.delivered.slice(10), ...consumer.delivered.slice(0, 10)];
    for (const d of order) queueMicrotask(() => consumer!.window.release(d.entry));
    await until(() => broker!.pubacks.length === 20, 'twenty PUBACKs');
    expect(broker.pubacks).toEqual(consumer.delivered.map((d) => d.id));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.length).toBe(4 * 20);
  });
});

describe('PublishCounter', () => {
  it('counts QoS 1 publishes whatever the chunking, skipping other packets and QoS 0', async () => {
    const { generate } = await import('mqtt-packet');
    const packets = [
      generate({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(300), qos: 1, dup: false, retain: false, messageId: 1 }),
      generate({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(5), qos: 0, dup: false, retain: false }),
      generate({ cmd: 'puback', messageId: 7 }),
      generate({ cmd: 'publish', topic: 'b', payload: Buffer.alloc(20_000), qos: 1, dup: false, retain: false, messageId: 2 }),
      generate({ cmd: 'pingresp' }),
      generate({ cmd: 'publish', topic: 'c', payload: Buffer.from([0x30, 0x32]), qos: 1, dup: false, retain: false, messageId: 3 }),
    ];
    const all = Buffer.concat(packets);
    for (const size of [1, 2, 3, 7, 64, 1000, all.length]) {
      const counter = new PublishCounter();
      let n = 0;
      for (let i = 0; i < all.length; i += size) n += counter.count(all.subarray(i, i + size));
      expect(n, `chunks of ${size}`).toBe(3);
    }
  });
});
