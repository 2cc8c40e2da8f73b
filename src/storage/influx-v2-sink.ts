import { InfluxTransport } from './influx-transport.js';
import { SinkError, type Sink } from './sink.js';

export interface InfluxV2Options {
  url: string;
  org: string;
  bucket: string;
  token: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

/**
 * The InfluxDB 2.x write API (`POST /api/v2/write?org=&bucket=&precision=ms`) through
 * @influxdata/influxdb-client: InfluxDB 2.x, 3.x, Cloud, 1.8+, and VictoriaMetrics.
 *
 * Why the client's `transport.request` and not its WriteApi: the WriteApi is a second batcher
 * with its own timers and retry buffer (which drops lines when full). Configured down to
 * `maxRetries: 0`, no flush interval and a `flush()` per write, it would still hide the HTTP
 * status behind its own error handling and keep state we would have to reason about. The
 * transport is exactly one HTTP request per call: the client's URL handling, token auth, TLS and
 * HttpError, and nothing else, so the batch writer keeps the platform's one retry policy and
 * `write` resolves only once the server answered 2xx.
 */
export class InfluxV2Sink implements Sink {
  readonly name: string;
  private readonly transport: InfluxTransport;
  private readonly writePath: string;

  constructor(opts: InfluxV2Options) {
    const url = opts.url.replace(/\/+$/, '');
    this.name = `influxdb-v2 ${url} bucket=${opts.bucket}`;
    this.transport = new InfluxTransport(url, opts.timeoutMs ?? 10_000, opts.token);
    this.writePath = `/api/v2/write?${new URLSearchParams({ org: opts.org, bucket: opts.bucket, precision: 'ms' })}`;
  }

  private async call(path: string, body: string | undefined, method: 'POST' | 'GET', what: string): Promise<void> {
    await this.transport.call(path, body, method, what, body === undefined ? {} : { 'content-type': 'text/plain; charset=utf-8' });
  }

  /** Buckets are created by the operator (on InfluxDB 2.x that needs an org-level token). */
  async connect(): Promise<void> {
    await this.ping();
  }

  async write(lineProtocol: string): Promise<void> {
    await this.call(this.writePath, lineProtocol, 'POST', 'write');
  }

  /** `GET /health` (2.x, 3.x, 1.8+, VictoriaMetrics); older servers only answer `/ping`. */
  async ping(): Promise<void> {
    try {
      await this.call('/health', undefined, 'GET', 'ping');
    } catch (err) {
      if (err instanceof SinkError && err.status === 404) await this.call('/ping', undefined, 'GET', 'ping');
      else throw err;
    }
  }

  async close(): Promise<void> {}
}
