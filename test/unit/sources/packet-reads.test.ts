import { createRequire } from 'node:module';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { installInPlaceReads, mqttPacketBufferList } from '../../../src/sources/mqtt/packet-reads.js';

type ReadName = 'readUInt8' | 'readUInt16BE' | 'readUInt32BE';
type List = { append(b: Buffer): unknown } & Record<ReadName, (o?: number) => number>;
const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
// What mqtt-packet's parser reads from (`bl()`), and bl's plain BufferList, left as bl made it: the reference.
const bl = createRequire(fromMqtt.resolve('mqtt-packet'))('bl') as (() => List) & { BufferList: new () => List };

function read(list: List, name: ReadName, offset: number): number | Error {
  try {
    return list[name](offset);
  } catch (e) {
    return e as Error;
  }
}

describe('mqtt-packet header reads in place', () => {
  installInPlaceReads();

  it('changes the lists mqtt-packet parses from, once', () => {
    const proto = mqttPacketBufferList();
    const first = proto.readUInt8;
    installInPlaceReads();
    expect(proto.readUInt8).toBe(first);
    const parserList = (mqttPacket.parser() as unknown as { _list: List })._list;
    expect(parserList.readUInt8).toBe(first);
    expect(new bl.BufferList().readUInt8).not.toBe(first);
  });

  it('reads what bl read, within buffers, across their boundaries and out of range', () => {
    const bytes = Buffer.from(Array.from({ length: 23 }, (_, i) => (i * 37 + 11) & 0xff));
    // Every way of cutting the bytes in up to three pieces (the second cut every third byte).
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b += 3) {
        const ours = bl();
        const theirs = new bl.BufferList();
        for (const piece of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) {
          if (piece.length === 0) continue;
          ours.append(piece);
          theirs.append(piece);
        }
        for (const name of ['readUInt8', 'readUInt16BE', 'readUInt32BE'] as const) {
          for (let offset = 0; offset <= bytes.length + 1; offset++) {
            const want = read(theirs, name, offset);
            const got = read(ours, name, offset);
            if (want instanceof Error) expect(got, `${name}(${offset}) cut at ${a}/${b}`).toBeInstanceOf(RangeError);
            else expect(got, `${name}(${offset}) cut at ${a}/${b}`).toBe(want);
          }
        }
      }
    }
  });

  it('lets the parser read MQTT 5 publishes split anywhere', () => {
    const packet = { cmd: 'publish', topic: 'pp/v1/s1/l1/m1/metrics', payload: Buffer.from('{"v":1}'), qos: 1, messageId: 40_000, retain: false, dup: false, properties: { messageExpiryInterval: 70_000, userProperties: { a: 'b' } } } as const;
    const wire = mqttPacket.generate(packet as unknown as mqttPacket.Packet, { protocolVersion: 5 });
    const twice = Buffer.concat([wire, wire]);
    for (let cut = 1; cut < twice.length; cut++) {
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      const got: mqttPacket.IPublishPacket[] = [];
      parser.on('packet', (p) => got.push(p as mqttPacket.IPublishPacket));
      parser.on('error', (e) => {
        throw e;
      });
      parser.parse(twice.subarray(0, cut));
      parser.parse(twice.subarray(cut));
      expect(got.map((p) => [p.topic, p.messageId, p.payload.toString(), p.properties?.messageExpiryInterval])).toEqual([
        ['pp/v1/s1/l1/m1/metrics', 40_000, '{"v":1}', 70_000],
        ['pp/v1/s1/l1/m1/metrics', 40_000, '{"v":1}', 70_000],
      ]);
    }
  });
});
