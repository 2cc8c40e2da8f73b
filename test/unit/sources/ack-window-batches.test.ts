import type { IPublishPacket, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import type { Pipeline } from '../../../src/pipeline/index.js';
import { connectWithAckWindow, type AckWindow } from '../../../src/sources/mqtt/ack-window.js';
import { BatchWriter, type Point, type Sink } from '../../../src/storage/index.js';
import { PacketBroker } from '../../support/packet-broker.js';

/** Payload sizes of the benchmarks' messages (load-tests/bench/recorded-telemetry.ts): 1 and 10 samples. */
const ONE_SAMPLE_BYTES = 223;
const TEN_SAMPLE_BYTES = 2019;

/** A sink whose writes wait until `open`: storage slower than intake, so the window fills. */
class GatedSink implements Sink {
  readonly name = 'gated';
  /** Lines of each write, in the order they started. */
  readonly batches: number[] = [];
  private waiting: (() => void)[] = [];
  private isOpen = false;
  connect = () => Promise.resolve();
  ping = () => Promise.resolve();
  close = () => Promise.resolve();
  write(lineProtocol: string): Promise<void> {
    this.batches.push(lineProtocol.split('\n').filter((l) => l.length > 0).length);
    return this.isOpen ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
  open(): void {
    this.isOpen = true;
    for (const w of this.waiting.splice(0)) w();
  }
}

let broker: PacketBroker | null = null;
let client: MqttClient | null = null;

afterEach(async () => {
  await client?.endAsync(true);
  await broker?.close();
  client = null;
  broker = null;
});

async function until(cond: () => boolean, what: string, ms = 20_000, poll?: () => void): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    poll?.();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The default window and write batch (loadConfig({})), wired as the platform wires them
 * (connectWithAckWindow: hold while storage is full, write at half the window and at the stall):
 * `samples` points handed to a real BatchWriter per message, each message released once its
 * write is durable. The flush interval and the idle writer's linger are set out of reach, so that
 * only the window and the batch size start writes (on a loaded machine the interval would
 * otherwise cut batches short, and an idle writer writes the first socket read's messages at once).
 */
async function defaultWindowAgainstSlowStorage(samples: number, payloadBytes: number, messages: number) {
  const config = loadConfig({});
  const sink = new GatedSink();
  const writer = new BatchWriter(sink, { maxBatchLines: config.writer.maxBatchLines, flushIntervalMs: 60_000, lingerMs: 60_000, maxConcurrentWrites: 2 });
  const pipeline = { get full() { return writer.full; }, flushNow: () => writer.flushNow() } as unknown as Pipeline;
  broker = await PacketBroker.start();
  const { receiveMaximum, windowBytes } = config.mqtt;
  const c = connectWithAckWindow(broker.url, { protocolVersion: 5, clientId: 'window-batches', reconnectPeriod: 0, properties: { receiveMaximum } }, receiveMaximum, 'mqtt', createMetrics(), createLogger('silent'), pipeline, windowBytes || undefined);
  client = c.client;
  const acks: AckWindow = c.acks;
  let delivered = 0;
  client.on('message', (_topic, _payload, packet: IPublishPacket) => {
    const entry = acks.track(packet);
    const points: Point[] = [];
    for (let k = 0; k < samples; k++) points.push({ measurement: 'telemetry', tags: { device: 'd1' }, fields: { v: k }, ts: delivered * samples + k + 1 });
    delivered++;
    void writer.write(points).then(() => acks.release(entry));
  });
  await broker.clientConnected;
  await client.subscribeAsync('t/#', { qos: 1 });
  const ids = broker.publish(messages, 't/x', 'blast', payloadBytes);
  await until(() => acks.stalled, 'the window to fill');
  /** Storage catches up: every message is written and acknowledged (the last, partial batch flushed as the interval would). */
  const drain = async () => {
    sink.open();
    await until(() => broker!.pubacks.length === ids.length, 'every message acknowledged', 20_000, () => writer.flushNow());
  };
  return { config, sink, writer, acks, ids, drain };
}

describe('the default MQTT window against storage write batches', () => {
  it('lets 1-sample messages fill whole write batches before reading stops', async () => {
    const run = await defaultWindowAgainstSlowStorage(1, ONE_SAMPLE_BYTES, 12_000);
    const { receiveMaximum } = run.config.mqtt;
    const batch = run.config.writer.maxBatchLines;
    expect(receiveMaximum).toBeGreaterThanOrEqual(2 * batch); // two batches in flight, one per half window
    expect(run.acks.size).toBe(receiveMaximum); // the message window stopped reading, not the bytes
    expect(run.acks.bytes).toBe(receiveMaximum * ONE_SAMPLE_BYTES);
    // Both writes in flight are whole batches: the write at half the window includes the message that got there.
    expect(run.sink.batches).toEqual([batch, batch]);

    await run.drain();
    expect(broker!.pubacks).toEqual(run.ids);
    expect(run.sink.batches.reduce((a, b) => a + b, 0)).toBe(run.ids.length);
    expect(run.acks.peak).toBe(receiveMaximum);
  });

  it('holds 10-sample messages near 2,000, as the former 2,000-message window did', async () => {
    const run = await defaultWindowAgainstSlowStorage(10, TEN_SAMPLE_BYTES, 3_000);
    const { windowBytes, receiveMaximum } = run.config.mqtt;
    // Four write batches of lines pending stop reading first (20,000 lines: 2,000 messages); the
    // byte window would stop it one message past 4 MiB (2,078).
    expect(run.acks.size).toBeGreaterThanOrEqual(2000);
    expect(run.acks.size).toBeLessThanOrEqual(Math.ceil(windowBytes / TEN_SAMPLE_BYTES));
    expect(run.acks.size).toBeLessThan(receiveMaximum / 4);
    expect(run.sink.batches).toEqual([run.config.writer.maxBatchLines, run.config.writer.maxBatchLines]);

    await run.drain();
    expect(broker!.pubacks).toEqual(run.ids);
    expect(run.sink.batches.reduce((a, b) => a + b, 0)).toBe(10 * run.ids.length);
  });

  it('stops large messages at the byte window, far below the message window', async () => {
    // 1-sample messages of 1,000 bytes (a wide sample): few lines, so only the bytes stop them.
    const run = await defaultWindowAgainstSlowStorage(1, 1000, 6_000);
    const { windowBytes, receiveMaximum } = run.config.mqtt;
    const held = Math.ceil(windowBytes / 1000); // below the limit the next message is read: one past it at most
    expect(run.acks.size).toBe(held);
    expect(run.acks.bytes).toBe(held * 1000);
    expect(held).toBeLessThan(receiveMaximum / 2);

    await run.drain();
    expect(broker!.pubacks).toEqual(run.ids);
    expect(run.acks.peakBytes).toBe(held * 1000);
  });
});
