/**
 * The few MQTT 5 packets the load generator sends and reads, written and parsed by hand
 * (OASIS MQTT 5.0, section 3): CONNECT with a retained QoS 1 will, QoS 1 PUBLISH, PINGREQ and
 * DISCONNECT out; CONNACK, PUBACK, PINGRESP and DISCONNECT in. A general client allocates a
 * packet object, a callback and a store entry per message; a generator publishing thousands of
 * messages a second on the same machine as the platform cannot afford that, so here a PUBLISH
 * is its bytes and a PUBACK is two reads.
 */

export const PINGREQ = Buffer.from([0xc0, 0x00]);
/** DISCONNECT, reason 0 (normal): the broker discards the will [MQTT-3.1.2-10]. */
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

export const PACKET = { connack: 2, publish: 3, puback: 4, pingresp: 13, disconnect: 14 } as const;

/** Bytes of a Variable Byte Integer [MQTT-1.5.5]. */
function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  do {
    let byte = n % 0x80;
    n = Math.floor(n / 0x80);
    if (n > 0) byte |= 0x80;
    buf[at++] = byte;
  } while (n > 0);
  return at;
}

function utf8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xffff) throw new Error(`MQTT string of ${b.length} bytes: at most 65,535`);
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function packet(first: number, body: Buffer[]): Buffer {
  const length = body.reduce((n, b) => n + b.length, 0);
  const out = Buffer.allocUnsafe(1 + varintLength(length) + length);
  out[0] = first;
  let at = writeVarint(out, 1, length);
  for (const b of body) at += b.copy(out, at);
  return out;
}

/** CONNECT, clean start, no session expiry, with a retained QoS 1 will. */
export function connectPacket(o: { clientId: string; keepaliveSec: number; will: { topic: string; payload: string } }): Buffer {
  // Flags: will retain (0x20), will QoS 1 (0x08), will (0x04), clean start (0x02).
  const header = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x2e, o.keepaliveSec >> 8, o.keepaliveSec & 0xff, 0x00]);
  const willProperties = Buffer.from([0x00]);
  return packet(0x10, [header, utf8(o.clientId), willProperties, utf8(o.will.topic), utf8(o.will.payload)]);
}

/**
 * A device's topic as a PUBLISH carries it (length-prefixed), encoded once: the fixed part of
 * every message to that topic.
 */
export function topicBytes(topic: string): Buffer {
  return utf8(topic);
}

/** Bytes of a QoS 1 PUBLISH of `payloadBytes` bytes to `topic`. */
export function publishLength(topic: Buffer, payloadBytes: number): number {
  const length = topic.length + 2 + 1 + payloadBytes;
  return 1 + varintLength(length) + length;
}

/** The fixed header, topic, packet id and (empty) properties of a QoS 1 PUBLISH, at `at`; returns where its payload goes. */
function writePublishHeader(out: Buffer, at: number, topic: Buffer, packetId: number, payloadBytes: number, retain: boolean): number {
  out[at] = retain ? 0x33 : 0x32;
  at = writeVarint(out, at + 1, topic.length + 2 + 1 + payloadBytes);
  out.set(topic, at);
  at += topic.length;
  out[at] = packetId >> 8;
  out[at + 1] = packetId & 0xff;
  out[at + 2] = 0x00; // property length
  return at + 3;
}

/**
 * QoS 1 PUBLISH, no properties, written into `out` at `at` (room for publishLength bytes);
 * `payload` (`payloadBytes` bytes; a string is written as UTF-8) follows the header. Returns where it ends.
 */
export function writePublish(out: Buffer, at: number, topic: Buffer, packetId: number, payload: string | Uint8Array, payloadBytes: number, retain = false): number {
  at = writePublishHeader(out, at, topic, packetId, payloadBytes, retain);
  if (typeof payload === 'string') return at + out.write(payload, at, 'utf8');
  out.set(payload, at);
  return at + payload.length;
}

/**
 * Where to write, in place, the payload of a PUBLISH that starts at `at` when its size is not
 * known yet: after room for the header of a `maxPayloadBytes` payload (`publishLength(topic,
 * maxPayloadBytes)` bytes in all).
 */
export function publishPayloadAt(at: number, topic: Buffer, maxPayloadBytes: number): number {
  return at + publishLength(topic, maxPayloadBytes) - maxPayloadBytes;
}

/**
 * Completes, at `at`, the QoS 1 PUBLISH whose `payloadBytes` bytes of payload were written at
 * `publishPayloadAt(at, topic, max)`: writes its header there and, when the remaining length
 * takes fewer bytes than the room left for it, moves the payload up against the header. Returns
 * where the packet ends.
 */
