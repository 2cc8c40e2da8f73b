import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import { networkError, statusError } from './http-errors.js';
import { SinkError } from './sink.js';

/**
 * One HTTP request to an InfluxDB-compatible server through @influxdata/influxdb-client's
 * transport (node:http, keep-alive through Node's global agent, timeouts, TLS), for both sinks.
 * Exactly one request per call: the batch writer keeps the platform's one retry policy.
 */
export class InfluxTransport {
  private readonly transport: Transport;

  constructor(url: string, timeoutMs: number, token?: string) {
    this.transport = new InfluxDB({ url, timeout: timeoutMs, ...(token !== undefined ? { token } : {}) }).transport;
  }

  /** Resolves with the answer's body (parsed when the server says it is JSON); throws a classified SinkError. */
  async call(path: string, body: string | undefined, method: 'POST' | 'GET', what: string, headers: Record<string, string> = {}): Promise<unknown> {
    try {
      return await this.transport.request(path, body, { method, headers });
    } catch (err) {
      if (err instanceof HttpError) {
        // Our classification, not the client's canRetry(): it also retries 404 (a missing
        // bucket is a configuration error, not a transient one). Its retryAfter() is the header
        // in seconds (not ms, whatever its interface comment says) and ignores HTTP-dates, so
        // read the header itself first.
        const header = err.headers?.['retry-after'];
        const e = statusError(what, err.statusCode, err.body ?? err.message, Array.isArray(header) ? header[0] : header);
        const retryAfterMs = e.retryAfterMs ?? (err.retryAfter() > 0 ? err.retryAfter() * 1000 : undefined);
        throw new SinkError(e.message, e.retryable, e.status, retryAfterMs);
      }
      throw networkError(err, what);
    }
  }
}
