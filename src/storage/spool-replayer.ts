import type { Logger } from 'pino';
import { retryDelayMs, type BackoffPolicy } from '../retry/index.js';
import { keepRejectedLines } from './rejected-lines.js';
import type { Sink, SinkError } from './sink.js';
import { asSinkError, writeWithTimeout } from './sink-write.js';
import type { Sleeper } from './sleeper.js';
import { writeSplittingRefusals } from './split-refused.js';
import type { Spool } from './spool.js';
import type { Notify } from './writer-observer.js';

export interface SpoolReplayerOptions {
  /** A replay write slower than this counts as failed (storage is not back yet). */
  spoolAfterMs: number;
  /** Lines per second, so a recovering InfluxDB is not flattened. */
  replayLinesPerSecond: number;
  /** Pace of the probes while storage is down. */
  retry: BackoffPolicy;
  /** Where spooled lines that storage refuses for good are kept (one file, appended). */
  rejectedFile?: string;
  logger?: Logger;
  notify: Notify;
  /** Shared with the batch writer, whose close() cuts every pause short. */
  sleeper: Sleeper;
  /** Storage answered (a record was replayed) or failed (a probe did not go through). */
  onStorageUp(): void;
  onStorageDown(): void;
}

/**
 * Replays the spool oldest first, at a bounded rate, while fresh batches keep going straight to
 * the sink. While the sink is down it probes it with the oldest record at a backoff pace; that
 * is how the batch writer learns storage is back. A record is committed (dropped from the spool)
 * only once every line of it is stored, or refused for good and kept in the rejected file.
 */
export class SpoolReplayer {
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly sink: Sink,
    private readonly spool: Spool,
    private readonly opts: SpoolReplayerOptions,
  ) {}

  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.loop()
      .catch(async (err: unknown) => {
        // A spool read or the rejected-lines file failed (I/O): report it and try again shortly.
        this.opts.notify('onSpoolError', err as Error);
        this.opts.logger?.error({ err: (err as Error).message }, 'spool replay failed; retrying in 1 s');
        await this.opts.sleeper.sleep(1000);
      })
      .finally(() => {
        this.running = null;
        if (this.spool.pending && !this.stopped) this.start();
      });
  }

  /** Stop after the current record; what is left stays on disk for the next start. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const rec = await this.spool.peek();
      if (!rec) return;
      let refused: Refused[];
      try {
        refused = await this.write(rec.body);
      } catch (err) {
        const e = err as SinkError; // write() throws only transient sink failures
        this.opts.onStorageDown();
        // Probe at a backoff pace, but at least every 2 s: while degraded, only this loop notices
        // that storage is back, and fresh data waits in the spool until it does.
        await this.opts.sleeper.sleep(Math.min(2000, retryDelayMs(++attempt, this.opts.retry, e.retryAfterMs) + this.opts.retry.baseMs));
        continue;
      }
      attempt = 0;
      this.opts.onStorageUp();
      // Kept only once the whole record went through: a transient failure halfway retries the
      // record, and its refused lines would otherwise be kept twice.
      await this.keep(refused);
      await this.spool.commit();
      this.opts.notify('onReplayed', rec.lines - refused.reduce((n, r) => n + r.lines.length, 0));
      await this.opts.sleeper.sleep((rec.lines / this.opts.replayLinesPerSecond) * 1000);
    }
  }

  /** Store one record; what storage refuses for good is returned, the rest is stored. */
  private async write(body: string): Promise<Refused[]> {
    const refused: Refused[] = [];
    await writeSplittingRefusals(
      body.split('\n'),
      (lines) => writeWithTimeout(this.sink, lines.join('\n'), this.opts.spoolAfterMs).catch((err: unknown) => Promise.reject(asSinkError(err))),
      (lines, err) => void refused.push({ lines, err }),
    );
    return refused;
  }

  /** Refused lines were acknowledged upstream: keep them where an operator finds them, never drop them. */
  private async keep(refused: readonly Refused[]): Promise<void> {
    for (const { lines, err } of refused) {
      const file = this.opts.rejectedFile;
      if (file) await keepRejectedLines(file, err.message, lines);
      this.opts.logger?.error({ err: err.message, lines: lines.length, file }, 'storage refused spooled lines; kept in the rejected file');
      this.opts.notify('onFailure', err, lines.length);
    }
  }
}

interface Refused {
  lines: readonly string[];
  err: SinkError;
}
