import { parseStatus, type DecodeResult, type DeviceRef, type ParsedStatus, type TelemetryBatch } from '../contract/index.js';
import type { IngestSource, Logger, Metrics } from '../observability/index.js';
import type { Point } from '../storage/point.js';
import { PromiseWaiter, type WriteWaiter } from '../storage/write-waiter.js';
import { telemetryPoints } from './to-points.js';

/** What the pipeline needs from storage: resolve only once the points are durable. */
export interface DurableWriter {
  write(points: Point[]): Promise<void>;
  /**
   * The same without a promise (BatchWriter's): `waiter.written()` once durable. Optional: a
   * writer without it is waited on through `write`'s promise.
   */
  writeThen?(points: Point[], waiter: WriteWaiter): void;
  /** True when storage and spool cannot keep up: sources must slow down. */
  readonly saturated: boolean;
  /** True when enough is queued to keep storage busy: sources that can wait should (MQTT stops reading). */
  readonly full?: boolean;
  /** Write what is buffered now, without waiting to fill a batch. */
  flushNow?(): void;
}

/**
 * The runner between sources and sinks (docs/architecture.md, "The data flow"). Sources hand it decoded batches;
 * it counts, runs analytics on the batch and hands telemetry and derived points to storage, and its promise
 * resolves only when the batch is durable, which is when sources acknowledge (MQTT PUBACK,
 * HTTP 2xx). Sources never know about sinks.
 */
/**
 * The analytics stage as the pipeline needs it: derived points for a batch, and status news
 * (a device or gateway announced `offline`: its silence alert opens now) (see analytics-stage.ts).
 */
export interface BatchAnalytics {
  process(batch: TelemetryBatch): readonly Point[];
  status?(status: ParsedStatus): void;
}

/** Told about every batch once it is durable (e.g. the live hub). Must not throw or block. */
export type StoredListener = (batch: TelemetryBatch) => void;

/**
 * Told about every status message, parsed (null: not a status message). `retained`: replayed by
 * the broker on (re)subscription, so it is history, not news. Must not throw or block.
 */
export type StatusListener = (status: ParsedStatus | null, retained: boolean) => void;

/** What `ingest` returns for an empty batch: nothing to wait for. */
const NOTHING_TO_STORE = Promise.resolve();
const NO_POINTS: readonly Point[] = Object.freeze([]);

/** One ingested batch waiting for its write: counted and told to the listeners once durable, then its waiter. */
class StoredWrite implements WriteWaiter {
  constructor(
    private readonly pipeline: Pipeline,
    private readonly source: IngestSource,
    private readonly batch: TelemetryBatch,
    private readonly waiter: WriteWaiter,
  ) {}

  written(err?: Error): void {
    if (err === undefined) this.pipeline.stored(this.source, this.batch);
    this.waiter.written(err);
  }
}

export class Pipeline {
  private readonly storedListeners: StoredListener[] = [];
  private readonly statusListeners: StatusListener[] = [];

  constructor(
    private readonly writer: DurableWriter,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly analytics: BatchAnalytics | null = null,
  ) {}

  /** Count what a decoder said about one message (accepted, rejected, unknown metrics). */
  account(source: IngestSource, result: DecodeResult): void {
    this.metrics.messagesReceived.add(source);
    if (result.batch === null) {
      for (const r of result.rejections) this.metrics.messagesRejected.inc({ source, reason: r.code });
      return;
    }
    for (const r of result.rejections) this.metrics.samplesRejected.inc({ source, reason: r.code });
    if (result.unknownMetrics.length > 0) this.metrics.unknownMetrics.add(source);
  }

  /** Sources that can refuse work (HTTP) check this first; MQTT slows down through its acks. */
  get saturated(): boolean {
    return this.writer.saturated;
  }

  /** MQTT sources stop reading while this is true (more queued would only use memory). */
  get full(): boolean {
    return this.writer.saturated || (this.writer.full ?? false);
  }

  /** A source stopped reading (its window is full): nothing more comes to fill the batch, so write it now. */
  flushNow(): void {
    this.writer.flushNow?.();
  }

