import { parseRetryAfter } from '../retry/index.js';
import { SinkError } from './sink.js';

/**
 * How every sink classifies a failed HTTP call, so the batch writer sees one rule:
 * network errors, timeouts, 408, 429 and 5xx are transient (retry); any other status is
 * permanent (the batch is refused, with the server's own words in the message).
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export function statusError(what: string, status: number, body: string, retryAfter?: string | null): SinkError {
  const text = body.trim().slice(0, 500);
  return new SinkError(`${what}: HTTP ${status}${text ? ` ${text}` : ''}`, isRetryableStatus(status), status, parseRetryAfter(retryAfter));
}

/** No HTTP answer at all (refused, reset, DNS, timed out): always worth retrying. */
export function networkError(err: unknown, what: string): SinkError {
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  const reason = e.name === 'TimeoutError' || e.name === 'RequestTimedOutError' ? 'timed out' : (e.cause?.code ?? e.code ?? e.cause?.message ?? e.message);
  return new SinkError(`${what}: ${reason}`, true);
}
