import type { Logger } from 'pino';
import type { SinkError } from './sink.js';

/** Statistics hooks (metrics, logs). A callback that throws is logged and ignored. */
export interface BatchWriterObserver {
  /** A batch was acknowledged by the sink after `ms` milliseconds; its oldest line had waited `waitedMs` for the write to start. */
  onFlush?(lines: number, ms: number, waitedMs: number): void;
  /** A write failed transiently; the next attempt follows in `delayMs` (0: spooled instead). */
  onRetry?(err: SinkError, attempt: number, delayMs: number): void;
  /** Storage refused lines for good: their promises were rejected (or, spooled, kept aside). */
  onFailure?(err: Error, lines: number): void;
  onSpooled?(lines: number): void;
  onReplayed?(lines: number): void;
  onSpoolError?(err: Error): void;
}

export type Notify = <K extends keyof BatchWriterObserver>(name: K, ...args: Parameters<NonNullable<BatchWriterObserver[K]>>) => void;

/**
 * Observer callbacks must never break delivery: one that throws must not turn a delivered batch
 * into a retry (a duplicate write) or into a failure.
 */
export function observerNotify(observer: BatchWriterObserver | undefined, logger: Logger | undefined): Notify {
  return (name, ...args) => {
    const fn = observer?.[name] as ((...a: unknown[]) => void) | undefined;
    if (!fn) return;
    try {
      fn.apply(observer, args);
    } catch (err) {
      logger?.error({ err: (err as Error).message, callback: name }, 'batch writer observer threw; ignored');
    }
  };
}
