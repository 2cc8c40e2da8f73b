import type { Logger } from 'pino';
import { retryDelayMs, type BackoffPolicy } from '../retry/index.js';
import { Fifo } from '../queue/fifo.js';
import { pointsToLineProtocol } from './line-protocol.js';
import type { Point } from './point.js';
import type { Sink } from './sink.js';
import { asSinkError, writeWithTimeout } from './sink-write.js';
import { Sleeper } from './sleeper.js';
import { writeSplittingRefusals } from './split-refused.js';
import { SpoolFullError, type Spool } from './spool.js';
import { SpoolReplayer } from './spool-replayer.js';
import { PromiseWaiter, type WriteWaiter } from './write-waiter.js';
import { observerNotify, type BatchWriterObserver, type Notify } from './writer-observer.js';

export type { BatchWriterObserver } from './writer-observer.js';

export interface BatchWriterOptions {
  /** Flush when this many lines are buffered... */
  maxBatchLines?: number;
  /**
   * ...or, while a write is in flight, once the oldest buffered line has waited this long: the
   * bound on a line's wait when storage is slow (then a free slot takes a partial batch).
   */
  flushIntervalMs?: number;
  /**
   * With no write in flight, a partial batch goes once its oldest line has waited this long
   * (default 0: at the end of the event-loop turn that buffered it, so the messages of one socket
   * read travel together). Group commit: lines that arrive during a write wait for it and go
   * together as the next batch, so batches grow with the rate and with storage's answer time, and
   * an idle writer adds no wait for a timer.
   */
  lingerMs?: number;
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Above this many buffered lines the writer reports itself saturated (see `saturated`). */
  maxPendingLines?: number;
  /**
   * From this many buffered lines on, the writer reports itself `full`: enough is queued to keep
   * storage busy, and sources that can simply wait (MQTT) stop reading. Default: four batches.
   */
  fullLines?: number;
  /**
   * ...or from this many bytes of line protocol buffered (default 16 MiB): lines are not all
   * alike (a sample with 50 metrics makes a line ten times as long as one with 5), so a bound in
   * lines alone would let wide samples hold ten times the memory.
   */
  fullBytes?: number;
  /**
   * Batches written to the sink at once (default 2). With one, the JavaScript thread idles while
   * InfluxDB parses and indexes a batch, and InfluxDB idles while the next one is built: the
   * platform stored a third of its closed-loop maximum under overload. InfluxDB alone takes most
   * with two writers (load-tests/bench/influx-writer.ts).
   */
  maxConcurrentWrites?: number;
  logger?: Logger;
  /**
   * Where batches go when the sink fails or is slow (then they count as durable once fsynced).
   * Without a spool, batches wait in memory and callers' promises stay pending.
   */
  spool?: Spool;
  /** A write slower than this is given up on and spooled (it may still land: writes are idempotent). */
  spoolAfterMs?: number;
  /** Replay rate from the spool, in lines per second, so a recovering InfluxDB is not flattened. */
  replayLinesPerSecond?: number;
  /** Where spooled lines that storage refuses for good are kept (one file, appended). */
  rejectedFile?: string;
  observer?: BatchWriterObserver;
}

interface Chunk {
  body: string;
  lines: number;
  /** body.length: line protocol is ASCII but for tag and field text, so about its bytes. */
  bytes: number;
  /** When it was accepted (ms, monotonic): the flush timer counts from the oldest chunk. */
  at: number;
  waiter: WriteWaiter;
}

/** What of one batch in flight is not settled yet. */
interface Flight {
  lines: number;
  bytes: number;
  /** How long its oldest line waited for the batch to start (ms). */
  waitedMs: number;
}

/**
 * The one place for batching and retries (docs/architecture.md, after Telegraf's running_output): sinks
 * stay thin. `write` resolves only when the sink acknowledged every point it was given, which
 * is what sources wait for before they acknowledge upstream (MQTT PUBACK, HTTP 2xx).
 *
 * - Batches hold whole `write` calls: up to `maxBatchLines`, or one call's points when a single
 *   call is larger (it is never split, so its promise has one outcome).
 * - Up to `maxConcurrentWrites` batches in flight, started in the order they were accepted; they
 *   may complete out of order. Writes are idempotent and carry their timestamps, so the
 *   interleaving does not change what is stored (except two different values for one series and
 *   timestamp, where the later write wins: with concurrent writes, "later" is the later answer).
 *   Sources acknowledge in their own order (MQTT: OrderedAcks), so this needs no ordering here.
 *   (With a spool, the replay of older spooled batches runs alongside in the same way.)
 * - Transient failures (network, 5xx, 429) are retried for ever, with exponential backoff, full
 *   jitter, and Retry-After honoured. Callers' promises stay pending meanwhile: that is the
 *   backpressure (MQTT acks are withheld, so the broker stops sending).
 * - Permanent failures (4xx) reject the promises of the refused lines' calls only: a batch refused
 *   for some of its lines (400, 413, 422) is split in halves until the calls at fault are found,
 *   and the others are stored (see split-refused.ts).
 * - Points are serialised at `write` time, so a bad point throws to its caller before anything
 *   is buffered.
 * - Observer callbacks are for statistics: one that throws is logged and ignored (it must not
 *   turn a delivered batch into a retry, i.e. a duplicate write, or into a failure).
 */
