import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { deviceKey, deviceTopic, encodeStatus, GATEWAY_LINE, gatewayStatusTopic, isValidId, offlineStatus, onlineStatus, type DeviceRef, type Sample, type TelemetryPayload } from '../../src/contract/index.js';
import { Semaphore } from './semaphore.js';

/** Keep in step with package.json (a unit test checks). */
export const AGENT_VERSION = '0.1.0';

/** Sent with every status message this agent publishes (informational; the platform ignores it). */
export const AGENT_INFO = { agent: { version: AGENT_VERSION } };

/** MQTT's largest Receive Maximum: a 16-bit packet id space [MQTT-3.2.2.3.3]. */
const MAX_RECEIVE_MAXIMUM = 65_535;

export type ClientFactory = (brokerUrl: string, options: IClientOptions) => MqttClient;

export interface GatewayOptions {
  brokerUrl: string;
  /** Gateway id: the MQTT client id and the `{device}` level of the gateway status topic. */
  gatewayId: string;
  site: string;
  /** The devices behind this gateway (all in `site`): they get retained status messages. */
  devices: DeviceRef[];
  username?: string;
  password?: string;
  /** 5 (default) for Mosquitto/EMQX; 4 (MQTT 3.1.1) for the embedded aedes broker. */
  protocolVersion?: 4 | 5;
  /** MQTT clean start (default true). False keeps the broker session across reconnects. */
  clean?: boolean;
  /** MQTT 5 session expiry when `clean` is false, seconds (default 86 400). */
  sessionExpirySec?: number;
  /** Keep-alive, seconds (default 30): how soon the broker notices a dead connection and sends the will. */
  keepaliveSec?: number;
  /** Delay between reconnect attempts, ms (default 1000). */
  reconnectPeriodMs?: number;
  /** Most publishes waiting for PUBACK at once (default 100); lowered to the broker's Receive Maximum. */
  maxInFlight?: number;
  /** How long `stop()` waits for PUBACKs and the offline statuses, ms (default 10 000). */
  stopTimeoutMs?: number;
  logger?: Logger;
  /** Creates the MQTT client (default `mqtt.connect`); unit tests inject a fake. */
  createClient?: ClientFactory;
}

export interface PublisherStats {
  /** Telemetry messages handed to the connection (sent, or queued by MQTT.js while offline). */
  messagesPublished: number;
  samplesPublished: number;
  /** Telemetry messages the broker acknowledged (PUBACK). */
  messagesAcked: number;
  samplesAcked: number;
  /** Telemetry messages that failed (PUBACK with an error reason code, or stopped before PUBACK). */
  messagesFailed: number;
  /** Publishes waiting for PUBACK now, and the current window (min of maxInFlight and Receive Maximum). */
  inFlight: number;
  window: number;
  /** Publishes waiting for a free slot in the window. */
  queued: number;
  connected: boolean;
}

/** The broker URL without credentials, for messages and logs. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One gateway's MQTT connection. Publishes telemetry at QoS 1 with a per-device `seq` (+1 per
 * message, from 0), never more than the window of publishes waiting for PUBACK, and keeps the
 * retained statuses of `status.ts`: births on every connect, `offline` on a clean stop, the
 * last will on the gateway topic when the connection dies.
 */
export class GatewayPublisher {
  readonly client: MqttClient;
  readonly gatewayId: string;
  readonly site: string;
  messagesPublished = 0;
  samplesPublished = 0;
  messagesAcked = 0;
  samplesAcked = 0;
  messagesFailed = 0;
  private readonly seq = new Map<string, number>();
  private readonly window: Semaphore;
  private readonly maxInFlight: number;
  private readonly log: Logger | undefined;
  private births: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private started = false;
  /** Rejects every publish still waiting for PUBACK when `stop()` gives up on them. */
  private abort!: (err: Error) => void;
  private readonly aborted: Promise<never>;
  private abortError: Error | null = null;

