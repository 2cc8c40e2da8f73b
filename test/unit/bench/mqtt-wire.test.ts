import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { finishPublish, FrameReader, PACKET, publishLength, publishPacket, publishPayloadAt, topicBytes, writePublish } from '../../../load-tests/bench/mqtt-wire.js';

// The load generator writes its MQTT 5 PUBLISHes by hand: they must be the bytes a general
// encoder (mqtt-packet, what MQTT.js sends) produces for the same packet, one after the other in
// one output buffer as a gateway writes a turn's, and the reader must split a stream back into
// the same packets however it arrives.

function reference(topic: string, messageId: number, payload: Buffer, retain: boolean): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain, dup: false, properties: {} }, { protocolVersion: 5 });
}

const topic = 'pp/v1/site-ü/line-01/m-001/metrics';

/** Byte for byte (toEqual walks a large Buffer slowly); says where the first difference is. */
function expectBytes(got: Buffer, want: Buffer): void {
  let k = 0;
  while (k < Math.min(got.length, want.length) && got[k] === want[k]) k++;
  expect({ length: got.length, firstDifference: k === want.length && got.length === want.length ? -1 : k }).toEqual({ length: want.length, firstDifference: -1 });
}

/** A packet without its fixed header (type byte and remaining length): what FrameReader hands on. */
function body(p: Buffer): Buffer {
  let at = 1;
  while (p[at]! & 0x80) at++;
  return p.subarray(at + 1);
}

// Payload sizes around each change of the remaining length's byte count (127/128, 16,383/16,384).
const sizes = [0, 1, 80, 86, 87, 88, 200, 2_000, 16_330, 16_331, 16_340, 70_000];

describe('bench: the wire gateway\'s MQTT packets', () => {
  it('a PUBLISH, alone or written in place after others, is mqtt-packet\'s', () => {
    const t = topicBytes(topic);
    const out = Buffer.alloc(200_000, 0xee);
    let at = 3;
    for (const size of sizes) {
      for (const [id, retain] of [
        [1, false],
        [65_535, true],
        [300, false],
      ] as const) {
        const payload = Buffer.alloc(size, 'a');
        if (size > 3) payload.write('é', size - 2); // multi-byte UTF-8 at the end
        const text = payload.toString('utf8');
        const packet = reference(topic, id, payload, retain);
        expectBytes(publishPacket(t, id, text, retain), packet);
        if (at + packet.length > out.length) at = 3;
        const end = writePublish(out, at, t, id, text, payload.length, retain);
        expectBytes(out.subarray(at, end), packet);
        at = end;
      }
    }
  });

  it('a PUBLISH whose payload was written in place before its header (room left for the longest) is mqtt-packet\'s, one after the other', () => {
    const t = topicBytes(topic);
    const out = Buffer.alloc(400_000, 0xee);
    let at = 5;
    for (const size of sizes) {
      // Room for payloads up to this much larger: the remaining length may take more bytes than it needs.
      for (const slack of [0, 1, 50, 20_000]) {
        const payload = Buffer.alloc(size, 'b');
        if (size > 3) payload.write('é', 0);
        const packet = reference(topic, 7 + slack, payload, false);
        if (at + publishLength(t, size + slack) > out.length) at = 5;
        const payloadAt = publishPayloadAt(at, t, size + slack);
        payload.copy(out, payloadAt);
        const end = finishPublish(out, at, t, 7 + slack, payloadAt, size);
        expectBytes(out.subarray(at, end), packet);
        at = end;
      }
    }
  });

  it('splits a stream of packets back into the same packets, however it is cut into reads', () => {
    const packets = sizes.map((size, k) => reference(topic, k + 1, Buffer.alloc(size, 'p'), false));
    const puback = Buffer.from([0x40, 0x02, 0x00, 0x07]);
    const pubackWithReason = Buffer.from([0x40, 0x03, 0x00, 0x08, 0x10]);
    const stream = Buffer.concat([...packets, puback, pubackWithReason]);
    for (const cut of [2, 3, 7, 1000, 16_384, stream.length]) {
      const reader = new FrameReader();
      const got: Buffer[] = [];
      const types: number[] = [];
      for (let at = 0; at < stream.length; at += cut) {
        reader.read(Buffer.from(stream.subarray(at, at + cut)), (type, buf, start, end) => {
          types.push(type);
          got.push(Buffer.from(buf.subarray(start, end)));
        });
      }
      expect(types).toEqual([...packets.map(() => PACKET.publish), PACKET.puback, PACKET.puback]);
      packets.forEach((p, k) => expectBytes(got[k]!, body(p)));
      expect(got.slice(packets.length).map((b) => b.readUInt16BE(0))).toEqual([7, 8]);
    }
    // Reads into one reused buffer, its first n bytes each time (as the gateway reads its socket).
    for (const cut of [3, 1000, 16_384]) {
      const reader = new FrameReader();
      const input = Buffer.alloc(cut);
      const got: Buffer[] = [];
      for (let at = 0; at < stream.length; at += cut) {
        const n = stream.copy(input, 0, at, at + cut);
        input.fill(0xff, n);
        reader.read(input, (_, buf, start, end) => got.push(Buffer.from(buf.subarray(start, end))), n);
      }
      packets.forEach((p, k) => expectBytes(got[k]!, body(p)));
      expect(got).toHaveLength(packets.length + 2);
    }
  });
});
