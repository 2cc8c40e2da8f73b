import type { IClientOptions, MqttClient, IPublishPacket } from 'mqtt';
import { decodeMqttMessage, parseTopic, TOPIC_PREFIX, type DecodeLimits, type DeviceRef } from '../../contract/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { Backoff } from '../../retry/index.js';
import { deadLetterMessage } from './dead-letter.js';
import type { WriteWaiter } from '../../storage/write-waiter.js';
import { connectWithAckWindow, type AckWindow } from './ack-window.js';
import type { AckEntry } from './ordered-acks.js';

export interface MqttSourceOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** Subscribe through `$share/{group}/...` (MQTT 5 shared subscription). */
  sharedGroup?: string;
  receiveMaximum: number;
  /** Payload bytes held at most (undefined: no byte limit): see AckWindowOptions.windowBytes. */
  windowBytes?: number;
  sessionExpirySeconds: number;
  deadLetterPrefix: string;
  limits: DecodeLimits;
  /** 5 for real brokers; the embedded aedes broker speaks 3.1.1 (4). */
  protocolVersion?: 4 | 5;
  /** Told about every status message (`.../status`, device and gateway topics) before it is acked. Must not throw or block. */
  onStatus?: (ref: DeviceRef, payload: Buffer, retained: boolean) => void;
}

/**
 * A valid message whose data is being written: acknowledged (released to the window) once it is
 * durable, dead-lettered if storage refuses it for good. What the message's closure and its two
 * promises were, as one object.
 */
class HeldMessage implements WriteWaiter {
  constructor(
    private readonly source: MqttSource,
    private readonly acks: AckWindow,
    private readonly entry: AckEntry,
    private readonly topic: string,
    private readonly payload: Buffer,
  ) {}

  written(err?: Error): void {
    if (err === undefined) this.acks.release(this.entry);
    else this.source.refused(this.topic, this.payload, err, () => this.acks.release(this.entry));
  }
}

/** Everything gateways publish under pp/v1, so that mis-addressed messages are dead-lettered too. */
export const SUBSCRIPTION = `${TOPIC_PREFIX}/#`;

/**
 * Consumes telemetry from the broker and acknowledges each message only when its data is
 * durable (or, for a rejected message, once its dead letter is with the broker).
 *
 * Acknowledgements and the window are AckWindow's (ack-window.ts): at most receive-maximum
 * messages are held, whatever the broker sends; beyond that the socket is no longer read. That
 * bounds memory and is the backpressure: when storage stalls, acks stop, and so does intake.
 */
export class MqttSource {
  private client: MqttClient | null = null;
  private acks: AckWindow | null = null;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  // Full jitter, so a fleet of instances does not reconnect in step.
  private readonly reconnectBackoff = new Backoff({ baseMs: 500, maxMs: 30_000, jitter: 'full' });

  constructor(
    private readonly opts: MqttSourceOptions,
    private readonly pipeline: Pipeline,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.metrics.probes.mqttInflight = () => this.inflight;
    this.metrics.probes.mqttInflightPeak = () => this.acks?.peak ?? 0;
  }

