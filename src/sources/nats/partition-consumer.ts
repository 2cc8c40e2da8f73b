import { ConsumerEvents, type ConsumerMessages, type JetStreamClient, type JsMsg } from 'nats';
import type { Logger } from '../../observability/index.js';
import { consumerName, TELEMETRY_STREAM } from './subjects.js';

const HOLD_POLL_MS = 50;
const PULL_EXPIRES_MS = 5000;

/**
 * Flow control shared with the MQTT source's window (src/sources/mqtt/ack-window.ts): `hold` is
 * true while enough is queued for storage (more would only use memory); `onFilling` asks the
 * writer to write what it has now, when half the window is in flight or reading stops, since
 * nothing more may come to fill its batch.
 */
export interface ConsumerFlow {
  hold(): boolean;
  onFilling(): void;
}

/** Resolves once the message may be acked (its data durable, or its dead letter stored); rejects to have it redelivered. */
export type HandleMessage = (subject: string, payload: Buffer) => Promise<void>;

export interface UnitEvents {
  acked(unit: string): void;
  /** Settled after the lease ran out: left for the next owner (JetStream redelivers it after ack_wait). */
  withheld(unit: string): void;
  /** Reading stopped by itself (the consumer was deleted, the client gave up): the unit must be given up. */
  ended(unit: string, reason: string): void;
}

/**
 * Reads one owned unit (a partition's durable consumer) and acks each message only once
 * `handle` says it is safe, and only while the lease is valid: after it lapses nothing more is
 * acked, so the next owner (which may start once the lease expired at the server) gets every
 * message this one did not finish. JetStream keeps at most max_ack_pending (the window)
 * delivered and unacked, which bounds what is in flight here; while `flow.hold` says enough is
 * queued for storage, delivered messages wait before the pipeline, in order.
 */
export class PartitionConsumer {
  private messages: ConsumerMessages | null = null;
  private active = true;
  /** False once we stopped reading on purpose (halt, drain). */
  private reading = true;
  private inflight = 0;
  private loop: Promise<void> | null = null;
  private half = 1;

  constructor(
    readonly unit: string,
    private readonly validUntil: () => number,
    private readonly handle: HandleMessage,
    private readonly events: UnitEvents,
    private readonly log: Logger,
    private readonly flow: ConsumerFlow = { hold: () => false, onFilling: () => undefined },
  ) {}

  get pending(): number {
    return this.inflight;
  }

  async start(js: JetStreamClient, window: number): Promise<void> {
    this.half = Math.max(1, Math.floor(window / 2));
    const consumer = await js.consumers.get(TELEMETRY_STREAM, consumerName(this.unit));
    // Pull requests expire after 5 s (heartbeats every 2.5 s): when the consumer's leader moves
    // (a cluster node lost), the client notices two missed heartbeats and pulls again from the
    // new leader within about 5 s, instead of after the default 30 s.
    const messages = await consumer.consume({ max_messages: window, expires: PULL_EXPIRES_MS });
    this.messages = messages;
    // The client keeps retrying a consumer that was deleted under it; give the unit up instead,
    // so that it is claimed again and its consumer made again (NatsSource.startUnit).
    void (async () => {
      for await (const status of await messages.status()) {
        if (status.type === ConsumerEvents.ConsumerDeleted || status.type === ConsumerEvents.ConsumerNotFound) {
          this.onEnded(status.type);
          this.halt();
        }
      }
    })().catch(() => undefined);
    this.loop = (async () => {
      for await (const msg of messages) {
        // Storage cannot keep up: take nothing more into the pipeline until it can. What is
        // delivered meanwhile waits here, at most the window (JetStream sends no more unacked).
        if (this.active && this.flow.hold()) {
          this.flow.onFilling(); // nothing more comes to fill the batch: write what is queued now
          while (this.active && this.flow.hold()) await new Promise((r) => setTimeout(r, HOLD_POLL_MS));
        }
        if (!this.active) break;
        this.onMessage(msg);
      }
    })().then(
      () => this.onEnded('consumer stopped delivering'),
      (err: Error) => this.onEnded(err.message),
    );
  }

  /** The loop ended: expected after halt or drain, else the unit must be given up. */
  private onEnded(reason: string): void {
    if (!this.reading) return;
    this.reading = false;
    this.events.ended(this.unit, reason);
  }

  private onMessage(msg: JsMsg): void {
    this.inflight++;
    if (this.inflight === this.half) this.flow.onFilling();
    const payload = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    this.handle(msg.subject, payload).then(
      () => {
        this.inflight--;
        if (this.active && Date.now() < this.validUntil()) {
          msg.ack();
          this.events.acked(this.unit);
        } else this.events.withheld(this.unit);
      },
      (err: Error) => {
        this.inflight--;
        this.log.error({ unit: this.unit, subject: msg.subject, err: err.message }, 'message neither stored nor dead-lettered; it will be redelivered');
        if (this.active && Date.now() < this.validUntil()) msg.nak(1000);
      },
    );
  }

  /** Lease lost: stop at once, ack nothing more. */
  halt(): void {
    this.reading = false;
    this.active = false;
    this.messages?.stop();
  }

  /** Hand-over: stop reading, let in-flight messages finish (until `deadline`), then halt. */
  async drain(deadline: number): Promise<void> {
    this.reading = false;
    this.messages?.stop();
    while (this.inflight > 0 && Date.now() < Math.min(deadline, this.validUntil())) await new Promise((r) => setTimeout(r, 20));
    this.halt();
    await this.loop;
  }
}
