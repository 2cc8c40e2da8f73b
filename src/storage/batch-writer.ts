import type { Logger } from 'pino';
import { pointsToLineProtocol } from './line-protocol.js';
import type { Point } from './point.js';
import { SinkError, type Sink } from './sink.js';

export interface BatchWriterOptions {
  /** Flush when this many lines are buffered... */
  maxBatchLines?: number;
  /** ...or this long after the first line was buffered. */
  flushIntervalMs?: number;
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Above this many buffered lines the writer reports itself saturated (see `saturated`). */
  maxPendingLines?: number;
  logger?: Logger;
  observer?: {
    onFlush?(lines: number, ms: number): void;
    onRetry?(err: SinkError, attempt: number, delayMs: number): void;
    onFailure?(err: Error, lines: number): void;
  };
}

interface Chunk {
  body: string;
  lines: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The one place for batching and retries (STYLE.md, after Telegraf's running_output): sinks
 * stay thin. `write` resolves only when the sink acknowledged every point it was given, which
 * is what sources wait for before they acknowledge upstream (MQTT PUBACK, HTTP 2xx).
 *
 * - One write in flight at a time: batches reach storage in the order they were accepted.
 * - Transient failures (network, 5xx, 429) are retried for ever, with exponential backoff, full
 *   jitter, and Retry-After honoured. Callers' promises stay pending meanwhile: that is the
 *   backpressure (MQTT acks are withheld, so the broker stops sending).
 * - Permanent failures (4xx) reject the promises of that batch only.
 * - Points are serialised at `write` time, so a bad point throws to its caller before anything
 *   is buffered.
 */
export class BatchWriter {
  private readonly maxBatchLines: number;
  private readonly flushIntervalMs: number;
  private readonly initialRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxPendingLines: number;
  private queue: Chunk[] = [];
  private queuedLines = 0;
  private inflightLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly sink: Sink,
    private readonly opts: BatchWriterOptions = {},
  ) {
    this.maxBatchLines = opts.maxBatchLines ?? 5000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 200;
    this.initialRetryDelayMs = opts.initialRetryDelayMs ?? 100;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 30_000;
    this.maxPendingLines = opts.maxPendingLines ?? 200_000;
  }

  /** Lines accepted and not yet acknowledged by the sink (buffered + in flight). */
  get pendingLines(): number {
    return this.queuedLines + this.inflightLines;
  }

  /** True when more than `maxPendingLines` are waiting: sources should slow down. */
  get saturated(): boolean {
    return this.pendingLines > this.maxPendingLines;
  }

  write(points: readonly Point[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('batch writer is closed'));
    if (points.length === 0) return Promise.resolve();
    const body = pointsToLineProtocol(points); // throws synchronously on a bad point
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ body, lines: points.length, resolve, reject });
      this.queuedLines += points.length;
      if (this.queuedLines >= this.maxBatchLines) this.kick();
      else if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
    });
  }

  /** Write everything buffered now; resolves when the queue is empty (or rejects never). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      // More arrived while we were writing: go again (full batch now, else after the interval).
      if (this.queuedLines >= this.maxBatchLines) this.kick();
      else if (this.queue.length > 0 && !this.timer) this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
    });
  }

  /** Take up to maxBatchLines (whole chunks) and write them until acknowledged or refused. */
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
    try {
      for (let attempt = 1; ; attempt++) {
        const started = performance.now();
        try {
          await this.sink.write(body);
          this.opts.observer?.onFlush?.(lines, performance.now() - started);
          for (const c of batch) c.resolve();
          return;
        } catch (err) {
          const e = err instanceof SinkError ? err : new SinkError((err as Error).message, true);
          if (!e.retryable) {
            this.opts.observer?.onFailure?.(e, lines);
            this.opts.logger?.error({ err: e.message, lines }, 'storage refused a batch (not retryable)');
            for (const c of batch) c.reject(e);
            return;
          }
          const delay = this.retryDelay(attempt, e.retryAfterMs);
          this.opts.observer?.onRetry?.(e, attempt, delay);
          await this.sleep(delay);
        }
      }
    } finally {
      this.inflightLines = 0;
    }
  }

  private retryDelay(attempt: number, retryAfterMs?: number): number {
    const ceiling = Math.min(this.maxRetryDelayMs, this.initialRetryDelayMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = Math.random() * ceiling; // full jitter: instances do not retry in step
    return Math.min(this.maxRetryDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
