import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { deadLetterMessage } from '../mqtt/dead-letter.js';
import { connectWithAckWindow, type AckWindow } from '../mqtt/ack-window.js';
import { DeviceStatusRegistry } from './device-status-registry.js';
import { SparkplugHost, type SparkplugHostOptions } from './host-application.js';
import { hostStateMessage } from './host-state.js';
import { createSparkplugMetrics, type SparkplugMetrics } from './sparkplug-metrics.js';
import { SPARKPLUG_NAMESPACE } from './topic.js';

export interface SparkplugSourceOptions extends SparkplugHostOptions {
  url: string;
  username?: string;
  password?: string;
  /** Its own client id: the MQTT source's session and this one's must not replace each other. */
  clientId: string;
  protocolVersion: 4 | 5;
  sessionExpirySeconds: number;
  receiveMaximum: number;
  /** Payload bytes held at most (undefined: no byte limit), as for the MQTT source. */
  windowBytes?: number;
  /** Group ids to subscribe to; empty: every group (`spBv1.0/#`). */
  groups: readonly string[];
  /** Act as the Sparkplug primary host application with this id (publish STATE). */
  hostId?: string;
  deadLetterPrefix: string;
}

/**
 * Consumes Sparkplug B from the broker with its own MQTT client (persistent session) and feeds
 * the host application, whose batches go through the same pipeline as MQTT and HTTP.
 *
 * Delivery: Sparkplug publishes data, births and DDEATH at QoS 0, so there is nothing to
 * acknowledge and the broker neither queues them while we are away nor resends what a dropped
 * connection lost: at most once. What does arrive at QoS 1 (NDEATH wills; gateways configured for
 * QoS 1) is acknowledged only once everything it caused is durable, exactly as the MQTT source
 * does (the same AckWindow), so the broker redelivers it otherwise. The window counts QoS 0
 * messages too: they hold memory until processed, and the broker does not limit them at all.
 */
export class SparkplugSource {
  readonly registry = new DeviceStatusRegistry();
  private readonly counters: SparkplugMetrics;
  private readonly host: SparkplugHost;
  private acks: AckWindow | null = null;
  private client: MqttClient | null = null;
  private stopping = false;
  private subscribed = false;
  /** The STATE timestamp of this client's life: birth and will carry the same one (spec). */
  private readonly stateTimestamp = Date.now();