  throttled(): void {
    this.metrics.ingestThrottled.inc();
  }

  /** Call `listener` with each batch once it is durable: what listeners show is what storage holds. */
  onStored(listener: StoredListener): void {
    this.storedListeners.push(listener);
  }

  /** Call `listener` with each status message (e.g. data completeness, which tracks gateways). */
  onStatus(listener: StatusListener): void {
    this.statusListeners.push(listener);
  }

  /**
   * A status message from a source (`pp/v1/.../status`, as gateways and the Sparkplug host
   * publish them), parsed once through the contract for every stage that follows device state.
   */
  status(ref: DeviceRef, payload: Buffer, retained: boolean): void {
    const status = parseStatus(ref, payload);
    this.tell(this.statusListeners, 'status listener', status, retained);
    // A death opens the device's silence alert now; a retained status is not news.
    if (status && !retained) this.analytics?.status?.(status);
  }

  /** Store a validated batch; resolves when durable (the listeners have heard it by then). */
  ingest(source: IngestSource, batch: TelemetryBatch): Promise<void> {
    if (batch.samples.length === 0) return NOTHING_TO_STORE;
    return new Promise<void>((resolve, reject) => this.ingestThen(source, batch, new PromiseWaiter(resolve, reject)));
  }

  /**
   * `ingest` without a promise: `waiter.written()` once the batch is durable and the listeners
   * have heard it, `written(err)` if storage refused it (or threw). Always in a later microtask.
   * For sources that ingest once per message (MQTT): one small object per message here instead of
   * two promises and a closure between source, pipeline and writer.
   */
  ingestThen(source: IngestSource, batch: TelemetryBatch, waiter: WriteWaiter): void {
    const n = batch.samples.length;
    if (n === 0) return queueMicrotask(() => waiter.written());
    this.metrics.samplesReceived.add(source, n);
    const stored = new StoredWrite(this, source, batch, waiter);
    try {
      const points = this.points(batch);
      if (this.writer.writeThen) this.writer.writeThen(points, stored);
      else this.writer.write(points).then(() => stored.written(), (err: Error) => stored.written(err));
    } catch (err) {
      // A writer that throws (a point it cannot write, a closed writer) refuses the batch, as before.
      queueMicrotask(() => waiter.written(err as Error));
    }
  }

  /** The batch is durable: count it and tell the listeners (before the source acknowledges it). */
  stored(source: IngestSource, batch: TelemetryBatch): void {
    const n = batch.samples.length;
    this.metrics.samplesStored.add(source, n);
    this.tell(this.storedListeners, 'stored-batch listener', batch, undefined);
    // Guarded: the object would be built for every message even with trace logging off.
    if (this.log.isLevelEnabled('trace')) this.log.trace({ site: batch.site, line: batch.line, device: batch.device, samples: n }, 'batch stored');
  }

  /**
   * The batch's points for storage. Analytics runs synchronously here, in arrival order (a
   * device's batches arrive in order), not after the write, whose completions may interleave. Its
   * energy points travel with the batch, so they are durable when the batch is acknowledged. A
   * replay of the same batch (redelivery after a failed write) is harmless: detectors and energy
   * windows skip samples not newer than what they have seen, and alerts are idempotent by event
   * time.
   *
   * The points are garbage once the writer has turned them into line protocol: what waits for the
   * write (StoredWrite) holds only the batch, not them, for as long as the window holds the message.
   */
  private points(batch: TelemetryBatch): Point[] {
    const derived = this.analytics?.process(batch) ?? NO_POINTS;
    const points = telemetryPoints(batch);
    return derived.length > 0 ? points.concat(derived) : points;
  }

  /** Two arguments at most, not a rest parameter: that was an array per stored message. */
  private tell<A, B>(listeners: readonly ((a: A, b: B) => void)[], what: string, a: A, b: B): void {
    for (const listen of listeners) {
      try {
        listen(a, b);
      } catch (err) {
        // A listener's failure must never fail ingest: the batch is durable and will be acknowledged.
        this.log.error({ err }, `${what} failed`);
      }
    }
  }
}