export class BatchWriter {
  private readonly maxBatchLines: number;
  private readonly flushIntervalMs: number;
  private readonly lingerMs: number;
  private readonly retry: BackoffPolicy;
  private readonly maxPendingLines: number;
  private readonly fullLines: number;
  private readonly fullBytes: number;
  private readonly maxConcurrentWrites: number;
  /** Accepted chunks not yet taken into a batch, oldest first. */
  private readonly queue = new Fifo<Chunk>();
  private queuedLines = 0;
  private inflightLines = 0;
  /** Bytes of line protocol accepted and not yet settled (queued + in flight). */
  private pendingBytesNow = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The drains in flight (at most maxConcurrentWrites). */
  private readonly flights = new Set<Promise<void>>();
  private closed = false;
  private saturationLogged = false;
  /** flushNow() was asked during a write: the next batch goes as soon as that write is done. */
  private urgent = false;
  /** The sink failed or was slow: new batches go to the spool until a write succeeds again. */
  private degraded = false;
  private spoolFullUntil = 0;
  private readonly spoolAfterMs: number;
  private readonly replayer: SpoolReplayer | undefined;
  private readonly sleeper = new Sleeper();
  private readonly notify: Notify;

  constructor(
    private readonly sink: Sink,
    private readonly opts: BatchWriterOptions = {},
  ) {
    this.maxBatchLines = opts.maxBatchLines ?? 5000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 200;
    this.lingerMs = opts.lingerMs ?? 0;
    if (!(this.lingerMs >= 0)) throw new Error(`lingerMs must be 0 or more, got ${opts.lingerMs}`);
    // Full jitter: a storage outage ends for every instance at once; they must not retry in step.
    this.retry = { baseMs: opts.initialRetryDelayMs ?? 100, maxMs: opts.maxRetryDelayMs ?? 30_000, jitter: 'full' };
    this.maxPendingLines = opts.maxPendingLines ?? 200_000;
    this.fullLines = opts.fullLines ?? 4 * this.maxBatchLines;
    this.fullBytes = opts.fullBytes ?? 16 * 2 ** 20;
    if (!(this.fullBytes > 0)) throw new Error(`fullBytes must be positive, got ${opts.fullBytes}`);
    this.spoolAfterMs = opts.spoolAfterMs ?? 5000;
    this.maxConcurrentWrites = opts.maxConcurrentWrites ?? 2;
    if (!Number.isInteger(this.maxConcurrentWrites) || this.maxConcurrentWrites < 1) throw new Error(`maxConcurrentWrites must be a positive integer, got ${opts.maxConcurrentWrites}`);
    this.notify = observerNotify(opts.observer, opts.logger);
    if (opts.spool) {
      this.replayer = new SpoolReplayer(sink, opts.spool, {
        spoolAfterMs: this.spoolAfterMs,
        replayLinesPerSecond: opts.replayLinesPerSecond ?? 50_000,
        retry: this.retry,
        rejectedFile: opts.rejectedFile,
        logger: opts.logger,
        notify: this.notify,
        sleeper: this.sleeper,
        onStorageUp: () => (this.degraded = false),
        onStorageDown: () => (this.degraded = true),
      });
      // Data left in the spool by an earlier run is replayed from the start.
      if (opts.spool.pending) this.replayer.start();
    }
  }

  /** Lines accepted and not yet acknowledged by the sink (buffered + in flight; not the spool's). */
  get pendingLines(): number {
    return this.queuedLines + this.inflightLines;
  }

  /** Bytes of line protocol accepted and not yet acknowledged by the sink (buffered + in flight). */
  get pendingBytes(): number {
    return this.pendingBytesNow;
  }

  /** True when more than `maxPendingLines` are waiting: sources should slow down. */
  get saturated(): boolean {
    return this.pendingLines > this.maxPendingLines;
  }

  /**
   * True from `fullLines` buffered lines or `fullBytes` of them on. More queued would not make
   * storage faster, only use memory (lines, and the messages they came from): MQTT stops reading
   * until it drains.
   */
  get full(): boolean {
    return this.pendingLines >= this.fullLines || this.pendingBytesNow >= this.fullBytes;
  }

