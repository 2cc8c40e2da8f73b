import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AckWindow } from '../../../src/sources/index.js';
import { handlePublishesDirectly } from '../../../src/sources/mqtt/publish-handler.js';
import { PacketBroker } from '../../support/packet-broker.js';

let broker: PacketBroker | null = null;
let client: MqttClient | null = null;

afterEach(async () => {
  await client?.endAsync(true);
  await broker?.close();
  client = null;
  broker = null;
});

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A consumer with an AckWindow, counting what MQTT.js's own PUBLISH chain does (its
 * `customHandleAcks` call, which only that chain makes) and acknowledging each message at once.
 */
async function consumer(opts: { packetreceive?: boolean } = {}) {
  broker = await PacketBroker.start();
  client = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'publish-handler-test', manualConnect: true, reconnectPeriod: 0 });
  const window = new AckWindow(client, { window: 10 });
  let chain = 0;
  const options = client.options as unknown as { customHandleAcks: (t: string, m: Buffer, p: unknown, cb: (e: null, code: number) => void) => void };
  options.customHandleAcks = (_t, _m, _p, cb) => {
    chain++;
    cb(null, 0);
  };
  const got: { topic: string; payload: string; id: number }[] = [];
  client.on('message', (topic, payload, packet: IPublishPacket) => {
    got.push({ topic, payload: payload.toString(), id: packet.messageId! });
    window.release(window.track(packet));
  });
  if (opts.packetreceive) client.on('packetreceive', () => undefined);
  client.connect();
  await broker.clientConnected;
  await client.subscribeAsync('t/#', { qos: 1 });
  return { got, window, chain: () => chain };
}

describe('PUBLISH handling without MQTT.js chain (packet level, against a scripted broker on TCP)', () => {
  it("delivers every message through 'message' and the window, without MQTT.js's chain; PUBACKs in order", async () => {
    const c = await consumer();
    const ids = broker!.publish(25, 't/x', 'blast');
    await until(() => broker!.pubacks.length === ids.length, 'every PUBACK');
    expect(c.got.map((m) => m.id)).toEqual(ids);
    expect(c.got[3]).toEqual({ topic: 't/x', payload: `m${ids[3]}`, id: ids[3] });
    expect(broker!.pubacks).toEqual(ids);
    expect(c.chain()).toBe(0);
  });

  it("holds reading at the window as before (the window's gate is still what MQTT.js waits on)", async () => {
    broker = await PacketBroker.start();
    client = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'publish-handler-window', manualConnect: true, reconnectPeriod: 0 });
    const window = new AckWindow(client, { window: 10 });
    const held: ReturnType<AckWindow['track']>[] = [];
    client.on('message', (_t, _p, packet: IPublishPacket) => held.push(window.track(packet)));
    client.connect();
    await broker.clientConnected;
    await client.subscribeAsync('t/#', { qos: 1 });
    broker.publish(30, 't/x', 'blast');
    await until(() => window.stalled, 'the window to fill');
    await new Promise((r) => setTimeout(r, 100));
    expect(held).toHaveLength(10);
    for (const e of held.splice(0)) window.release(e);
    await until(() => held.length === 10, 'the next window');
  });

  it("leaves a client that listens for 'packetreceive' to MQTT.js's chain", async () => {
    const c = await consumer({ packetreceive: true });
    const ids = broker!.publish(5, 't/x', 'blast');
    await until(() => broker!.pubacks.length === ids.length, 'every PUBACK');
    expect(c.got.map((m) => m.id)).toEqual(ids);
    expect(c.chain()).toBe(5);
  });

  it('fails loudly when MQTT.js no longer has handle(client, packet, done, pump)', () => {
    expect(() => handlePublishesDirectly({ default: ((client: unknown) => client) as never })).toThrow(/mqtt internals changed.*publish-handler\.ts/);
  });
});