export function finishPublish(out: Buffer, at: number, topic: Buffer, packetId: number, payloadAt: number, payloadBytes: number, retain = false): number {
  const headerEnd = at + publishLength(topic, payloadBytes) - payloadBytes;
  if (headerEnd !== payloadAt) out.copyWithin(headerEnd, payloadAt, payloadAt + payloadBytes);
  writePublishHeader(out, at, topic, packetId, payloadBytes, retain);
  return headerEnd + payloadBytes;
}

/** QoS 1 PUBLISH, no properties; `payload` is written as UTF-8. */
export function publishPacket(topic: Buffer, packetId: number, payload: string, retain = false): Buffer {
  const bytes = Buffer.byteLength(payload, 'utf8');
  const out = Buffer.allocUnsafe(publishLength(topic, bytes));
  writePublish(out, 0, topic, packetId, payload, bytes, retain);
  return out;
}

/** Splits a byte stream into MQTT packets; keeps an incomplete one for the next chunk. */
export class FrameReader {
  private rest: Buffer | null = null;

  /**
   * Calls `onFrame` with each complete packet's type and its body (variable header and payload:
   * `buf` from `start` to `end`), for the first `chunkBytes` bytes of `chunk` (all by default). An
   * incomplete packet is copied, so `chunk` may be reused for the next read.
   */
  read(chunk: Buffer, onFrame: (type: number, buf: Buffer, start: number, end: number) => void, chunkBytes = chunk.length): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk.subarray(0, chunkBytes)]) : chunk;
    const bufEnd = this.rest ? buf.length : chunkBytes;
    this.rest = null;
    let at = 0;
    while (at < bufEnd) {
      let length = 0;
      let mult = 1;
      let p = at + 1;
      let complete = false;
      for (let k = 0; k < 4 && p < bufEnd; k++) {
        const b = buf[p++]!;
        length += (b & 0x7f) * mult;
        mult *= 0x80;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || p + length > bufEnd) break;
      onFrame(buf[at]! >> 4, buf, p, p + length);
      at = p + length;
    }
    if (at < bufEnd) this.rest = Buffer.from(buf.subarray(at, bufEnd));
  }
}

/** A PUBACK's reason code (absent when the remaining length is 2: success [MQTT-3.4.2.1]); its packet id is `buf.readUInt16BE(start)`. */
export function pubackReason(buf: Buffer, start: number, end: number): number {
  return end - start > 2 ? buf[start + 2]! : 0;
}

/** Sizes of the CONNACK properties this reader skips, by identifier (MQTT 5, 2.2.2.2). */
const FIXED = new Map<number, number>([
  [0x11, 4], // session expiry interval
  [0x13, 2], // server keep alive
  [0x21, 2], // receive maximum
  [0x22, 2], // topic alias maximum
  [0x24, 1], // maximum QoS
  [0x25, 1], // retain available
  [0x27, 4], // maximum packet size
  [0x28, 1], // wildcard subscription available
  [0x29, 1], // subscription identifiers available
  [0x2a, 1], // shared subscription available
]);
const STRINGS = new Set([0x12, 0x15, 0x16, 0x1a, 0x1c, 0x1f]); // one length-prefixed string or binary
const USER_PROPERTY = 0x26; // two strings

/** CONNACK: reason code (0 = accepted) and the server's Receive Maximum (65,535 when absent [MQTT-3.2.2.3.3]). */
export function readConnack(body: Buffer): { reason: number; receiveMaximum: number; maximumPacketSize: number } {
  const reason = body[1]!;
  let receiveMaximum = 65_535;
  let maximumPacketSize = Number.POSITIVE_INFINITY;
  if (body.length <= 2) return { reason, receiveMaximum, maximumPacketSize };
  let length = 0;
  let mult = 1;
  let at = 2;
  for (;;) {
    const b = body[at++]!;
    length += (b & 0x7f) * mult;
    mult *= 0x80;
    if ((b & 0x80) === 0) break;
  }
  const end = at + length;
  while (at < end) {
    const id = body[at++]!;
    if (id === 0x21) receiveMaximum = body.readUInt16BE(at);
    if (id === 0x27) maximumPacketSize = body.readUInt32BE(at);
    const fixed = FIXED.get(id);
    if (fixed !== undefined) at += fixed;
    else if (STRINGS.has(id)) at += 2 + body.readUInt16BE(at);
    else if (id === USER_PROPERTY) {
      at += 2 + body.readUInt16BE(at);
      at += 2 + body.readUInt16BE(at);
    } else throw new Error(`CONNACK: unknown property 0x${id.toString(16)}`);
  }
  return { reason, receiveMaximum, maximumPacketSize };
}
