import { SinkError, type Sink } from './sink.js';

/** Any failure as a SinkError; what the sink did not classify (a bug, an odd rejection) is retried. */
export function asSinkError(err: unknown): SinkError {
  return err instanceof SinkError ? err : new SinkError((err as Error).message, true);
}

/**
 * One write that is given up on (as a retryable failure) after `timeoutMs`; 0: no limit. A write
 * given up on may still land later: writes are idempotent, so writing it again elsewhere is safe.
 */
export async function writeWithTimeout(sink: Sink, body: string, timeoutMs: number): Promise<void> {
  const write = sink.write(body);
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
