import type { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { OrderedAcks, type AckEntry } from './ordered-acks.js';
import { installInPlaceReads } from './packet-reads.js';
import { PublishCounter } from './publish-counter.js';
import { batchMqttTicks } from './packet-ticks.js';
import { handlePublishesDirectly } from './publish-handler.js';
import { readPublishesDirectly } from './publish-parser.js';

export interface AckWindowOptions {
  /** Messages received and not yet durable at most: reading stops here. The receive-maximum we advertise. */
  window: number;
  /**
   * Payload bytes of the messages received and not yet durable at most: reading also stops here
   * (default: no limit). With it the message window can be large, so that small messages fill
   * storage's batches, while what large ones hold stays bounded by their size.
   */
  windowBytes?: number;
  /** Reading resumes once no more than this many are left (default: three quarters of the window; for bytes, of the byte window). */
  lowWater?: number;
  /**
   * Also stop reading while this says so (enough is queued for storage), so that what is held
   * is bounded in lines for storage too, not only in messages: a window of large messages would
   * otherwise hold far more than storage needs to stay busy. Polled.
   */
  hold?: () => boolean;
  /**
   * Half the window is held, or reading just stopped: what is held should be written now, not
   * after the writer's flush interval. At the stall nothing more can arrive until messages are
   * released; at half the window, writing the first half while the second is read keeps both
   * going (with a window smaller than two write batches, nothing else starts a write in time).
   * Called once the message that got there has been handled (its data handed to storage), so
   * the write includes it: with 1-sample messages, half of a 10,000 window is a whole batch.
   */
  onFilling?: () => void;
  /** The broker sent `count` more QoS 1 messages beyond the window (it ignores our receive-maximum). */
  onOverrun?(count: number): void;
}

type Callback = (err?: Error) => void;
type SendPacket = (packet: { cmd: string; messageId?: number; qos?: number; reasonCode?: number }, cb?: Callback, ...rest: unknown[]) => void;

/** The MQTT.js internals this adapter relies on (mqtt 5.x); checked when it is attached. */
interface ClientInternals {
  _sendPacket: SendPacket;
  streamBuilder: (client: MqttClient) => Duplex;
  handleMessage: (packet: Packet, callback: Callback) => void;
}

/**
 * Deferred acknowledgements with a window that the platform enforces itself, whatever the
 * broker does. One per MQTT connection that consumes telemetry (MQTT source, Sparkplug source).
 *
 * - PUBACKs: MQTT.js sends one as soon as `handleMessage` calls back. We swallow those and send
 *   our own, in receive order, once the message's data is durable (`release`, via OrderedAcks).
 * - The window: MQTT.js handles incoming packets strictly one after another and reads no more
 *   from the socket until `handleMessage` has called back. When `window` messages are held, we
 *   hold that callback: no later packet is handled, the socket is no longer read, and TCP stops
 *   the broker. We call back once no more than `lowWater` messages are held. This bounds memory
 *   even for a broker that ignores MQTT 5 receive-maximum (Mosquitto resuming a session, aedes).
 * - A publication a held message waits for (its dead letter, a Sparkplug status) completes with
 *   the broker's PUBACK, which comes in on the same socket: while one is outstanding
 *   (`publishAwaited`) we keep reading, up to one more window, or that message would wait for
 *   ever. Other publications on the connection (alerts) do not open the window.
 * - A broker that sends more unacknowledged QoS 1 messages than the window is counted as the
 *   bytes arrive (a header scan, PublishCounter), since MQTT.js handles them later.
 *
 * Attach before the client connects (`manualConnect: true`, then `client.connect()`): the first
 * connection's socket must be watched from its first byte.
 */
export class AckWindow {
  private readonly acks: OrderedAcks;
  private readonly lowWater: number;
  private readonly half: number;
  private readonly windowBytes: number;
  private readonly lowWaterBytes: number;
  private readonly halfBytes: number;
  /** Payload bytes of the messages held (tracked, not yet released) on this connection. */
  private heldBytes = 0;
  private peakHeldBytes = 0;
  private held: Callback | null = null;
  /**
   * At or past half the window, in messages or in bytes, whichever came first: one early write
   * per filling, not a second when the other half is reached too (1-sample messages reach half
   * the bytes just before the whole message window, where it would cut a write batch short).
   */
  private pastHalf = false;
  /** The message being handled took the window past half: tell onFilling once it is handled. */
  private halfReached = false;
  private holdTimer: NodeJS.Timeout | null = null;
  /** Publications that held messages wait for, not yet acknowledged by the broker. */
  private awaited = 0;
  /** This connection's counts, for overrun detection. */
  private arrived = 0;
  private acksSent = 0;
  private overruns = 0;
  private peakHeld = 0;
  /** PUBACKs released and not yet written: one write per burst (see flushAcks). */
  private unsentAcks: number[] = [];

  constructor(
    private readonly client: MqttClient,
    private readonly opts: AckWindowOptions,
  ) {
    if (!Number.isInteger(opts.window) || opts.window < 1) throw new Error(`ack window must be a positive integer, got ${opts.window}`);
    this.lowWater = Math.min(opts.lowWater ?? Math.floor((opts.window * 3) / 4), opts.window - 1);
    this.half = Math.ceil(opts.window / 2);
    if (opts.windowBytes !== undefined && !(Number.isInteger(opts.windowBytes) && opts.windowBytes >= 1)) throw new Error(`ack window bytes must be a positive integer, got ${opts.windowBytes}`);
    this.windowBytes = opts.windowBytes ?? Infinity;
    this.lowWaterBytes = Math.floor((this.windowBytes * 3) / 4);
    this.halfBytes = Math.ceil(this.windowBytes / 2);
    const internals = client as unknown as ClientInternals;
    for (const name of ['_sendPacket', 'streamBuilder', 'handleMessage'] as const) {
      if (typeof internals[name] !== 'function') {
        throw new Error(`mqtt internals changed: MqttClient.${name} is not a function; deferred acknowledgements (src/sources/mqtt/ack-window.ts) must be adapted to this mqtt version`);
      }
    }
    if (client.stream) throw new Error('AckWindow must be attached before the client connects (manualConnect: true)');
    // Its PUBLISH packets are read without mqtt-packet's buffer list (publish-parser.ts) and
    // handed to 'message' and the window without MQTT.js's chain (publish-handler.ts).
    readPublishesDirectly(client.options);
    handlePublishesDirectly();
    // One process tick per burst of packets, not one per packet (packet-ticks.ts).
    batchMqttTicks();

    const send = internals._sendPacket.bind(client);
    this.acks = new OrderedAcks((messageId) => {
      this.acksSent++;
      if (this.unsentAcks.length === 0) process.nextTick(() => this.flushAcks());
      this.unsentAcks.push(messageId);
    });
    internals._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback') return cb?.(); // ours are sent by `release`, once durable
      return send(packet, cb, ...rest);
    };
    internals.handleMessage = (_packet, callback) => this.gate(callback);

    const build = internals.streamBuilder;
    internals.streamBuilder = (c) => {
      const stream = build(c);
      this.watch(stream);
      return stream;
    };
    client.on('close', () => this.reset());
  }

  /** Messages received and not yet released (QoS 0 ones included: they hold memory too). */
  get size(): number {
    return this.acks.size;
  }

  /** The most messages held at once since this adapter was made (the window holds when this never exceeds it). */
  get peak(): number {
    return this.peakHeld;
  }

  /** Payload bytes held now, and the most held at once since this adapter was made. */
  get bytes(): number {
    return this.heldBytes;
  }

  get peakBytes(): number {
    return this.peakHeldBytes;
  }

  /** True while reading is stopped at the window. */
  get stalled(): boolean {
    return this.held !== null;
  }

  /** Call for every message as it is delivered ('message' event), before anything asynchronous. */
  track(packet: IPublishPacket): AckEntry {
    const bytes = packet.payload.length;
    const entry = this.acks.add(packet.qos > 0 ? packet.messageId : undefined, bytes);
    this.heldBytes += bytes;
    if (this.acks.size > this.peakHeld) this.peakHeld = this.acks.size;
    if (this.heldBytes > this.peakHeldBytes) this.peakHeldBytes = this.heldBytes;
    // Not onFilling here: the caller has not handed the message to storage yet (see gate).
    if (!this.pastHalf && (this.acks.size >= this.half || this.heldBytes >= this.halfBytes)) this.pastHalf = this.halfReached = true;
    return entry;
  }

  /** The message's data is durable (or dead-lettered): acknowledge it, in receive order. */
  release(entry: AckEntry): void {
    if (this.acks.markReady(entry)) this.heldBytes -= entry.bytes;
    if (this.pastHalf && this.acks.size < this.half && this.heldBytes < this.halfBytes) this.pastHalf = false;
    if (this.held && this.belowLowWater() && !this.opts.hold?.()) this.resumeIfHeld();
  }

  /** Few enough messages and bytes held to read again (a margin, so reading does not stop and start per message). */
  private belowLowWater(): boolean {
    return this.acks.size <= this.lowWater && this.heldBytes <= this.lowWaterBytes;
  }

  /**
   * Publish something a held message waits for (its dead letter, a Sparkplug status). Its PUBACK
   * arrives behind whatever the broker sends next, so reading goes on past the window (up to one
   * more) until it is acknowledged.
   */
  async publishAwaited(topic: string, payload: string | Buffer, options: IClientPublishOptions): Promise<void> {
    this.awaited++;
    this.resumeIfHeld();
    try {
      await this.client.publishAsync(topic, payload, options);
    } finally {
      this.awaited--;
    }
  }

  /** Resolves when nothing is held (or `timeoutMs` passes); used by graceful shutdown. */
  drained(timeoutMs: number): Promise<boolean> {
    return this.acks.drained(timeoutMs);
  }

  /**
   * MQTT.js asks whether to go on to the next packet. It asks after the 'message' event of the
   * message just read (QoS 0 and 1), whose listener tracked it and handed its data to storage.
   */
  private gate(callback: Callback): void {
    const limit = this.awaited > 0 ? 2 * this.opts.window : this.opts.window;
    const limitBytes = this.awaited > 0 ? 2 * this.windowBytes : this.windowBytes;
    const halfReached = this.halfReached;
    this.halfReached = false;
    // Bytes as for messages: below the limit, the next message is read (it may take the bytes held
    // past the limit by one message at most).
    if (this.acks.size < limit && this.heldBytes < limitBytes && !this.opts.hold?.()) {
      if (halfReached) this.opts.onFilling?.();
      return callback();
    }
    this.held = callback;
    this.opts.onFilling?.();
    if (this.opts.hold) this.pollHold();
  }

  /** Held by `hold` with few messages of ours in flight, no release may come to resume us: poll. */
  private pollHold(): void {
    if (this.holdTimer) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      if (!this.held) return;
      if (this.belowLowWater() && !this.opts.hold!()) this.resumeIfHeld();
      else this.pollHold();
    }, 20);
  }

  private resumeIfHeld(): void {
    const callback = this.held;
    if (!callback) return;
    this.held = null;
    callback();
  }

  /**
   * Write the PUBACKs released since the last call as one buffer. A storage write completes a
   * whole batch of messages at once, and their releases run one after another as microtasks; a
   * tick queued by the first runs after all of them. Through MQTT.js each PUBACK was a packet
   * object, an event and three stream writes (header, length, id), i.e. three buffers per
   * message in the socket's writev: with one-sample messages that was several % of the thread.
   * A PUBACK with reason code 0 and no properties is the same four bytes in MQTT 3.1.1 and 5
   * (5 may omit both, [MQTT-3.4.2-1]), in receive order here as OrderedAcks released them.
   * Without a connection they are dropped: the broker redelivers those messages.
   */
  private flushAcks(): void {
    const ids = this.unsentAcks;
    this.unsentAcks = [];
    const stream = this.client.stream as Duplex | undefined;
    if (ids.length === 0 || !this.client.connected || !stream || stream.destroyed) return;
    const out = Buffer.allocUnsafe(4 * ids.length);
    for (let i = 0; i < ids.length; i++) {
      out[4 * i] = 0x40; // PUBACK
      out[4 * i + 1] = 2; // remaining length: the message id
      out.writeUInt16BE(ids[i]!, 4 * i + 2);
    }
    stream.write(out);
    // MQTT.js sends a PINGREQ a keepalive after its last reschedule and gives up on the
    // connection if the PINGRESP is not read half a keepalive later. It reschedules only when it
    // reads an acknowledgement of its own packets, which a subscriber rarely gets, and our PUBACKs
    // bypass it. While reading is stopped at the window, a PINGRESP waits behind everything the
    // broker queued on the socket (Mosquitto sends past our receive-maximum), so under a long
    // overload the client timed out, reconnected, and the broker resent the window, part of it
    // already stored. These PUBACKs are the control packets the broker's keepalive asks of us,
    // and they answer data the broker sent: while they flow the connection is alive both ways,
    // so no ping is needed. When they stop (nothing held), pings resume and a dead broker is
    // noticed within 1.5 keepalives as before.
    this.client.reschedulePing(true);
  }

  /** A new socket: count the QoS 1 messages on it against the acknowledgements we sent. */
  private watch(stream: Duplex): void {
    const counter = new PublishCounter();
    this.arrived = 0;
    this.acksSent = 0;
    stream.on('data', (chunk: Buffer) => {
      const n = counter.count(chunk);
      if (n === 0) return;
      this.arrived += n;
      const beyond = this.arrived - this.acksSent - this.opts.window;
      if (beyond <= 0) return;
      const count = Math.min(n, beyond);
      this.overruns += count;
      this.opts.onOverrun?.(count);
    });
  }

  /** QoS 1 messages the broker sent beyond the window, over this adapter's life. */
  get overrunCount(): number {
    return this.overruns;
  }

  /** The connection is gone: the broker redelivers what we had not acknowledged. */
  private reset(): void {
    this.acks.reset();
    this.heldBytes = 0; // the old connection's entries are no longer counted (release ignores them)
    this.unsentAcks = []; // the old connection's: the broker redelivers those messages
    this.held = null; // the old connection's packet loop is dropped with it
    this.halfReached = false;
    this.pastHalf = false;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
  }
}

