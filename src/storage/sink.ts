/**
 * A storage backend. Thin on purpose (docs/architecture.md, "Design rules": sinks stay thin): batching, retries and
 * statistics live once in the batch writer. `write` takes line protocol with millisecond
 * precision and resolves only when the backend acknowledged it.
 */
export interface Sink {
  readonly name: string;
  /** Prepare the backend (e.g. create the database on InfluxDB 1.x). */
  connect(): Promise<void>;
  /** Write newline-separated line protocol (precision ms). Rejects with a SinkError. */
  write(lineProtocol: string): Promise<void>;
  /** Resolves when the backend is reachable; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A failed write, classified so the writer knows whether to retry. */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** Milliseconds the server asked us to wait (Retry-After), if any. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}
