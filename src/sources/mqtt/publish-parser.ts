import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/**
 * PUBLISH packets read straight from the socket's chunks, for the connections that consume
 * telemetry (those with an AckWindow); every other packet still goes to mqtt-packet's parser.
 *
 * Why: mqtt-packet copies each chunk into a `bl` buffer list and reads every packet through it:
 * a Buffer per `consume` (three per PUBLISH), an `[index, offset]` array per slice, the topic
 * sliced into a Buffer before it becomes a string, a properties object and its key array for
 * MQTT 5, and a dozen debug calls. With one-sample messages that was about 1 KB of garbage and
 * 5 % of the thread per message (load-tests/bench/per-message.ts `--profile`, then
 * profile-summary.ts). Here a PUBLISH of QoS 0 or 1 without properties, whole in one chunk (or
 * in the few bytes joined across a chunk boundary), becomes the same packet object mqtt-packet
 * would emit, read in place: its payload a view of the chunk, as mqtt-packet's is when the
 * packet lies in one buffer.
 *
 * The packets are framed here (fixed header and remaining length), and anything that is not
 * such a PUBLISH (acknowledgements, pings, QoS 2, properties, a malformed length) is handed to
 * mqtt-packet's own parser whole, one packet at a time, so its parse and its errors stay
 * mqtt-packet's. Packets are emitted in the order they arrived, on mqtt-packet's parser (MQTT.js
 * listens there), synchronously within `parse` as before.
 */

export interface LibraryParser extends EventEmitter {
  parse(buf: Buffer): number;
  error: Error | null;
}
type ParserFactory = (opt?: { protocolVersion?: number }) => LibraryParser;
interface MqttPacketModule {
  parser: ParserFactory & { [ORIGINAL]?: ParserFactory };
}

const ORIGINAL = Symbol.for('plantpulse.mqtt-packet-parser');
const INCOMPLETE = -1;
const MALFORMED = -2;

/** Where the packet starting at `at` ends (exclusive), or INCOMPLETE (its header is not all here) or MALFORMED. */
export function packetEnd(buf: Buffer, at: number): number {
  let length = 0;
  let multiplier = 1;
  let p = at + 1;
  for (let i = 0; i < 4; i++) {
    if (p >= buf.length) return INCOMPLETE;
    const byte = buf[p++]!;
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) return p + length;
  }
  return MALFORMED;
}

/** mqtt-packet's Packet's fields, in its order (one hidden class for every message). */
export class Publish {
  readonly cmd: 'publish';
  readonly retain: boolean;
  readonly qos: 0 | 1;
  readonly dup: boolean;
  readonly length: number;
  readonly topic: string;
  readonly payload: Buffer;
  readonly messageId: number | undefined;
  constructor(retain: boolean, qos: 0 | 1, dup: boolean, length: number, topic: string, messageId: number | undefined, payload: Buffer) {
    this.cmd = 'publish';
    this.retain = retain;
    this.qos = qos;
    this.dup = dup;
    this.length = length;
    this.topic = topic;
    this.payload = payload;
    this.messageId = messageId;
  }
}

export class PublishParser {
  /** The start of a packet whose end has not arrived yet, in pieces. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** The whole packet's size once its header is known (INCOMPLETE until then). */
  private need = INCOMPLETE;
  /** Something was malformed or mqtt-packet failed: from then on it parses everything, as without us. */
  private delegated = false;

  /** mqtt-packet's own parse, kept before MQTT.js's parser gets ours. */
  private readonly libParse: (buf: Buffer) => number;

  constructor(
    private readonly lib: LibraryParser,
    private readonly v5: boolean,
  ) {
    this.libParse = lib.parse.bind(lib);
  }

