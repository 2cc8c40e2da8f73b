import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import { networkError } from './influx-v1-sink.js';
import { SinkError, type Sink } from './sink.js';

export interface InfluxV2Options {
  url: string;
  org: string;
  bucket: string;
  token: string;
  timeoutMs?: number;
}

/**
 * The InfluxDB 2.x write API (`POST /api/v2/write`) through @influxdata/influxdb-client: works
 * with InfluxDB 2.x, 3.x, Cloud and 1.8+ (and VictoriaMetrics).
 *
 * Why the client's transport and not its WriteApi: the WriteApi batches and retries on its own,
 * and its retry buffer drops lines when full; our durability must not depend on that (STYLE.md).
 * The transport gives us the client's auth, TLS and error classes, one request per batch, and
 * the batch writer keeps the single retry policy of the platform.
 */
export class InfluxV2Sink implements Sink {
  readonly name: string;
  private readonly transport: Transport;
  private readonly writePath: string;

  constructor(opts: InfluxV2Options) {
    const url = opts.url.replace(/\/+$/, '');
    this.name = `influxdb-v2 ${url} bucket=${opts.bucket}`;
    this.transport = new InfluxDB({ url, token: opts.token, timeout: opts.timeoutMs ?? 10_000 }).transport;
    this.writePath = `/api/v2/write?${new URLSearchParams({ org: opts.org, bucket: opts.bucket, precision: 'ms' })}`;
  }

  private async call(path: string, body: string | undefined, method: 'POST' | 'GET', what: string): Promise<unknown> {
    try {
      return await this.transport.request(path, body, { method, headers: body === undefined ? {} : { 'content-type': 'text/plain; charset=utf-8' } });
    } catch (err) {
      if (err instanceof HttpError) {
        // The same rule as the 1.x sink (the client would also retry 404: a missing bucket is a
        // configuration error, not a transient one). retryAfter() is in seconds.
        const retryable = err.statusCode >= 500 || err.statusCode === 429 || err.statusCode === 408;
        const retryAfterS = err.retryAfter();
        throw new SinkError(`${what}: HTTP ${err.statusCode} ${err.body ?? err.message}`.slice(0, 600), retryable, err.statusCode, retryAfterS > 0 ? retryAfterS * 1000 : undefined);
      }
      throw networkError(err, what);
    }
  }

  /** Buckets are created by the operator (InfluxDB 2.x needs an org-level token for that). */
  async connect(): Promise<void> {
    await this.ping();
  }

  async write(lineProtocol: string): Promise<void> {
    await this.call(this.writePath, lineProtocol, 'POST', 'write');
  }

  async ping(): Promise<void> {
    try {
      await this.call('/health', undefined, 'GET', 'ping');
    } catch (err) {
      // InfluxDB 1.8 and some compatible servers answer /ping but not /health.
      if (err instanceof SinkError && err.status === 404) await this.call('/ping', undefined, 'GET', 'ping');
      else throw err;
    }
  }

  async close(): Promise<void> {}
}