  /**
   * Accept points; the promise resolves once the sink (or the fsynced spool) holds every one of
   * them, and rejects if storage refused any of them for good (4xx). Throws synchronously, with
   * nothing buffered, if a point cannot be written as line protocol.
   *
   * Backpressure: while storage fails, promises stay pending (retries go on for ever). The writer
   * never refuses data it is given; above `maxPendingLines` it keeps accepting, turns
   * `saturated` on and logs a warning, so memory is never used up silently. Callers must await
   * each promise before they take in more (MQTT: acknowledge after it resolves, with a bounded
   * number of messages in flight) and should stop intake while `saturated` is true.
   */
  write(points: readonly Point[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('batch writer is closed'));
    if (points.length === 0) return Promise.resolve();
    const body = pointsToLineProtocol(points); // throws synchronously on a bad point
    return new Promise<void>((resolve, reject) => this.accept(body, points.length, new PromiseWaiter(resolve, reject)));
  }

  /**
   * `write` without a promise: `waiter.written()` once durable, `written(err)` if refused for
   * good. Throws synchronously, with nothing buffered, on a closed writer or a point that cannot
   * be written, as `write` rejects or throws. For callers that write once per message (MQTT), whose
   * promise, its executor and resolving functions were garbage per message.
   */
  writeThen(points: readonly Point[], waiter: WriteWaiter): void {
    if (this.closed) throw new Error('batch writer is closed');
    if (points.length === 0) return queueMicrotask(() => waiter.written());
    this.accept(pointsToLineProtocol(points), points.length, waiter);
  }

  private accept(body: string, lines: number, waiter: WriteWaiter): void {
    this.queue.push({ body, lines, bytes: body.length, at: performance.now(), waiter });
    this.queuedLines += lines;
    this.pendingBytesNow += body.length;
    this.checkSaturation();
    if (this.queuedLines >= this.maxBatchLines) this.kick();
    else this.schedule();
  }

  private checkSaturation(): void {
    const saturated = this.saturated;
    if (saturated === this.saturationLogged) return;
    this.saturationLogged = saturated;
    if (saturated) this.opts.logger?.warn({ pendingLines: this.pendingLines, maxPendingLines: this.maxPendingLines }, 'write queue above maxPendingLines: storage is not keeping up; intake must slow down');
    else this.opts.logger?.info({ pendingLines: this.pendingLines }, 'write queue back below maxPendingLines');
  }

  /** Start writing what is buffered now (at once if a write slot is free, else after a write in flight); does not wait. */
  flushNow(): void {
    if (this.closed) return;
    this.urgent = true;
    this.kick();
  }

  /**
   * Send everything buffered now and wait until storage (or the spool) holds it. Never rejects:
   * refused batches reject their own callers. With storage down and no spool this waits as long
   * as the outage (retries never give up): bound it with a timeout where that matters.
   */
  async flush(): Promise<void> {
    while (this.queue.size > 0 || this.flights.size > 0) {
      // What is waiting goes now, partial or not: without this a lingering batch would not start
      // and this loop would spin without ever yielding to the timer that starts it.
      if (this.queue.size > 0) this.urgent = true;
      this.kick();
      await Promise.all(this.flights);
    }
  }

  /** True when the spool has data waiting or the sink is known to be failing. */
  get spooling(): boolean {
    return this.degraded || (this.opts.spool?.pending ?? false);
  }

