import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { decodeMqttMessage, parseTopic, type DecodeLimits, type DeviceRef, type Rejection } from '../../contract/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { deadLetterMessage } from '../mqtt/dead-letter.js';
import { ensureJetStream, type JetStreamLayout } from './jetstream-setup.js';
import { createNatsMetrics, type NatsMetrics } from './nats-metrics.js';
import { PartitionConsumer } from './partition-consumer.js';
import { leaseSafetyMs, PartitionLeases } from './partition-leases.js';
import { bucketKeyLister } from './bucket-keys.js';
import { StateHandOver, type DeviceStates } from './state-hand-over.js';
import { deadLetterSubject, DEVICE_STATE_BUCKET, LEASE_BUCKET, ownershipUnits, subjectDevice, subjectToTopic } from './subjects.js';

export interface NatsSourceOptions extends JetStreamLayout {
  /** One or more server URLs (a cluster's seeds). */
  servers: string[];
  username?: string;
  password?: string;
  /** PEM file of the CA that signed the server's certificate (tls:// with a private CA). */
  tlsCaFile?: string;
  workerId: string;
  leaseTtlMs: number;
  leaseRenewMs: number;
  limits: DecodeLimits;
  /** Told about every status message before it is acked. Must not throw or block. */
  onStatus?: (ref: DeviceRef, payload: Buffer) => void;
  /** Device state that moves with its partition (StateHandOver); without it a new owner starts its devices from nothing. */
  states?: DeviceStates;
  /** How often the changed devices' states are saved for hand-over. */
  stateSaveMs?: number;
}

/** A saved device state not written for this long is dropped from the bucket (a device gone for good). */
const DEVICE_STATE_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/**
 * The JetStream source (docs/scale-out.md): the same contract and decoder as the MQTT source,
 * the same rule (a message is acked only once its data is durable, or its dead letter stored),
 * for a fleet of workers that share the partitions of one stream. Each partition is read by
 * its lease owner only (PartitionLeases), so a device's samples all go through one worker.
 */
export class NatsSource {
  private nc: NatsConnection | null = null;
  private leaseNc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private leases: PartitionLeases | null = null;
  private readonly consumers = new Map<string, PartitionConsumer>();
  /** Each owned unit's lease validity (PartitionLeases): saves and acks happen only before it. */
  private readonly validity = new Map<string, () => number>();
  private handOver: StateHandOver | null = null;
  private stopping = false;
  private readonly natsMetrics: NatsMetrics;
  private isConnected = false;