  constructor(private readonly opts: GatewayOptions) {
    if (!isValidId(opts.gatewayId)) throw new Error(`gatewayId ${JSON.stringify(opts.gatewayId)} must match [A-Za-z0-9_-]{1,64}`);
    if (!isValidId(opts.site)) throw new Error(`site ${JSON.stringify(opts.site)} must match [A-Za-z0-9_-]{1,64}`);
    for (const d of opts.devices) this.checkRef(d);
    this.gatewayId = opts.gatewayId;
    this.site = opts.site;
    this.maxInFlight = opts.maxInFlight ?? 100;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1 || this.maxInFlight > MAX_RECEIVE_MAXIMUM) {
      throw new Error(`maxInFlight must be an integer from 1 to ${MAX_RECEIVE_MAXIMUM}, got ${this.maxInFlight}`);
    }
    this.window = new Semaphore(this.maxInFlight);
    this.log = opts.logger?.child({ component: 'gateway', gateway: opts.gatewayId });
    this.aborted = new Promise<never>((_, reject) => (this.abort = reject));
    this.aborted.catch(() => undefined);

    const v5 = (opts.protocolVersion ?? 5) === 5;
    const clean = opts.clean ?? true;
    const will = offlineStatus(opts.gatewayId, 'connection lost', undefined, AGENT_INFO);
    const create = opts.createClient ?? ((url, o) => mqtt.connect(url, o));
    this.client = create(opts.brokerUrl, {
      clientId: opts.gatewayId,
      username: opts.username,
      password: opts.password,
      protocolVersion: v5 ? 5 : 4,
      clean,
      // MQTT 5: without a Session Expiry Interval the session ends with the connection [MQTT-3.1.2-23].
      ...(v5 && !clean ? { properties: { sessionExpiryInterval: opts.sessionExpirySec ?? 86_400 } } : {}),
      keepalive: opts.keepaliveSec ?? 30,
      reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
      manualConnect: true,
      will: { topic: gatewayStatusTopic(opts.site, opts.gatewayId), payload: Buffer.from(encodeStatus(will)), qos: 1, retain: true },
    });
    this.client.on('connect', (connack) => {
      // MQTT 5: never more unacknowledged QoS 1 publishes than the server's Receive Maximum [MQTT-3.3.4-7].
      const receiveMaximum = connack.properties?.receiveMaximum ?? MAX_RECEIVE_MAXIMUM;
      this.window.setLimit(Math.max(1, Math.min(this.maxInFlight, receiveMaximum)));
      this.log?.info({ window: this.window.limit, sessionPresent: connack.sessionPresent }, 'connected');
      this.births = this.publishBirths();
    });
    this.client.on('offline', () => this.log?.warn({ inFlight: this.window.inUse }, 'connection lost; reconnecting'));
    this.client.on('error', (err) => this.log?.warn({ err: err.message }, 'mqtt error'));
  }

  /** Connect (rejects if the broker refuses or cannot be reached) and publish the births. */
  async connect(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.client.off('connect', onConnect);
        this.client.end(true); // no reconnect loop behind a failed start
        reject(new Error(`gateway ${this.gatewayId}: cannot connect to ${safeUrl(this.opts.brokerUrl)}: ${err.message}`));
      };
      const onConnect = () => {
        this.client.off('error', onError);
        resolve();
      };
      this.client.once('error', onError);
      this.client.once('connect', onConnect);
      this.started = true;
      this.client.connect();
    });
    await this.births;
  }

  get inFlight(): number {
    return this.window.inUse;
  }

  /** Publishes waiting for a slot in the window. */
  get queued(): number {
    return this.window.waiting;
  }

  /** Resolves when a publish would go out at once (the window has room). */
  whenReady(): Promise<void> {
    return this.window.whenAvailable();
  }

  stats(): PublisherStats {
    return {
      messagesPublished: this.messagesPublished,
      samplesPublished: this.samplesPublished,
      messagesAcked: this.messagesAcked,
      samplesAcked: this.samplesAcked,
      messagesFailed: this.messagesFailed,
      inFlight: this.window.inUse,
      window: this.window.limit,
      queued: this.window.waiting,
      connected: this.client.connected,
    };
  }

  /**
   * Publish one batch for one device at QoS 1; resolves with its `seq` on PUBACK. Waits while the
   * window is full. Invalid input is rejected before any side effect (no seq is used up).
   */
  async publish(ref: DeviceRef, samples: Sample[]): Promise<number> {
    this.checkRef(ref);
    if (samples.length === 0) throw new Error(`publish ${deviceKey(ref)}: no samples`);
    if (this.stopping) throw new Error(`gateway ${this.gatewayId} is stopped`);
    const payload: TelemetryPayload = { seq: this.nextSeq(ref), samples };
    const body = JSON.stringify(payload);
    await this.window.acquire();
    try {
      if (this.abortError) throw this.abortError; // queued behind the window when stop() gave up
      this.messagesPublished++;
      this.samplesPublished += samples.length;
      await Promise.race([this.client.publishAsync(deviceTopic(ref, 'metrics'), body, { qos: 1 }), this.aborted]);
      this.messagesAcked++;
      this.samplesAcked += samples.length;
      return payload.seq;
    } catch (err) {
      this.messagesFailed++;
      throw new Error(`publish ${deviceKey(ref)} seq ${payload.seq}: ${(err as Error).message}`, { cause: err });
    } finally {
      this.window.release();
    }
  }

  /**
   * Clean stop: wait (bounded) for outstanding PUBACKs, publish the retained `offline` statuses,
   * then DISCONNECT normally so the broker discards the will. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (!this.started) return; // never connected: nothing to drain or close
    const timeoutMs = this.opts.stopTimeoutMs ?? 10_000;
    if ((await withTimeout(this.window.whenIdle(), timeoutMs)) === 'timeout') {
      this.log?.warn({ inFlight: this.window.inUse, queued: this.window.waiting }, 'stop: gave up waiting for PUBACKs');
    }
    if (this.client.connected) {
      const offline = encodeStatus(offlineStatus(this.gatewayId, 'stopped', Date.now(), AGENT_INFO));
      const topics = [...this.opts.devices.map((d) => deviceTopic(d, 'status')), gatewayStatusTopic(this.site, this.gatewayId)];
      const sent = Promise.all(topics.map((t) => this.publishStatus(t, offline)));
      const r = await withTimeout(sent, timeoutMs).catch((err: Error) => this.log?.warn({ err: err.message }, 'stop: offline status not delivered'));
      if (r === 'timeout') this.log?.warn('stop: offline statuses not acknowledged in time');
    }
    // A normal DISCONNECT makes the broker discard the will [MQTT-3.1.2-10]. MQTT.js would wait
    // forever for missing PUBACKs first, so with some still missing the connection is dropped
    // instead, and the broker publishes the will: the gateway did leave data behind.
    const clean = this.client.connected && this.window.inUse === 0;
    if (!clean && this.client.connected) this.log?.warn({ inFlight: this.window.inUse }, 'stop: closing without DISCONNECT (unacknowledged publishes)');
    if ((await withTimeout(this.client.endAsync(!clean), timeoutMs)) === 'timeout') this.client.stream?.destroy();
    // Whatever is still waiting now will never be acknowledged: fail it rather than hang its caller.
    this.abortError = new Error('gateway stopped before PUBACK');
    this.abort(this.abortError);
    this.log?.info(this.stats(), 'stopped');
  }

  private async publishBirths(): Promise<void> {
    const ts = Date.now();
    const gateway = encodeStatus(onlineStatus(this.gatewayId, ts, this.opts.devices, AGENT_INFO));
    const device = encodeStatus(onlineStatus(this.gatewayId, ts, undefined, AGENT_INFO));
    try {
      await this.publishStatus(gatewayStatusTopic(this.site, this.gatewayId), gateway);
      await Promise.all(this.opts.devices.map((d) => this.publishStatus(deviceTopic(d, 'status'), device)));
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'birth not delivered (sent again on the next connect)');
    }
  }

  /** Retained QoS 1 status, ahead of queued telemetry but inside the window. */
  private async publishStatus(topic: string, body: string): Promise<void> {
    await this.window.acquire(true);
    try {
      if (this.abortError) throw this.abortError;
      await Promise.race([this.client.publishAsync(topic, body, { qos: 1, retain: true }), this.aborted]);
    } finally {
      this.window.release();
    }
  }

  private checkRef(ref: DeviceRef): void {
    if (!isValidId(ref.site) || !isValidId(ref.line) || !isValidId(ref.device)) {
      throw new Error(`device ${JSON.stringify(ref)}: ids must match [A-Za-z0-9_-]{1,64}`);
    }
    if (ref.site !== this.opts.site) throw new Error(`device ${deviceKey(ref)} is not in site ${this.opts.site} of gateway ${this.opts.gatewayId}`);
    if (ref.line === GATEWAY_LINE) throw new Error(`device ${deviceKey(ref)}: line id ${GATEWAY_LINE} is reserved for gateway status`);
  }

  /** Next seq for a device (the first message carries 0). */
  private nextSeq(ref: DeviceRef): number {
    const key = deviceKey(ref);
    const seq = this.seq.get(key) ?? 0;
    this.seq.set(key, seq + 1);
    return seq;
  }
}