const noLog = (): void => undefined;

/**
 * Connect a consuming client with its window attached from the first byte. A broker overrunning
 * the window is counted (`pp_mqtt_window_overrun_messages_total{source}`) and logged at most once
 * a minute: it is harmless to memory, but it means the broker ignores our receive-maximum.
 */
export function connectWithAckWindow(url: string, options: IClientOptions, window: number, source: 'mqtt' | 'sparkplug', metrics: Metrics, log: Logger, pipeline?: Pipeline, windowBytes?: number): { client: MqttClient; acks: AckWindow } {
  // writeCache: false: mqtt-packet would otherwise build a Buffer for each of the 65,536 message
  // ids at the first packet it writes (6 MiB and 65,536 objects for every full collection to
  // mark, for ever), to save a two-byte allocation per PUBACK. (The setting is global to
  // mqtt-packet: it applies to every client in the process.)
  // log: MQTT.js calls its debug logger about ten times per message received, each call with
  // its arguments gathered into an array even with DEBUG off: a few hundred bytes of garbage per
  // message. Our own logger says what matters (connects, errors, overruns).
  // The parser's header reads without a Buffer per byte read (packet-reads.ts).
  installInPlaceReads();
  const client = mqtt.connect(url, { ...options, manualConnect: true, writeCache: false, log: options.log ?? noLog });
  let loggedAt = 0;
  const acks = new AckWindow(client, {
    window,
    windowBytes,
    ...(pipeline ? { hold: () => pipeline.full, onFilling: () => pipeline.flushNow() } : {}),
    onOverrun: (count) => {
      metrics.mqttWindowOverruns.inc({ source }, count);
      if (Date.now() - loggedAt < 60_000) return;
      loggedAt = Date.now();
      log.warn({ window, overrunMessages: acks.overrunCount }, 'the broker sends more unacknowledged messages than our receive-maximum; reading stops at the window instead (Mosquitto 2.0 does so when it resumes a session with a backlog)');
    },
  });
  client.connect();
  return { client, acks };
}
