import type { Logger } from 'pino';
import { pointsToLineProtocol } from './line-protocol.js';
import type { Point } from './point.js';
import { SinkError, type Sink } from './sink.js';
import { SpoolFullError, type Spool } from './spool.js';
import { appendFile } from 'node:fs/promises';

export interface BatchWriterOptions {
  /** Flush when this many lines are buffered... */
  maxBatchLines?: number;
  /** ...or this long after the first line was buffered. */
  flushIntervalMs?: number;
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Above this many buffered lines the writer reports itself saturated (see `saturated`). */
  maxPendingLines?: number;
  /**
   * From this many buffered lines on, the writer reports itself `full`: enough is queued to keep
   * storage busy, and sources that can simply wait (MQTT) stop reading. Default: four batches.
   */
  fullLines?: number;
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

/** Statistics hooks (metrics, logs). A callback that throws is logged and ignored. */
export interface BatchWriterObserver {
  /** A batch was acknowledged by the sink after `ms` milliseconds. */
  onFlush?(lines: number, ms: number): void;
  /** A write failed transiently; the next attempt follows in `delayMs` (0: spooled instead). */
  onRetry?(err: SinkError, attempt: number, delayMs: number): void;
  /** Storage refused lines for good: their promises were rejected (or, spooled, kept aside). */
  onFailure?(err: Error, lines: number): void;
  onSpooled?(lines: number): void;
  onReplayed?(lines: number): void;
  onSpoolError?(err: Error): void;
}

interface Chunk {
  body: string;
  lines: number;
  /** When it was accepted (ms, monotonic): the flush timer counts from the oldest chunk. */
  at: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The one place for batching and retries (docs/architecture.md, after Telegraf's running_output): sinks
 * stay thin. `write` resolves only when the sink acknowledged every point it was given, which
 * is what sources wait for before they acknowledge upstream (MQTT PUBACK, HTTP 2xx).
 *
 * - Batches hold whole `write` calls: up to `maxBatchLines`, or one call's points when a single
 *   call is larger (it is never split, so its promise has one outcome).
 * - One batch in flight at a time: fresh batches reach storage in the order they were accepted.
 *   (With a spool, the replay of older spooled batches runs alongside; writes are idempotent and
 *   carry their timestamps, so the interleaving does not change what is stored.)
 * - Transient failures (network, 5xx, 429) are retried for ever, with exponential backoff, full
 *   jitter, and Retry-After honoured. Callers' promises stay pending meanwhile: that is the
 *   backpressure (MQTT acks are withheld, so the broker stops sending).
 * - Permanent failures (4xx) reject the promises of that batch only.
 * - Points are serialised at `write` time, so a bad point throws to its caller before anything
 *   is buffered.
 * - Observer callbacks are for statistics: one that throws is logged and ignored (it must not
 *   turn a delivered batch into a retry, i.e. a duplicate write, or into a failure).
 */
export class BatchWriter {
  private readonly maxBatchLines: number;
  private readonly flushIntervalMs: number;
  private readonly initialRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxPendingLines: number;
  private readonly fullLines: number;
  private queue: Chunk[] = [];
  private queuedLines = 0;
  private inflightLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private saturationLogged = false;
  /** flushNow() was asked during a write: the next batch goes as soon as that write is done. */
  private urgent = false;
  /** The sink failed or was slow: new batches go to the spool until a write succeeds again. */
  private degraded = false;
  private stopReplay = false;
  private spoolFullUntil = 0;
  private replaying: Promise<void> | null = null;
  private readonly spoolAfterMs: number;
  private readonly replayLinesPerSecond: number;

  constructor(
    private readonly sink: Sink,
    private readonly opts: BatchWriterOptions = {},
  ) {
    this.maxBatchLines = opts.maxBatchLines ?? 5000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 200;
    this.initialRetryDelayMs = opts.initialRetryDelayMs ?? 100;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 30_000;
    this.maxPendingLines = opts.maxPendingLines ?? 200_000;
    this.fullLines = opts.fullLines ?? 4 * this.maxBatchLines;
    this.spoolAfterMs = opts.spoolAfterMs ?? 5000;
    this.replayLinesPerSecond = opts.replayLinesPerSecond ?? 50_000;
    // Data left in the spool by an earlier run is replayed from the start.
    if (opts.spool?.pending) this.startReplay();
  }

  /** Lines accepted and not yet acknowledged by the sink (buffered + in flight; not the spool's). */
  get pendingLines(): number {
    return this.queuedLines + this.inflightLines;
  }

  /** True when more than `maxPendingLines` are waiting: sources should slow down. */
  get saturated(): boolean {
    return this.pendingLines > this.maxPendingLines;
  }

  /**
   * True from `fullLines` buffered lines on. More queued would not make storage faster, only use
   * memory (lines, points and the messages they came from): MQTT stops reading until it drains.
   */
  get full(): boolean {
    return this.pendingLines >= this.fullLines;
  }

  /**
   * Accept points; the promise resolves once the sink (or the fsynced spool) holds every one of
   * them, and rejects if storage refused their batch for good (4xx). Throws synchronously, with
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
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ body, lines: points.length, at: performance.now(), resolve, reject });
      this.queuedLines += points.length;
      this.checkSaturation();
      if (this.queuedLines >= this.maxBatchLines) this.kick();
      else if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
    });
  }

  private checkSaturation(): void {
    const saturated = this.saturated;
    if (saturated === this.saturationLogged) return;
    this.saturationLogged = saturated;
    if (saturated) this.opts.logger?.warn({ pendingLines: this.pendingLines, maxPendingLines: this.maxPendingLines }, 'write queue above maxPendingLines: storage is not keeping up; intake must slow down');
    else this.opts.logger?.info({ pendingLines: this.pendingLines }, 'write queue back below maxPendingLines');
  }

  /** Observer callbacks must never break delivery (see the class comment). */
  private notify<K extends keyof BatchWriterObserver>(name: K, ...args: Parameters<NonNullable<BatchWriterObserver[K]>>): void {
    const fn = this.opts.observer?.[name] as ((...a: unknown[]) => void) | undefined;
    if (!fn) return;
    try {
      fn.apply(this.opts.observer, args);
    } catch (err) {
      this.opts.logger?.error({ err: (err as Error).message, callback: name }, 'batch writer observer threw; ignored');
    }
  }

  /** Start writing what is buffered now (it goes after the write in flight, if any); does not wait. */
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
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
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
    this.stopReplay = true;
    for (const wake of [...this.sleepers]) wake();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.replaying;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.queue.length === 0) return;
    this.urgent = false;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      this.checkSaturation();
      // More arrived while we were writing: go again, at once for a full batch, else when the
      // oldest waiting chunk has waited flushIntervalMs (it may have waited through a long write).
      if (this.queuedLines >= this.maxBatchLines || (this.urgent && this.queue.length > 0)) this.kick();
      else if (this.queue.length > 0 && !this.timer) {
        const wait = Math.max(0, this.flushIntervalMs - (performance.now() - this.queue[0]!.at));
        this.timer = setTimeout(() => this.kick(), wait);
      }
    });
  }

  /** Take up to maxBatchLines (whole chunks) and make them durable: in the sink, or in the spool. */
  private async drain(): Promise<void> {
    const batch: Chunk[] = [];
    let lines = 0;
    while (this.queue.length > 0 && (batch.length === 0 || lines + this.queue[0]!.lines <= this.maxBatchLines)) {
      const chunk = this.queue.shift()!;
      batch.push(chunk);
      lines += chunk.lines;
    }
    this.queuedLines -= lines;
    this.inflightLines = lines;
    const body = batch.length === 1 ? batch[0]!.body : batch.map((c) => c.body).join('\n');
    const spool = this.opts.spool;
    try {
      for (let attempt = 1; ; attempt++) {
        if (spool && this.degraded) {
          try {
            await spool.append(body, lines);
            this.notify('onSpooled', lines);
            for (const c of batch) c.resolve();
            this.startReplay();
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
          await this.writeWithTimeout(body, spool ? this.spoolAfterMs : 0);
          this.notify('onFlush', lines, performance.now() - started);
          this.degraded = false;
          for (const c of batch) c.resolve();
          return;
        } catch (err) {
          const e = err instanceof SinkError ? err : new SinkError((err as Error).message, true);
          if (!e.retryable) {
            this.notify('onFailure', e, lines);
            this.opts.logger?.error({ err: e.message, lines }, 'storage refused a batch (not retryable)');
            for (const c of batch) c.reject(e);
            return;
          }
          const spoolUsable = spool && !this.spoolFull();
          const delay = spoolUsable ? 0 : this.retryDelay(attempt, e.retryAfterMs);
          this.notify('onRetry', e, attempt, delay);
          if (spool && !this.degraded) this.opts.logger?.warn({ err: e.message }, 'storage is failing or slow: spooling to disk until it recovers');
          this.degraded = spool !== undefined;
          if (delay > 0) await this.sleep(delay);
        }
      }
    } finally {
      this.inflightLines = 0;
    }
  }

  /** True right after the spool refused an append, for a short while (avoid hammering it). */
  private spoolFull(): boolean {
    return Date.now() < this.spoolFullUntil;
  }

  private async writeWithTimeout(body: string, timeoutMs: number): Promise<void> {
    const write = this.sink.write(body);
    if (timeoutMs <= 0) return write;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SinkError(`write took longer than ${timeoutMs} ms`, true)), timeoutMs);
    });
    write.catch(() => undefined); // a write we stopped waiting for may still fail later
    try {
      return await Promise.race([write, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Replay the spool oldest first, at a bounded rate, while fresh batches keep going straight to
   * the sink. While the sink is down, probe it with the oldest record at a backoff pace.
   */
  private startReplay(): void {
    if (this.replaying || !this.opts.spool || this.closed) return;
    this.replaying = this.replayLoop()
      .catch(async (err: unknown) => {
        // A spool read or the rejected-lines file failed (I/O): report it and try again shortly.
        this.notify('onSpoolError', err as Error);
        this.opts.logger?.error({ err: (err as Error).message }, 'spool replay failed; retrying in 1 s');
        await this.sleep(1000);
      })
      .finally(() => {
        this.replaying = null;
        if (this.opts.spool?.pending && !this.closed && !this.stopReplay) this.startReplay();
      });
  }

  private async replayLoop(): Promise<void> {
    const spool = this.opts.spool!;
    let attempt = 0;
    while (!this.stopReplay) {
      const rec = await spool.peek();
      if (!rec) return;
      try {
        await this.writeWithTimeout(rec.body, this.spoolAfterMs);
        await spool.commit();
        attempt = 0;
        this.degraded = false;
        this.notify('onReplayed', rec.lines);
        await this.sleep((rec.lines / this.replayLinesPerSecond) * 1000);
      } catch (err) {
        const e = err instanceof SinkError ? err : new SinkError((err as Error).message, true);
        if (!e.retryable) {
          // Storage refuses these lines for good. They were acknowledged upstream, so keep them
          // where an operator can find them instead of dropping them or blocking the spool.
          const file = this.opts.rejectedFile;
          if (file) await appendFile(file, `# ${new Date().toISOString()} ${e.message.replace(/\n/g, ' ')}\n${rec.body}\n`);
          this.opts.logger?.error({ err: e.message, lines: rec.lines, file }, 'storage refused spooled lines; kept in the rejected file');
          this.notify('onFailure', e, rec.lines);
          await spool.commit();
          continue;
        }
        this.degraded = true;
        // Probe at a backoff pace, but at least every 2 s: while degraded, only this loop notices
        // that storage is back, and fresh data waits in the spool until it does.
        await this.sleep(Math.min(2000, this.retryDelay(++attempt, e.retryAfterMs) + this.initialRetryDelayMs));
      }
    }
  }

  private retryDelay(attempt: number, retryAfterMs?: number): number {
    const ceiling = Math.min(this.maxRetryDelayMs, this.initialRetryDelayMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = Math.random() * ceiling; // full jitter: instances do not retry in step
    return Math.min(this.maxRetryDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  private readonly sleepers = new Set<() => void>();

  /** A pause that `close()` can cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
