import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deviceTopic } from '../../src/contract/index.js';
import { Fleet } from '../../load-tests/bench/fleet.js';
import { RecordedTelemetry } from '../../load-tests/bench/recorded-telemetry.js';
import { Workload } from '../../load-tests/bench/workload.js';

// The load generator writes each message's bytes straight into its gateway's output buffer. What
// reaches the broker must be, packet by packet, a valid MQTT 5 QoS 1 PUBLISH (parsed here by
// mqtt-packet, what MQTT.js reads with) to the device's topic, with a packet id inside the window
// and never one still unacknowledged, carrying exactly the message the recording builds: also
// when the window is full and publishes wait for a packet id.

interface Received {
  topic: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  messageId: number;
  payload: Buffer;
}

/** A broker that parses everything it receives, answers CONNACK (Receive Maximum `window`) and a PUBACK per QoS 1 PUBLISH. */
async function parsingBroker(window: number) {
  const received: Received[] = [];
  const errors: string[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    const outstanding = new Set<number>(); // this connection's packet ids not yet acknowledged
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p: object) => socket.write(mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: 5 }));
    parser.on('error', (err) => errors.push(err.message));
    parser.on('packet', (p) => {
      if (p.cmd === 'connect') {
        send({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { receiveMaximum: window } });
      } else if (p.cmd === 'publish') {
        const id = p.messageId ?? -1;
        if (p.qos === 1 && outstanding.has(id)) errors.push(`packet id ${id} reused while unacknowledged`);
        outstanding.add(id);
        if (outstanding.size > window) errors.push(`${outstanding.size} publishes unacknowledged, window ${window}`);
        received.push({ topic: p.topic, qos: p.qos, retain: p.retain, dup: p.dup, messageId: id, payload: Buffer.from(p.payload as Buffer) });
        // Acknowledged a little later, so that the window fills and publishes queue.
        setImmediate(() => {
          outstanding.delete(id);
          send({ cmd: 'puback', messageId: id, reasonCode: 0 });
        });
      } else if (p.cmd !== 'disconnect' && p.cmd !== 'pingreq') errors.push(`unexpected ${p.cmd}`);
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    errors,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

describe('bench: the fleet on the wire', () => {
  it('sends every message as a valid MQTT 5 QoS 1 PUBLISH to its device topic, ids within the window, payload the recording\'s bytes', async () => {
    const shape = { sites: 2, linesPerSite: 1, machinesPerLine: 3, samplesPerMessage: 10 };
    const start = 1_700_000_000_000;
    const broker = await parsingBroker(4);
    cleanup.push(() => broker.close());
    const workload = new Workload(shape, start);
    const fleet = new Fleet(workload, broker.url, 'wire-t');
    cleanup.push(() => fleet.stop());
    await fleet.connect();
    const births = broker.received.length;
    expect(births).toBe(2 * (1 + 3)); // per gateway its status and its devices'
    // What the message builder makes for the same devices, seq and clock.
    const twin = new RecordedTelemetry(new Workload(shape, start));
    const expected = new Map<string, Buffer[]>();

    vi.useFakeTimers({ toFake: ['Date'] });
    let sent = 0;
    for (let turn = 0; turn < 6; turn++) {
      vi.setSystemTime(start + 10_000 + turn * 700);
      // 30 messages a turn over 2 gateways with a window of 4: most wait for a packet id.
      for (let k = 0; k < 30; k++) {
        const i = sent % workload.size;
        const seq = Math.floor(sent / workload.size);
        fleet.publishDevice(i);
        const topic = deviceTopic(workload.devices[i]!, 'metrics');
        expected.set(topic, [...(expected.get(topic) ?? []), Buffer.from(twin.nextMessage(i, seq, Date.now()).json)]);
        sent++;
      }
      await new Promise((r) => setImmediate(r));
    }
    vi.useRealTimers();
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not all acknowledged: ${broker.errors.join('; ')}`)), 10_000)));
    await Promise.race([Promise.all(fleet.gateways.map((g) => g.whenIdle())), stuck]).finally(() => clearTimeout(timer));

    expect(broker.errors).toEqual([]);
    expect(fleet.acked).toEqual({ messages: sent, samples: sent * shape.samplesPerMessage });
    const telemetry = broker.received.slice(births);
    expect(telemetry).toHaveLength(sent);
    for (const p of telemetry) {
      expect({ qos: p.qos, retain: p.retain, dup: p.dup }).toEqual({ qos: 1, retain: false, dup: false });
      expect(p.messageId).toBeGreaterThanOrEqual(1);
      expect(p.messageId).toBeLessThanOrEqual(4);
    }
    for (const [topic, payloads] of expected) {
      const got = telemetry.filter((p) => p.topic === topic).map((p) => p.payload.toString('utf8'));
      expect(got).toEqual(payloads.map((b) => b.toString('utf8')));
    }
    // Every device's messages, each seq once and in order.
    for (const payloads of expected.values()) expect(payloads.map((b) => (JSON.parse(b.toString()) as { seq: number }).seq)).toEqual(payloads.map((_, k) => k));
    expect(expected.size).toBe(workload.size);
  });
});