  parse(chunk: Buffer): number {
    if (this.delegated) return this.libParse(chunk);
    let from = 0;
    let buf = chunk;
    if (this.partBytes > 0) {
      if (this.need === INCOMPLETE) {
        // The header itself was cut (at most four bytes of it came): join, and read on from there.
        buf = Buffer.concat([...this.parts, chunk]);
        this.parts = [];
        this.partBytes = 0;
      } else {
        const missing = this.need - this.partBytes;
        if (chunk.length < missing) {
          this.parts.push(chunk);
          this.partBytes += chunk.length;
          return 0;
        }
        this.parts.push(chunk.subarray(0, missing));
        const whole = Buffer.concat(this.parts, this.need);
        this.parts = [];
        this.partBytes = 0;
        this.need = INCOMPLETE;
        if (!this.packet(whole, 0, whole.length)) return 0;
        from = missing;
      }
    }
    while (from < buf.length) {
      const end = packetEnd(buf, from);
      if (end === MALFORMED) {
        this.delegated = true;
        return this.libParse(buf.subarray(from));
      }
      if (end === INCOMPLETE || end > buf.length) {
        this.parts.push(buf.subarray(from));
        this.partBytes = buf.length - from;
        this.need = end === INCOMPLETE ? INCOMPLETE : end - from;
        return 0;
      }
      if (!this.packet(buf, from, end)) return 0;
      from = end;
    }
    return 0;
  }

  /**
   * Emit the whole packet buf[at, end); false when mqtt-packet failed on it: the rest of the chunk
   * is dropped and mqtt-packet parses everything after, as it does on its own after a failure.
   */
  private packet(buf: Buffer, at: number, end: number): boolean {
    const publish = this.readPublish(buf, at, end);
    if (publish) {
      this.lib.emit('packet', publish);
      return true;
    }
    this.libParse(buf.subarray(at, end));
    if (this.lib.error === null) return true;
    this.delegated = true;
    return false;
  }

  /** The PUBLISH at buf[at, end) as mqtt-packet would give it, or null for mqtt-packet to read. */
  private readPublish(buf: Buffer, at: number, end: number): Publish | null {
    const first = buf[at]!;
    if (first >> 4 !== 3) return null;
    const qos = (first >> 1) & 3;
    if (qos > 1) return null;
    let p = at + 1;
    while (buf[p++]! & 0x80);
    const length = end - p;
    if (length < 2) return null;
    const topicEnd = p + 2 + ((buf[p]! << 8) | buf[p + 1]!);
    if (topicEnd > end) return null;
    const topic = buf.toString('utf8', p + 2, topicEnd);
    p = topicEnd;
    let messageId: number | undefined;
    if (qos > 0) {
      if (p + 2 > end) return null;
      messageId = (buf[p]! << 8) | buf[p + 1]!;
      p += 2;
    }
    if (this.v5) {
      // Property length 0 in its one-byte form; any property (or another encoding) is mqtt-packet's.
      if (p >= end || buf[p] !== 0) return null;
      p++;
    }
    return new Publish((first & 1) !== 0, qos as 0 | 1, (first & 8) !== 0, length, topic, messageId, buf.subarray(p, end));
  }
}

/** The options objects of the clients whose packets are read here (AckWindow registers them). */
const FAST_CLIENTS = new WeakSet<object>();

function mqttPacketModule(): MqttPacketModule {
  const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
  return fromMqtt('mqtt-packet') as MqttPacketModule;
}

/**
 * Have the client with these options (MQTT.js's `client.options`, which it hands to
 * `mqttPacket.parser` at every connect) read PUBLISH packets here. Installs the wrapper of
 * mqtt-packet's parser factory once; other clients get mqtt-packet's parser as before.
 */
export function readPublishesDirectly(clientOptions: object, mod: MqttPacketModule = mqttPacketModule()): void {
  if (!mod.parser[ORIGINAL]) {
    const original = mod.parser;
    if (typeof original !== 'function') throw new Error('mqtt-packet changed: its parser is not a function; src/sources/mqtt/publish-parser.ts must be adapted');
    const probe = original({ protocolVersion: 5 });
    if (typeof probe.parse !== 'function' || typeof probe.emit !== 'function' || probe.error !== null) {
      throw new Error('mqtt-packet changed: its parser has no parse/emit or error field; src/sources/mqtt/publish-parser.ts must be adapted');
    }
    const wrapped: MqttPacketModule['parser'] = (opt) => {
      const lib = original(opt);
      if (!opt || !FAST_CLIENTS.has(opt)) return lib;
      const ours = new PublishParser(lib, opt.protocolVersion === 5);
      // MQTT.js calls parse() and listens for 'packet' and 'error' on what it gets: mqtt-packet's
      // parser, whose parse is now ours.
      lib.parse = (buf) => ours.parse(buf);
      return lib;
    };
    wrapped[ORIGINAL] = original;
    mod.parser = wrapped;
  }
  FAST_CLIENTS.add(clientOptions);
}
