import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PublishParser, readPublishesDirectly, type LibraryParser } from '../../../src/sources/mqtt/publish-parser.js';

// The mqtt-packet MQTT.js loads (the one readPublishesDirectly wraps).
const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
const mqttJsPacket = fromMqtt('mqtt-packet') as { parser: (opt?: object) => LibraryParser };

type Version = 4 | 5;
const wire = (packets: object[], protocolVersion: Version) => Buffer.concat(packets.map((p) => mqttPacket.generate(p as Packet, { protocolVersion })));

/** What mqtt-packet's parser alone emits for these chunks, and what ours emits, with the packets mqtt-packet was given. */
function parseBoth(chunks: Buffer[], protocolVersion: Version) {
  const reference = mqttPacket.parser({ protocolVersion });
  const want: Packet[] = [];
  reference.on('packet', (p: Packet) => want.push(p));
  reference.on('error', (e: Error) => want.push({ error: e.message } as never));
  for (const c of chunks) reference.parse(c);

  const lib = mqttPacket.parser({ protocolVersion }) as unknown as LibraryParser;
  const handedOn: string[] = [];
  const libParse = lib.parse.bind(lib);
  lib.parse = (b: Buffer) => {
    handedOn.push(b.toString('hex'));
    return libParse(b);
  };
  const ours = new PublishParser(lib, protocolVersion === 5);
  const got: Packet[] = [];
  lib.on('packet', (p: Packet) => got.push(p));
  lib.on('error', (e: Error) => got.push({ error: e.message } as never));
  for (const c of chunks) ours.parse(c);
  return { want, got, handedOn };
}

/** The fields MQTT.js and our source read, as plain data (a payload as text). */
const view = (packets: Packet[]) => packets.map((p) => JSON.parse(JSON.stringify(p, (k, v: unknown) => (k === 'payload' && v && typeof v === 'object' ? Buffer.from((v as { data: number[] }).data).toString('latin1') : v))) as unknown);

const topic = 'pp/v1/site-1/line_2/m3/metrics';
const payload = Buffer.from('{"seq":7,"samples":[{"ts":1733400000000,"m":{"power_kw":1.5}}]}');
function traffic(v: Version): object[] {
  return [
    { cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0 },
    { cmd: 'suback', messageId: 1, granted: [1] },
    { cmd: 'publish', topic, payload, qos: 1, messageId: 1, retain: false, dup: false },
    { cmd: 'publish', topic: 'pp/v1/s/l/d/status', payload: Buffer.from('online'), qos: 1, messageId: 65_535, retain: true, dup: true },
    { cmd: 'publish', topic: 'pp/v1/ünï/l/d/metrics', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false },
    { cmd: 'puback', messageId: 9 },
    { cmd: 'pingresp' },
    { cmd: 'publish', topic, payload: Buffer.alloc(300, 0x61), qos: 1, messageId: 2, retain: false, dup: false },
    { cmd: 'publish', topic, payload, qos: 2, messageId: 3, retain: false, dup: false },
    ...(v === 5 ? [{ cmd: 'publish', topic, payload, qos: 1, messageId: 4, retain: false, dup: false, properties: { messageExpiryInterval: 70_000, userProperties: { a: 'b' } } }] : []),
    { cmd: 'publish', topic, payload: Buffer.alloc(20_000, 0x62), qos: 1, messageId: 5, retain: false, dup: false },
  ];
}

