/**
 * One simulated gateway of the load generator: an MQTT 5 connection to the broker, written to
 * directly (mqtt-wire.ts). It does what the edge agent's GatewayPublisher does on the wire
 * (QoS 1 telemetry within the window min(maxInFlight, the broker's Receive Maximum), retained
 * births on connect, retained `offline` statuses and a normal DISCONNECT on a clean stop, a
 * retained will otherwise) at a fraction of the CPU per message: no promise, callback or packet
 * object per publish; the PUBLISHes of one turn of the event loop go out in one socket write;
 * a PUBACK frees its packet id and adds its samples to `samplesAcked`. Packets are written in
 * place into one output buffer, the next turn's after the last (or from its start again once the
 * socket has handed everything to the kernel): no buffer per message, and no copy to join them for
 * the socket.
 *
 * Only what the broker acknowledged counts, so "acknowledged = stored" stays exact. It does not
 * reconnect: a dropped connection is a failed run (`failure`), never a silent resend.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { deviceTopic, encodeStatus, gatewayStatusTopic, offlineStatus, onlineStatus, type DeviceRef } from '../../src/contract/index.js';
import { Fifo } from '../../src/queue/fifo.js';
import { AGENT_INFO } from '../../edge-agent/publisher/index.js';
import { connectPacket, DISCONNECT, finishPublish, FrameReader, PACKET, PINGREQ, pubackReason, publishLength, publishPayloadAt, readConnack, topicBytes, writePublish } from './mqtt-wire.js';

/** The output buffer's size: a new one is taken when the turn's packets do not fit in what is left. */
const OUT_BYTES = 64 * 1024;
/** The read buffer's size (a PUBACK is 4 bytes). */
const READ_BYTES = 16 * 1024;

export interface WireGatewayOptions {
  brokerUrl: string;
  gatewayId: string;
  site: string;
  devices: DeviceRef[];
  /** Most publishes waiting for PUBACK (default 100); lowered to the broker's Receive Maximum. */
  maxInFlight?: number;
  keepaliveSec?: number;
  /** How long `stop()` waits for PUBACKs, ms (default 30 000). */
  stopTimeoutMs?: number;
}

/**
 * What writes payloads in place (recorded-telemetry.ts): payload (`key`, `seq`) into `out` at
 * `at`, at most `maxMessageBytes(key)` bytes; returns where it ends.
 */
export interface PayloadSource {
  maxMessageBytes(key: number): number;
  writeMessage(key: number, seq: number, out: Buffer, at: number): number;
}

/** A publish waiting for a packet id. */
interface Queued {
  topic: Buffer;
  payload: string | Buffer;
  samples: number;
  retain: boolean;
}