  constructor(
    private readonly opts: SparkplugSourceOptions,
    private readonly pipeline: Pipeline,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.counters = createSparkplugMetrics(metrics.registry, this.registry);
    this.host = new SparkplugHost(
      opts,
      {
        ingest: (batch) => pipeline.ingest('sparkplug', batch),
        account: (result) => pipeline.account('sparkplug', result),
        publish: (topic, payload, o) => this.publish(topic, payload, o),
        deadLetter: async (topic, payload, rejections) => {
          const msg = deadLetterMessage(opts.deadLetterPrefix, topic, payload, rejections, Date.now());
          await this.publish(msg.topic, msg.payload, { qos: 1, retain: false });
          metrics.deadLetters.inc();
        },
      },
      this.counters,
      this.registry,
      log,
    );
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get inflight(): number {
    return this.acks?.size ?? 0;
  }

  get subscriptions(): string[] {
    return this.opts.groups.length === 0 ? [`${SPARKPLUG_NAMESPACE}/#`] : this.opts.groups.map((g) => `${SPARKPLUG_NAMESPACE}/${g}/#`);
  }

  async start(): Promise<void> {
    const v5 = this.opts.protocolVersion === 5;
    const state = this.opts.hostId ? hostStateMessage(this.opts.hostId, false, this.stateTimestamp) : null;
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      protocolVersion: v5 ? 5 : 4,
      clean: false, // persistent session: QoS 1 messages (NDEATH wills) wait for us while we are down
      // One client per platform: MQTT.js's fixed reconnect period is enough (no fleet to de-synchronise).
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: true,
      ...(state ? { will: { topic: state.topic, payload: Buffer.from(state.payload), qos: 1 as const, retain: true } } : {}),
      ...(v5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds, receiveMaximum: this.opts.receiveMaximum } } : {}),
    };
    const { client, acks } = connectWithAckWindow(this.opts.url, options, this.opts.receiveMaximum, 'sparkplug', this.metrics, this.log, this.pipeline, this.opts.windowBytes);
    this.client = client;
    this.acks = acks;

    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('connect', (connack) => {
      this.counters.connected.set(1);
      this.log.info({ url: this.opts.url, sessionPresent: connack.sessionPresent }, 'Sparkplug client connected');
      // On reconnects (the first connect publishes after subscribing, in start()).
      if (this.opts.hostId && this.subscribed) this.publishHostOnline().catch((err: Error) => this.log.warn({ err: err.message }, 'STATE not published'));
    });
    client.on('close', () => {
      this.counters.connected.set(0);
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'Sparkplug client error'));

    await new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        client.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        client.off('connect', onConnect);
        client.end(true);
        reject(new Error(`Sparkplug: cannot connect to MQTT broker ${this.opts.url}: ${err.message}`));
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
    // QoS 1: lets QoS 1 messages (NDEATH) keep their QoS; QoS 0 data stays QoS 0.
    const granted = await client.subscribeAsync(this.subscriptions, { qos: 1 });
    if (granted.some((g) => g.qos > 2)) throw new Error(`broker refused subscription to ${this.subscriptions.join(', ')}`);
    this.subscribed = true;
    this.log.info({ filters: this.subscriptions, hostId: this.opts.hostId }, 'Sparkplug subscribed');
    // The spec wants STATE online only after the subscription; the connect handler ran before it.
    if (this.opts.hostId) await this.publishHostOnline();
  }

  private async publishHostOnline(): Promise<void> {
    const state = hostStateMessage(this.opts.hostId!, true, this.stateTimestamp);
    await this.publish(state.topic, state.payload, { qos: 1, retain: true });
  }

  private async publish(topic: string, payload: string | Buffer, o: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const acks = this.acks;
    if (!acks) throw new Error('Sparkplug client not started');
    await acks.publishAwaited(topic, payload, o);
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.stopping || !this.acks) return; // QoS 1: not acked, the broker redelivers; QoS 0: gone (at most once)
    const acks = this.acks;
    const entry = acks.track(packet);
    const done = () => acks.release(entry);
    this.host.receive(topic, payload, Date.now()).then(done, (err: Error) => {
      // Storage refused the data for good (transient failures are retried below us): keep a copy
      // in the dead-letter topic, then ack, so one poison message cannot block the rest.
      this.log.error({ err: err.message, topic }, 'Sparkplug message could not be stored; dead-lettering it');
      const msg = deadLetterMessage(this.opts.deadLetterPrefix, topic, payload, [{ code: 'PP_ERR_INTERNAL', path: '$', reason: `storage refused the data: ${err.message}` }], Date.now());
      this.publish(msg.topic, msg.payload, { qos: 1, retain: false }).then(
        () => {
          this.metrics.deadLetters.inc();
          done();
        },
        (e: Error) => this.log.error({ err: e.message, topic }, 'dead-letter publish failed; message left unacknowledged'),
      );
    });
  }

  /** Stop taking messages, wait (bounded) for in-flight ones, say goodbye (STATE), disconnect. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.host.close();
    const drained = (await this.acks?.drained(timeoutMs)) ?? true;
    if (!drained) this.log.warn({ pending: this.inflight }, 'Sparkplug: stopping with unacknowledged messages; the broker will redeliver them');
    if (this.opts.hostId && client.connected) {
      const state = hostStateMessage(this.opts.hostId, false, this.stateTimestamp);
      await client.publishAsync(state.topic, state.payload, { qos: 1, retain: true }).catch(() => undefined);
    }
    await client.endAsync();
    this.client = null;
  }
}