  /** The connection, for the platform's own publications (alerts); null before start. */
  get publisher(): MqttClient | null {
    return this.client;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get inflight(): number {
    return this.acks?.size ?? 0;
  }

  /** Connect and subscribe; resolves on the first successful subscription. */
  async start(): Promise<void> {
    const v5 = (this.opts.protocolVersion ?? 5) === 5;
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      protocolVersion: v5 ? 5 : 4,
      clean: false, // persistent session: the broker queues for us while we are down
      reconnectPeriod: 0, // we reconnect ourselves, with backoff and jitter
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: true,
      ...(v5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds, receiveMaximum: this.opts.receiveMaximum } } : {}),
    };
    const { client, acks } = connectWithAckWindow(this.opts.url, options, this.opts.receiveMaximum, 'mqtt', this.metrics, this.log, this.pipeline, this.opts.windowBytes);
    this.client = client;
    this.acks = acks;

    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('connect', (connack) => {
      this.reconnectBackoff.reset();
      this.metrics.mqttConnected.set(1);
      this.log.info({ url: this.opts.url, sessionPresent: connack.sessionPresent }, 'connected to broker');
    });
    client.on('close', () => {
      this.metrics.mqttConnected.set(0);
      this.scheduleReconnect();
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt error'));

    await new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        client.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        client.off('connect', onConnect);
        reject(new Error(`cannot connect to MQTT broker ${this.opts.url}: ${err.message}`));
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
    const filter = this.opts.sharedGroup ? `$share/${this.opts.sharedGroup}/${SUBSCRIPTION}` : SUBSCRIPTION;
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    if (granted.some((g) => g.qos > 2)) throw new Error(`broker refused subscription to ${filter}`);
    this.log.info({ filter }, 'subscribed');
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer) return;
    const delay = this.reconnectBackoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping && this.client && !this.client.connected) {
        this.log.info({ delay }, 'reconnecting to broker');
        this.client.reconnect();
      }
    }, delay);
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.stopping || !this.acks) return; // not acked: the broker redelivers to us or a peer
    const acks = this.acks;
    const entry = acks.track(packet);

    // The decoder parses and validates the topic; only other topics are looked at here, so the
    // hot path (…/metrics) parses it once.
    if (!topic.endsWith('/metrics')) {
      const parsed = parseTopic(topic);
      if (parsed.ok) {
        if (parsed.kind === 'status') this.onStatus(parsed.ref, payload, packet.retain);
        acks.release(entry); // status is consumed by later stages; alerts are our own
        return;
      }
    }
    const result = decodeMqttMessage(topic, payload, this.opts.limits);
    this.pipeline.account('mqtt', result);
    const batch = result.batch && result.batch.samples.length > 0 ? result.batch : null;
    if (result.rejections.length === 0) {
      // The usual message, valid and whole: one object waits for its write (no promise, no closure).
      if (batch) this.pipeline.ingestThen('mqtt', batch, new HeldMessage(this, acks, entry, topic, payload));
      else acks.release(entry);
      return;
    }
    // Something to dead-letter, with or without samples to store: rare, so promises.
    const topicRejected = result.batch === null && result.rejections[0]?.code === 'PP_ERR_INVALID_TOPIC';
    const dead = this.deadLetter(topicRejected ? '_invalid-topic' : topic, payload, result.rejections);
    const work = batch ? Promise.all([this.pipeline.ingest('mqtt', batch), dead]) : dead;
    const done = () => acks.release(entry);
    work.then(done, (err: Error) => this.refused(topic, payload, err, done));
  }

  /**
   * Storage refused the data for good (not a transient failure, those are retried): keep a copy
   * in the dead-letter topic, then ack so one poison message cannot block the rest. (Not private:
   * HeldMessage calls it.)
   */
  refused(topic: string, payload: Buffer, err: Error, done: () => void): void {
    this.log.error({ err: err.message, topic }, 'message could not be stored; dead-lettering it');
    this.deadLetter(topic, payload, [{ code: 'PP_ERR_INTERNAL', path: '$', reason: `storage refused the data: ${err.message}` }]).then(done, (e: Error) =>
      this.log.error({ err: e.message, topic }, 'dead-letter publish failed; message left unacknowledged for redelivery'),
    );
  }

  private onStatus(ref: DeviceRef, payload: Buffer, retained: boolean): void {
    try {
      this.opts.onStatus?.(ref, payload, retained);
    } catch (err) {
      this.log.error({ err }, 'status listener failed');
    }
  }

  private async deadLetter(topic: string, payload: Buffer, rejections: Parameters<typeof deadLetterMessage>[3]): Promise<void> {
    const acks = this.acks;
    if (!acks) throw new Error('not connected');
    const msg = deadLetterMessage(this.opts.deadLetterPrefix, topic, payload, rejections, Date.now());
    await acks.publishAwaited(msg.topic, msg.payload, { qos: 1 });
    this.metrics.deadLetters.inc();
  }

  /** Stop taking messages, wait for in-flight ones to be acked (bounded), then disconnect. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.client) return;
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const drained = (await this.acks?.drained(timeoutMs)) ?? true;
    if (!drained) this.log.warn({ pending: this.inflight }, 'stopping with unacknowledged messages; the broker will redeliver them');
    await this.client.endAsync();
    this.client = null;
  }
}