export class WireGateway {
  readonly gatewayId: string;
  messagesPublished = 0;
  samplesPublished = 0;
  messagesAcked = 0;
  samplesAcked = 0;
  /** Set when the broker refused a publish or the connection ended unasked; the run must fail. */
  failure: Error | null = null;
  private socket: Socket | null = null;
  private readonly reader = new FrameReader();
  /** Telemetry topics, one per device, encoded once. */
  private readonly topics: Buffer[];
  private window = 1;
  /** Free packet ids (a stack), and per id in flight the samples it carries (0: a status). */
  private free: number[] = [];
  private readonly samplesOf = new Uint32Array(65_536);
  private inFlightCount = 0;
  private readonly queue = new Fifo<Queued>();
  /**
   * Packets not yet handed to the socket are `out[outFrom, outAt)`; before `outFrom` the socket
   * may still be reading (it does not copy what it is given), so that part is never written again.
   */
  private out = Buffer.allocUnsafe(OUT_BYTES);
  private outFrom = 0;
  private outAt = 0;
  private flushScheduled = false;
  private lastWrite = 0;
  private pinger: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  private connackWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly opts: WireGatewayOptions) {
    this.gatewayId = opts.gatewayId;
    for (const d of opts.devices) if (d.site !== opts.site) throw new Error(`device ${d.site}/${d.device} is not in site ${opts.site} of gateway ${opts.gatewayId}`);
    this.topics = opts.devices.map((d) => topicBytes(deviceTopic(d, 'metrics')));
    const max = opts.maxInFlight ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 65_535) throw new Error(`maxInFlight must be an integer from 1 to 65,535, got ${max}`);
  }

  /** Connect (rejects when the broker refuses or cannot be reached) and publish the births. */
  async connect(): Promise<void> {
    const url = new URL(this.opts.brokerUrl);
    if (url.protocol !== 'mqtt:') throw new Error(`gateway ${this.gatewayId}: only mqtt:// URLs, got ${url.protocol}`);
    const keepaliveSec = this.opts.keepaliveSec ?? 30;
    // Reads land in one buffer per gateway (its PUBACKs are parsed in place): no buffer and no
    // stream event per read.
    const input = Buffer.allocUnsafe(READ_BYTES);
    const onread = (n: number): boolean => {
      this.reader.read(input, this.onFrame, n);
      return true;
    };
    const socket = tcpConnect({ host: url.hostname, port: Number(url.port || 1883), noDelay: true, onread: { buffer: input, callback: onread } });
    this.socket = socket;
    socket.on('error', (err) => this.fail(new Error(`gateway ${this.gatewayId} (${url.host}): ${err.message}${this.connackWaiter ? '' : ` with ${this.inFlightCount} publishes unacknowledged`}`)));
    socket.on('close', () => {
      if (!this.closing) this.fail(new Error(`gateway ${this.gatewayId}: the connection to the broker closed with ${this.inFlightCount} publishes unacknowledged`));
      this.wakeIdle();
    });
    await new Promise<void>((resolve, reject) => {
      this.connackWaiter = { resolve, reject };
      socket.once('connect', () => {
        const will = encodeStatus(offlineStatus(this.gatewayId, 'connection lost', undefined, AGENT_INFO));
        socket.write(connectPacket({ clientId: this.gatewayId, keepaliveSec, will: { topic: gatewayStatusTopic(this.opts.site, this.gatewayId), payload: will } }));
      });
    });
    // Keep-alive: the broker drops a client silent for 1.5 keep-alives; between phases the fleet can be.
    this.pinger = setInterval(() => {
      if (performance.now() - this.lastWrite > (keepaliveSec * 1000) / 2) this.write(PINGREQ);
    }, (keepaliveSec * 1000) / 4);
    this.pinger.unref();
    const ts = Date.now();
    this.status(gatewayStatusTopic(this.opts.site, this.gatewayId), encodeStatus(onlineStatus(this.gatewayId, ts, this.opts.devices, AGENT_INFO)));
    const online = encodeStatus(onlineStatus(this.gatewayId, ts, undefined, AGENT_INFO));
    for (const d of this.opts.devices) this.status(deviceTopic(d, 'status'), online);
    await this.whenIdle();
    if (this.failure) throw this.failure;
  }

  /** Publishes waiting for a packet id (the window is full). */
  get queued(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Publish `payload` (one message of `samples` samples) for device `d` (its index in `devices`), QoS 1; sent with the rest of this turn's. */
  publish(d: number, payload: string, samples: number): void {
    this.send(this.telemetryTopic(d, samples), payload, samples, false);
  }

  /**
   * The same, with the payload `source` writes for (`key`, `seq`) written straight into the
   * output buffer: no string and no buffer per message (a buffer only when the window is full).
   */
  publishFrom(d: number, samples: number, source: PayloadSource, key: number, seq: number): void {
    const topic = this.telemetryTopic(d, samples);
    const max = source.maxMessageBytes(key);
    const id = this.free.pop();
    if (id === undefined) {
      const payload = Buffer.allocUnsafe(max);
      this.queue.push({ topic, payload: payload.subarray(0, source.writeMessage(key, seq, payload, 0)), samples, retain: false });
      return;
    }
    this.samplesOf[id] = samples;
    this.inFlightCount++;
    const at = this.reserve(publishLength(topic, max));
    const payloadAt = publishPayloadAt(at, topic, max);
    const end = source.writeMessage(key, seq, this.out, payloadAt);
    this.outAt = finishPublish(this.out, at, topic, id, payloadAt, end - payloadAt);
  }

  private telemetryTopic(d: number, samples: number): Buffer {
    const topic = this.topics[d];
    if (!topic) throw new Error(`gateway ${this.gatewayId}: no device ${d}`);
    if (this.closing) throw new Error(`gateway ${this.gatewayId} is stopped`);
    this.messagesPublished++;
    this.samplesPublished += samples;
    return topic;
  }

  /** Clean stop: wait (bounded) for outstanding PUBACKs, retained `offline` statuses, DISCONNECT. Idempotent. */
  async stop(): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closing) return;
    const timeoutMs = this.opts.stopTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    let idle = await Promise.race([this.whenIdle().then(() => 'idle' as const), timeout]);
    if (idle === 'idle' && !socket.destroyed) {
      const offline = encodeStatus(offlineStatus(this.gatewayId, 'stopped', Date.now(), AGENT_INFO));
      for (const d of this.opts.devices) this.status(deviceTopic(d, 'status'), offline);
      this.status(gatewayStatusTopic(this.opts.site, this.gatewayId), offline);
      idle = await Promise.race([this.whenIdle().then(() => 'idle' as const), timeout]);
    }
    clearTimeout(timer);
    this.closing = true;
    if (this.pinger) clearInterval(this.pinger);
    const closed = new Promise<void>((r) => (socket.destroyed ? r() : socket.once('close', () => r())));
    // With publishes still unacknowledged, drop the connection: the broker publishes the will.
    if (idle === 'idle') socket.end(DISCONNECT);
    else socket.destroy();
    await closed;
  }

  private status(topic: string, body: string): void {
    this.send(topicBytes(topic), body, 0, true);
  }

  /** Sent now if a packet id is free; otherwise queued (only then is an object made for it). */
  private send(topic: Buffer, payload: string | Buffer, samples: number, retain: boolean): void {
    const id = this.free.pop();
    if (id === undefined) {
      this.queue.push({ topic, payload, samples, retain });
      return;
    }
    this.samplesOf[id] = samples;
    this.inFlightCount++;
    this.writePublish(topic, id, payload, retain);
  }

  private writePublish(topic: Buffer, id: number, payload: string | Buffer, retain: boolean): void {
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
    const at = this.reserve(publishLength(topic, bytes));
    this.outAt = writePublish(this.out, at, topic, id, payload, bytes, retain);
  }

  /** Buffered: everything written in one turn of the event loop goes out as one socket write. */
  private write(b: Buffer): void {
    const at = this.reserve(b.length);
    this.outAt = at + b.copy(this.out, at);
  }

  /** Room for `n` more bytes at `outAt` (returned), in a new buffer if this one is used up; schedules the flush. */
  private reserve(n: number): number {
    if (this.outAt + n > this.out.length) {
      const pending = this.out.subarray(this.outFrom, this.outAt);
      this.out = Buffer.allocUnsafe(Math.max(OUT_BYTES, 2 * (pending.length + n)));
      this.outFrom = 0;
      this.outAt = pending.copy(this.out, 0);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    return this.outAt;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const socket = this.socket;
    if (!socket || socket.destroyed || this.outAt === this.outFrom) return;
    socket.write(this.out.subarray(this.outFrom, this.outAt));
    this.outFrom = this.outAt;
    // Written through to the kernel (nothing left queued in the socket): the buffer is free again
    // from its start, so one buffer per gateway serves every turn, warm in the cache.
    if (socket.writableLength === 0) this.outFrom = this.outAt = 0;
    this.lastWrite = performance.now();
  };

  private readonly onFrame = (type: number, buf: Buffer, start: number, end: number): void => {
    if (type === PACKET.puback) {
      const id = buf.readUInt16BE(start);
      const reason = pubackReason(buf, start, end);
      const samples = this.samplesOf[id]!;
      // 0x10 (no matching subscribers) is a success: the broker took the message [MQTT-3.4.2.1].
      if (reason >= 0x80) this.fail(new Error(`gateway ${this.gatewayId}: the broker refused a publish (PUBACK reason 0x${reason.toString(16)})`));
      else if (samples > 0) {
        this.messagesAcked++;
        this.samplesAcked += samples;
      }
      this.inFlightCount--;
      const next = this.queue.shift();
      if (next) {
        this.samplesOf[id] = next.samples;
        this.inFlightCount++;
        this.writePublish(next.topic, id, next.payload, next.retain);
      } else this.free.push(id);
      if (this.inFlightCount === 0) this.wakeIdle();
    } else if (type === PACKET.connack) {
      const { reason, receiveMaximum } = readConnack(buf.subarray(start, end));
      if (reason !== 0) {
        this.connackWaiter?.reject(new Error(`gateway ${this.gatewayId}: the broker refused the connection (CONNACK reason 0x${reason.toString(16)})`));
        return;
      }
      // Never more unacknowledged QoS 1 publishes than the server's Receive Maximum [MQTT-3.3.4-7].
      this.window = Math.min(this.opts.maxInFlight ?? 100, receiveMaximum);
      this.free = Array.from({ length: this.window }, (_, k) => this.window - k);
      this.connackWaiter?.resolve();
      this.connackWaiter = null;
    } else if (type === PACKET.disconnect) {
      this.fail(new Error(`gateway ${this.gatewayId}: the broker disconnected (reason 0x${(end > start ? buf[start]! : 0).toString(16)})`));
    } else if (type !== PACKET.pingresp) {
      this.fail(new Error(`gateway ${this.gatewayId}: unexpected packet type ${type} from the broker`));
    }
  };

  /** Resolves when nothing waits for a PUBACK or a packet id (or the connection is gone: see `failure`). */
  whenIdle(): Promise<void> {
    if ((this.inFlightCount === 0 && this.queued === 0) || this.socket?.destroyed) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private wakeIdle(): void {
    if (this.queued > 0 && !this.socket?.destroyed) return;
    for (const r of this.idleWaiters.splice(0)) r();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.connackWaiter?.reject(err);
    this.connackWaiter = null;
  }
}