describe('PUBLISH packets read without the buffer list', () => {
  for (const v of [4, 5] as const) {
    it(`emits what mqtt-packet emits, cut in two anywhere (MQTT ${v})`, () => {
      const bytes = wire(traffic(v), v);
      const whole = parseBoth([bytes], v);
      expect(view(whole.got)).toEqual(view(whole.want));
      expect(whole.want.length).toBe(traffic(v).length);
      for (let cut = 1; cut < bytes.length; cut += cut < 400 ? 1 : 97) {
        const { want, got } = parseBoth([bytes.subarray(0, cut), bytes.subarray(cut)], v);
        expect(view(got), `cut at ${cut}`).toEqual(view(want));
      }
    });

    it(`emits what mqtt-packet emits, a byte at a time and in uneven pieces (MQTT ${v})`, () => {
      const bytes = wire(traffic(v), v);
      const bytewise = parseBoth(Array.from(bytes.subarray(0, 900), (b) => Buffer.of(b)).concat(bytes.subarray(900)), v);
      expect(view(bytewise.got)).toEqual(view(bytewise.want));
      const pieces: Buffer[] = [];
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7 + 3) % 4001) pieces.push(bytes.subarray(at, at + n));
      const uneven = parseBoth(pieces, v);
      expect(view(uneven.got)).toEqual(view(uneven.want));
    });
  }

  it('hands mqtt-packet only what is not a plain QoS 0/1 PUBLISH, one whole packet at a time', () => {
    const { handedOn, got } = parseBoth([wire(traffic(5), 5)], 5);
    expect(got.map((p) => p.cmd)).toEqual(['connack', 'suback', 'publish', 'publish', 'publish', 'puback', 'pingresp', 'publish', 'publish', 'publish', 'publish']);
    const handed = handedOn.map((hex) => {
      const alone = mqttPacket.parser({ protocolVersion: 5 });
      const packets: Packet[] = [];
      alone.on('packet', (p: Packet) => packets.push(p));
      expect(alone.parse(Buffer.from(hex, 'hex'))).toBe(0); // nothing left over: a whole packet
      expect(packets).toHaveLength(1);
      const p = packets[0]!;
      return p.cmd === 'publish' ? `publish qos ${p.qos}${p.properties ? ' with properties' : ''}` : p.cmd;
    });
    expect(handed).toEqual(['connack', 'suback', 'puback', 'pingresp', 'publish qos 2', 'publish qos 1 with properties']);
  });

  it('leaves a malformed length, and everything after it, to mqtt-packet (same error)', () => {
    const good = wire([{ cmd: 'publish', topic, payload, qos: 1, messageId: 1, retain: false, dup: false }], 5);
    const bad = Buffer.of(0x32, 0xff, 0xff, 0xff, 0xff, 0x01);
    const { want, got, handedOn } = parseBoth([Buffer.concat([good, bad, good])], 5);
    expect(view(got)).toEqual(view(want));
    expect(got.map((p) => (p as { error?: string }).error ?? p.cmd)).toEqual(['publish', 'Invalid variable byte integer']);
    expect(handedOn).toHaveLength(1);
  });

  it('gives a topic that does not fit its packet to mqtt-packet, which rejects it', () => {
    const bytes = Buffer.of(0x30, 0x04, 0x00, 0x09, 0x61, 0x62);
    const { want, got } = parseBoth([bytes], 4);
    expect(view(got)).toEqual(view(want));
    expect((got[0] as { error?: string }).error).toBe('Cannot parse topic');
  });

  it('is what MQTT.js reads with, for registered clients only', () => {
    // Never connected: only their options are used.
    const ours = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true, protocolVersion: 5 });
    const theirs = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true, protocolVersion: 5 });
    readPublishesDirectly(ours.options);
    const bytes = wire([{ cmd: 'publish', topic, payload, qos: 1, messageId: 3, retain: false, dup: false }], 5);
    for (const [client, direct] of [[ours, true], [theirs, false]] as const) {
      const parser = mqttJsPacket.parser(client.options);
      const seen: Packet[] = [];
      parser.on('packet', (p: Packet) => seen.push(p));
      parser.parse(bytes);
      expect(seen.map((p) => [p.cmd, (p as { topic?: string }).topic])).toEqual([['publish', topic]]);
      // mqtt-packet's own packets are instances of its Packet class; ours are not.
      expect(seen[0]!.constructor.name === 'Packet').toBe(!direct);
    }
  });
});