  /**
   * Flush what is in memory (to the sink, or to the spool when the sink fails), stop replaying,
   * and close. Spooled data stays on disk for the next start.
   */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    const replayStopped = this.replayer?.stop();
    this.sleeper.wakeAll();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await replayStopped;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flights.size < this.maxConcurrentWrites && this.queue.size > 0 && this.mayStart()) {
      this.urgent = false;
      const flight: Promise<void> = this.drain().finally(() => {
        this.flights.delete(flight);
        this.checkSaturation();
        this.kick();
      });
      this.flights.add(flight);
    }
    this.schedule();
  }

  /**
   * Whether a free slot takes a batch now: a full one always; a partial one after flushNow, when
   * no write is in flight and the oldest line has lingered `lingerMs`, or when a write is in
   * flight and it has waited `flushIntervalMs` (it may have waited through a long write).
   */
  private mayStart(): boolean {
    if (this.queuedLines >= this.maxBatchLines || this.urgent) return true;
    return performance.now() - this.queue.peek()!.at >= this.partialWaitMs();
  }

  private partialWaitMs(): number {
    return this.flights.size === 0 ? this.lingerMs : this.flushIntervalMs;
  }

  /**
   * Wake up when the oldest waiting line may go in a partial batch, if a slot is free (a full
   * slot set wakes up through the end of a write instead).
   */
  private schedule(): void {
    if (this.timer || this.closed || this.queue.size === 0 || this.flights.size >= this.maxConcurrentWrites) return;
    const wait = this.partialWaitMs() - (performance.now() - this.queue.peek()!.at);
    this.timer = setTimeout(() => this.kick(), Math.max(0, wait));
  }

  /** Take up to maxBatchLines (whole chunks) and make them durable: in the sink, or in the spool. */
  private async drain(): Promise<void> {
    const batch: Chunk[] = [];
    let lines = 0;
    for (let chunk = this.queue.peek(); chunk !== undefined && (batch.length === 0 || lines + chunk.lines <= this.maxBatchLines); chunk = this.queue.peek()) {
      this.queue.shift();
      batch.push(chunk);
      lines += chunk.lines;
    }
    this.queuedLines -= lines;
    this.inflightLines += lines;
    const flight = { lines, bytes: batch.reduce((n, c) => n + c.bytes, 0), waitedMs: performance.now() - batch[0]!.at }; // this batch's lines and bytes not yet settled
    try {
      await writeSplittingRefusals(
        batch,
        (part) => this.deliver(part, flight),
        (part, err) => {
          const refused = part.reduce((n, c) => n + c.lines, 0);
          this.notify('onFailure', err, refused);
          this.opts.logger?.error({ err: err.message, lines: refused, calls: part.length }, 'storage refused lines (not retryable)');
          this.settled(part, refused, flight, err);
        },
      );
    } finally {
      this.inflightLines -= flight.lines;
      this.pendingBytesNow -= flight.bytes;
    }
  }

  /**
   * Make `batch` durable, retrying transient failures for ever; resolves its callers once it is in
   * the sink or the spool. Throws only storage's refusal for good (a non-retryable SinkError).
   */
  private async deliver(batch: readonly Chunk[], flight: Flight): Promise<void> {
    const lines = batch.reduce((n, c) => n + c.lines, 0);
    const body = batch.length === 1 ? batch[0]!.body : batch.map((c) => c.body).join('\n');
    const spool = this.opts.spool;
    for (let attempt = 1; ; attempt++) {
      if (spool && this.degraded) {
        try {
          await spool.append(body, lines);
          this.notify('onSpooled', lines);
          this.settled(batch, lines, flight);
          this.replayer!.start();
          return;
        } catch (err) {
          // Spool full, disk full, or any other spool failure (e.g. a segment cannot be
          // created): keep the batch in memory and wait for the sink instead (callers stay
          // pending: that is the backpressure). Never let it escape: the batch's callers
          // would wait for ever.
          this.notify('onSpoolError', err as Error);
          const why = err instanceof SpoolFullError ? 'spool refuses data' : 'spool failed';
          if (!this.spoolFull()) this.opts.logger?.error({ err: (err as Error).message }, `${why}: holding batches in memory and slowing intake until storage recovers`);
          this.spoolFullUntil = Date.now() + 1000;
        }
      }
      const started = performance.now();
      try {
        await writeWithTimeout(this.sink, body, spool ? this.spoolAfterMs : 0);
        this.notify('onFlush', lines, performance.now() - started, flight.waitedMs);
        this.degraded = false;
        this.settled(batch, lines, flight);
        return;
      } catch (err) {
        const e = asSinkError(err);
        if (!e.retryable) throw e;
        const spoolUsable = spool && !this.spoolFull();
        const delay = spoolUsable ? 0 : retryDelayMs(attempt, this.retry, e.retryAfterMs);
        this.notify('onRetry', e, attempt, delay);
        if (spool && !this.degraded) this.opts.logger?.warn({ err: e.message }, 'storage is failing or slow: spooling to disk until it recovers');
        this.degraded = spool !== undefined;
        if (delay > 0) await this.sleeper.sleep(delay);
      }
    }
  }

  /** Answer the callers of a part of the batch in flight, no longer counting it as pending first. */
  private settled(part: readonly Chunk[], lines: number, flight: Flight, err?: Error): void {
    this.inflightLines -= lines;
    flight.lines -= lines;
    this.checkSaturation();
    for (const c of part) {
      this.pendingBytesNow -= c.bytes;
      flight.bytes -= c.bytes;
    }
    // In a microtask, as a promise's reactions ran: what a waiter does (acknowledge, read the next
    // messages, write more) never runs inside this writer's own bookkeeping. One per part, not per call.
    queueMicrotask(() => this.tell(part, err));
  }

  private tell(part: readonly Chunk[], err: Error | undefined): void {
    for (const c of part) {
      try {
        c.waiter.written(err);
      } catch (e) {
        // One caller's failure must not leave the others of the batch unanswered.
        this.opts.logger?.error({ err: (e as Error).message }, 'a write waiter failed');
      }
    }
  }

  /** True right after the spool refused an append, for a short while (avoid hammering it). */
  private spoolFull(): boolean {
    return Date.now() < this.spoolFullUntil;
  }
}