  constructor(
    private readonly opts: NatsSourceOptions,
    private readonly pipeline: Pipeline,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.natsMetrics = createNatsMetrics(metrics.registry, { owned: () => this.consumers.size, inflight: () => this.inflight, connected: () => this.connected });
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get inflight(): number {
    let n = 0;
    for (const c of this.consumers.values()) n += c.pending;
    return n;
  }

  /** Units this worker owns now (partition numbers, `unmapped`). */
  get owned(): string[] {
    return this.leases?.owned ?? [];
  }

  get members(): string[] {
    return this.leases?.liveMembers ?? [];
  }

  async start(): Promise<void> {
    const nc = await this.connect(this.opts.workerId);
    this.nc = nc;
    this.isConnected = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.isConnected = false;
        if (s.type === 'reconnect') this.isConnected = true;
        if (s.type === 'disconnect' || s.type === 'reconnect') this.log.warn({ status: s.type, server: s.data }, 'NATS connection');
      }
    })();
    await this.setUp();
    this.js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    // Leases on a connection of their own: on the deliveries' one, a renewal waits behind up to
    // window × partitions messages in a burst, is answered late, and the leases lapse.
    this.leaseNc = await this.connect(`${this.opts.workerId}-leases`);
    const leaseJs = this.leaseNc.jetstream();
    const kv = await leaseJs.views.kv(LEASE_BUCKET, { ttl: this.opts.leaseTtlMs, history: 1, replicas: this.opts.replicas });
    // The bucket keeps the TTL it was made with; leases are timed by that one, whatever this
    // worker was configured with, or an owner could count on a lease the server already dropped.
    const ttlMs = (await kv.status()).ttl;
    if (ttlMs !== this.opts.leaseTtlMs) {
      if (this.opts.leaseRenewMs * 2 + leaseSafetyMs(ttlMs) >= ttlMs) throw new Error(`the lease bucket ${LEASE_BUCKET} has a TTL of ${ttlMs} ms (set when it was made), too short for PP_NATS_LEASE_RENEW_MS=${this.opts.leaseRenewMs}; use the bucket's TTL and a renew interval under (TTL - ${leaseSafetyMs(ttlMs)} ms) / 2, or delete the bucket while no worker runs (docs/scale-out.md)`);
      this.log.warn({ configured: this.opts.leaseTtlMs, bucket: ttlMs }, 'the lease bucket has another TTL than PP_NATS_LEASE_TTL_MS; using the bucket\'s');
    }
    if (this.opts.states) {
      const stateKv = await this.js.views.kv(DEVICE_STATE_BUCKET, { history: 1, replicas: this.opts.replicas, ttl: DEVICE_STATE_MAX_AGE_MS });
      this.handOver = new StateHandOver(stateKv, this.opts.states, this.log, bucketKeyLister(jsm, stateKv, DEVICE_STATE_BUCKET));
    }
    this.leases = new PartitionLeases(
      kv,
      { workerId: this.opts.workerId, units: ownershipUnits(this.opts.partitions), ttlMs, renewMs: this.opts.leaseRenewMs, safetyMs: leaseSafetyMs(ttlMs) },
      {
        acquired: (unit, validUntil) => this.startUnit(unit, validUntil),
        releasing: async (unit) => {
          await this.consumers.get(unit)?.drain(Date.now() + 5000);
          // Handed over cleanly: everything processed here is in the bucket for the next owner.
          await this.handOver?.saveUnit(unit, this.validUntil);
          // Kept when this worker stops: its stages write their last figures after intake stopped.
          if (!this.stopping) this.handOver?.forget(unit);
        },
        lost: (unit) => {
          this.consumers.get(unit)?.halt();
          if (this.consumers.delete(unit)) this.natsMetrics.ownershipChanges.inc({ change: 'released' });
          this.validity.delete(unit);
          this.handOver?.lost(unit);
        },
      },
      this.log,
      bucketKeyLister(await this.leaseNc.jetstreamManager(), kv, LEASE_BUCKET),
    );
    await this.leases.start();
    this.handOver?.start(this.opts.stateSaveMs ?? 15_000, () => [...this.consumers.keys()], this.validUntil);
    this.log.info({ worker: this.opts.workerId, owned: this.owned, members: this.members }, 'consuming JetStream partitions');
  }

  private connect(name: string): Promise<NatsConnection> {
    return connect({ servers: this.opts.servers, user: this.opts.username, pass: this.opts.password, name, ...(this.opts.tlsCaFile ? { tls: { caFile: this.opts.tlsCaFile } } : {}), maxReconnectAttempts: -1, reconnectTimeWait: 500 }).catch((err: Error) => {
      throw new Error(`cannot connect to NATS ${this.opts.servers.join(',')}: ${err.message}`, { cause: err });
    });
  }

  /** The streams and consumers (idempotent): at start, and again when a consumer has gone missing. */
  private async setUp(): Promise<void> {
    await ensureJetStream(await this.nc!.jetstreamManager(), this.opts);
  }

  private readonly validUntil = (unit: string): number => this.validity.get(unit)?.() ?? 0;

  /**
   * Alert transitions of this worker's devices: an alert opened or resolved (or acknowledged) is
   * saved for hand-over at once, and the message that caused it waits for that save (handle).
   */
  alertTransitions(transitions: readonly { type: string; alert: DeviceRef }[]): void {
    if (!this.handOver) return;
    for (const t of transitions) if (t.type !== 'updated') this.handOver.saveNow(t.alert, this.validUntil);
  }

  private async startUnit(unit: string, validUntil: () => number): Promise<void> {
    this.validity.set(unit, validUntil);
    // The devices' states as their last owner saved them, before any of their messages is read here.
    await this.handOver?.restore(unit);
    // Started beside the lease rounds (PartitionLeases.claim): the lease may have gone meanwhile.
    if (Date.now() >= validUntil()) {
      this.handOver?.lost(unit); // restored after the loss: dropped after the grace unless it comes back
      throw new Error('lease lost while the partition was starting');
    }
    const events = {
      acked: (u: string) => this.natsMetrics.acked.inc({ unit: u }),
      withheld: () => this.natsMetrics.withheld.inc(),
      ended: (u: string, reason: string) => this.leases?.giveUp(u, `partition consumer ended: ${reason}`),
    };
    const consumer = new PartitionConsumer(unit, validUntil, (subject, payload) => this.handle(subject, payload), events, this.log, { hold: () => this.pipeline.full, onFilling: () => this.pipeline.flushNow() });
    this.consumers.set(unit, consumer);
    this.natsMetrics.ownershipChanges.inc({ change: 'acquired' });
    try {
      await consumer.start(this.js!, this.opts.window);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      this.log.warn({ unit }, 'partition consumer missing; setting up the streams and consumers again');
      await this.setUp();
      await consumer.start(this.js!, this.opts.window);
    }
    if (Date.now() >= validUntil()) {
      consumer.halt();
      if (this.consumers.get(unit) === consumer) this.consumers.delete(unit);
    }
  }

  /** Resolves when the message may be acked: data durable, status passed on, or dead letter stored. */
  private async handle(subject: string, payload: Buffer): Promise<void> {
    const device = this.handOver ? subjectDevice(subject) : null;
    if (device) this.handOver!.touched(device.unit, device);
    await this.process(subject, payload);
    if (!device) return;
    // Completeness accounts the batch once it is durable, near the end of `process`: a save that
    // ran meanwhile has the analytics of it but not that, so the device is changed again.
    this.handOver!.touched(device.unit, device);
    await this.handOver!.settled(device);
  }

  private async process(subject: string, payload: Buffer): Promise<void> {
    const topic = subjectToTopic(subject);
    if (!topic.endsWith('/metrics')) {
      const parsed = parseTopic(topic);
      if (parsed.ok && parsed.kind === 'status') {
        try {
          this.opts.onStatus?.(parsed.ref, payload);
        } catch (err) {
          this.log.error({ err }, 'status listener failed');
        }
        return;
      }
      if (parsed.ok) return; // our own kinds (alerts) are not consumed here
    }
    const result = decodeMqttMessage(topic, payload, this.opts.limits);
    this.pipeline.account('nats', result);
    const work: Promise<unknown>[] = [];
    if (result.batch && result.batch.samples.length > 0) work.push(this.pipeline.ingest('nats', result.batch));
    if (result.rejections.length > 0) work.push(this.deadLetter(subject, topic, payload, result.rejections));
    try {
      await Promise.all(work);
    } catch (err) {
      // Storage refused the data for good (transient failures are retried or spooled): keep a
      // copy as a dead letter, then ack, so one poison message cannot block its partition.
      this.log.error({ err: (err as Error).message, topic }, 'message could not be stored; dead-lettering it');
      await this.deadLetter(subject, topic, payload, [{ code: 'PP_ERR_INTERNAL', path: '$', reason: `storage refused the data: ${(err as Error).message}` }]);
    }
  }

  /** Stored in the dead-letter stream (JetStream acknowledges the publish) before the original is acked. */
  private async deadLetter(subject: string, topic: string, payload: Buffer, rejections: Rejection[]): Promise<void> {
    if (!this.js) throw new Error('not connected');
    const msg = deadLetterMessage('', topic, payload, rejections, Date.now());
    await this.js.publish(deadLetterSubject(this.opts.deadLetterPrefix, subject), msg.payload);
    this.metrics.deadLetters.inc();
  }

  /** Hand every partition over (in-flight messages finished first, bounded) and disconnect. */
  async stop(): Promise<void> {
    if (!this.nc) return;
    this.stopping = true;
    this.handOver?.stop();
    await this.leases?.stop();
    await this.nc.drain().catch(() => undefined);
    await this.leaseNc?.drain().catch(() => undefined);
    this.nc = null;
    this.leaseNc = null;
    this.isConnected = false;
  }
}
