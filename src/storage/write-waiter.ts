/**
 * Told once when a write's points are durable (no argument) or refused for good (the error): the
 * callback form of `BatchWriter.write`'s promise (`writeThen`), and of the pipeline's `ingest`
 * (`ingestThen`). An object rather than a function, so a caller that keeps one object per message
 * anyway makes no closure, and no promise, per message.
 */
export interface WriteWaiter {
  /** Called in a microtask, never inside the call that was given the waiter. Should not throw (a throw is logged). */
  written(err?: Error): void;
}

/** A promise's resolving functions as a WriteWaiter (for the promise forms, built on the callback forms). */
export class PromiseWaiter implements WriteWaiter {
  constructor(
    private readonly resolve: () => void,
    private readonly reject: (err: Error) => void,
  ) {}

  written(err?: Error): void {
    if (err) this.reject(err);
    else this.resolve();
  }
}
