import { createRequire } from 'node:module';

/**
 * Header reads of MQTT.js's packet parser without a Buffer per read.
 *
 * mqtt-packet keeps what the socket delivered in a `bl` BufferList and reads every fixed-header
 * byte, remaining-length byte, message id and property length through its `readUInt8`,
 * `readUInt16BE` and `readUInt32BE`. bl implements each of these as `this.slice(offset, offset +
 * n)[method](0)`: a new Buffer object for every one or two bytes read, five to eight per
 * PUBLISH. With one-sample messages that was about 0.8 KB of garbage per message, more than our
 * own MQTT source made (load-tests/bench/per-message.ts `--alloc`, then profile-summary.ts
 * `--alloc`).
 *
 * These replacements read the byte(s) in place when they lie within one of the list's buffers,
 * which is almost always so (a packet split across socket reads is the exception); anything else
 * (across buffers, out of range) goes to bl's own method, so errors and edge cases stay bl's.
 * The bl that is changed is the one mqtt-packet loads (resolved through mqtt), once.
 *
 * On the connections that consume telemetry, PUBLISH packets no longer go through bl at all
 * (publish-parser.ts reads them in place); these reads still serve the other packets there and
 * every packet of other MQTT.js clients in the process.
 */

interface BufferListLike {
  _bufs: Buffer[];
}
type Read = (this: BufferListLike, offset?: number) => number;
type Proto = Record<'readUInt8' | 'readUInt16BE' | 'readUInt32BE', Read> & { [PATCHED]?: true };

const PATCHED = Symbol.for('plantpulse.bl-reads-in-place');

function inPlace(original: Read, size: number, read: (b: Buffer, at: number) => number): Read {
  return function (this: BufferListLike, offset = 0) {
    const bufs = this._bufs;
    let at = offset;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      if (at < b.length) return at >= 0 && at + size <= b.length ? read(b, at) : original.call(this, offset);
      at -= b.length;
    }
    return original.call(this, offset);
  };
}

/**
 * The prototype of the lists mqtt-packet's parser reads from: its `bl()` makes a BufferListStream,
 * whose methods are copies of BufferList's made when bl is loaded (so BufferList's own prototype
 * is not the one to change).
 */
export function mqttPacketBufferList(): Proto {
  const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
  const fromPacket = createRequire(fromMqtt.resolve('mqtt-packet'));
  return (fromPacket('bl') as { prototype: Proto }).prototype;
}

/** Install the in-place reads (idempotent). */
export function installInPlaceReads(proto: Proto = mqttPacketBufferList()): void {
  if (proto[PATCHED]) return;
  for (const name of ['readUInt8', 'readUInt16BE', 'readUInt32BE'] as const) {
    if (typeof proto[name] !== 'function') throw new Error(`bl changed: BufferList.${name} is not a function; src/sources/mqtt/packet-reads.ts must be adapted`);
  }
  proto.readUInt8 = inPlace(proto.readUInt8, 1, (b, at) => b[at]!);
  proto.readUInt16BE = inPlace(proto.readUInt16BE, 2, (b, at) => b.readUInt16BE(at));
  proto.readUInt32BE = inPlace(proto.readUInt32BE, 4, (b, at) => b.readUInt32BE(at));
  proto[PATCHED] = true;
}
