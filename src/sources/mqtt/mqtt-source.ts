import mqtt, { type IClientOptions, type MqttClient, type IPublishPacket } from 'mqtt';
import { decodeMqttMessage, parseTopic, TOPIC_PREFIX, type DecodeLimits, type DeviceRef } from '../../contract/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { Backoff } from '../../retry/index.js';
import { deadLetterMessage } from './dead-letter.js';
import { OrderedAcks, type AckEntry } from './ordered-acks.js';

export interface MqttSourceOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** Subscribe through `$share/{group}/...` (MQTT 5 shared subscription). */
  sharedGroup?: string;
  receiveMaximum: number;
  sessionExpirySeconds: number;
  deadLetterPrefix: string;
  limits: DecodeLimits;
  /** 5 for real brokers; the embedded aedes broker speaks 3.1.1 (4). */
  protocolVersion?: 4 | 5;
  /** Told about every status message (`.../status`, device and gateway topics) before it is acked. Must not throw or block. */
  onStatus?: (ref: DeviceRef, payload: Buffer, retained: boolean) => void;
}

/** Everything gateways publish under pp/v1, so that mis-addressed messages are dead-lettered too. */
export const SUBSCRIPTION = `${TOPIC_PREFIX}/#`;

type SendPacket = (packet: { cmd: string; messageId?: number; reasonCode?: number }, cb?: () => void) => void;

/**
 * Consumes telemetry from the broker and acknowledges each message only when its data is
 * durable (or, for a rejected message, once its dead letter is with the broker).
 *
 * Why the PUBACK interception: MQTT.js processes incoming packets one at a time and sends the
 * PUBACK when `handleMessage` calls back, so holding the ack there would also hold every later
 * message: one write latency per message. Instead we let MQTT.js move on at once, swallow the
 * PUBACK it would send, and send our own through `OrderedAcks` once the batch is durable. The
 * broker keeps up to receive-maximum messages in flight, which bounds memory and is the
 * backpressure: when storage stalls, acks stop, and the broker stops sending.
 */
export class MqttSource {
  private client: MqttClient | null = null;
  private sendPacket: SendPacket | null = null;
  private readonly acks: OrderedAcks;
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
    this.acks = new OrderedAcks((messageId) => this.sendPacket?.({ cmd: 'puback', messageId, reasonCode: 0 }));
    this.metrics.probes.mqttInflight = () => this.acks.size;
  }

  /** The connection, for the platform's own publications (alerts); null before start. */
  get publisher(): MqttClient | null {
    return this.client;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get inflight(): number {
    return this.acks.size;
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
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    const internal = client as unknown as { _sendPacket: SendPacket };
    const original = internal._sendPacket.bind(client);
    this.sendPacket = original;
    internal._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback') return cb?.(); // ours are sent by OrderedAcks
      return (original as (...a: unknown[]) => void)(packet, cb, ...rest);
    };

    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('connect', (connack) => {
      this.reconnectBackoff.reset();
      this.metrics.mqttConnected.set(1);
      this.log.info({ url: this.opts.url, sessionPresent: connack.sessionPresent }, 'connected to broker');
    });
    client.on('close', () => {
      this.metrics.mqttConnected.set(0);
      this.acks.reset();
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
    if (this.stopping) return; // not acked: the broker redelivers to us or a peer
    const entry: AckEntry | null = packet.qos > 0 && packet.messageId !== undefined ? this.acks.add(packet.messageId) : null;
    const done = () => entry && this.acks.markReady(entry);

    // The decoder parses and validates the topic; only other topics are looked at here, so the
    // hot path (…/metrics) parses it once.
    if (!topic.endsWith('/metrics')) {
      const parsed = parseTopic(topic);
      if (parsed.ok) {
        if (parsed.kind === 'status') this.onStatus(parsed.ref, payload, packet.retain);
        done(); // status is consumed by later stages; alerts are our own
        return;
      }
    }
    const result = decodeMqttMessage(topic, payload, this.opts.limits);
    const topicRejected = result.batch === null && result.rejections[0]?.code === 'PP_ERR_INVALID_TOPIC';
    this.pipeline.account('mqtt', result);
    const work: Promise<unknown>[] = [];
    if (result.batch && result.batch.samples.length > 0) work.push(this.pipeline.ingest('mqtt', result.batch));
    if (result.rejections.length > 0) work.push(this.deadLetter(topicRejected ? '_invalid-topic' : topic, payload, result.rejections));
    Promise.all(work).then(done, (err: Error) => {
      // Storage refused the data for good (not a transient failure, those are retried): keep a
      // copy in the dead-letter topic, then ack so one poison message cannot block the rest.
      this.log.error({ err: err.message, topic }, 'message could not be stored; dead-lettering it');
      this.deadLetter(topic, payload, [{ code: 'PP_ERR_INTERNAL', path: '$', reason: `storage refused the data: ${err.message}` }]).then(done, (e: Error) =>
        this.log.error({ err: e.message, topic }, 'dead-letter publish failed; message left unacknowledged for redelivery'),
      );
    });
  }

  private onStatus(ref: DeviceRef, payload: Buffer, retained: boolean): void {
    try {
      this.opts.onStatus?.(ref, payload, retained);
    } catch (err) {
      this.log.error({ err }, 'status listener failed');
    }
  }

  private async deadLetter(topic: string, payload: Buffer, rejections: Parameters<typeof deadLetterMessage>[3]): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('not connected');
    const msg = deadLetterMessage(this.opts.deadLetterPrefix, topic, payload, rejections, Date.now());
    await client.publishAsync(msg.topic, msg.payload, { qos: 1 });
    this.metrics.deadLetters.inc();
  }

  /** Stop taking messages, wait for in-flight ones to be acked (bounded), then disconnect. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.client) return;
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const drained = await this.acks.drained(timeoutMs);
    if (!drained) this.log.warn({ pending: this.acks.size }, 'stopping with unacknowledged messages; the broker will redeliver them');
    await this.client.endAsync();
    this.client = null;
  }
}
