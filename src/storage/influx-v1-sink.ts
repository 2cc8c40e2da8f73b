import { InfluxTransport } from './influx-transport.js';
import { SinkError, type Sink } from './sink.js';

export interface InfluxV1Options {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retentionPolicy?: string;
  /** Per request, through an AbortSignal. Default 10 s. */
  timeoutMs?: number;
}

/**
 * A database name as InfluxDB 1.x accepts it (it becomes a directory: meta.ValidName refuses
 * `/`, `\`, `.`, `..` and non-printable characters, answering "invalid name"), double-quoted
 * for InfluxQL with `"` escaped.
 */
export function quoteDatabaseName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || /[/\\\u0000-\u001f\u007f]/.test(name)) {
    throw new Error(`invalid InfluxDB database name ${JSON.stringify(name)}: it must be non-empty, printable, without / or \\`);
  }
  return `"${name.replace(/"/g, '\\"')}"`;
}

/**
 * InfluxDB 1.x HTTP API: `POST /write?db=&precision=ms[&rp=]`, `POST /query` for
 * CREATE DATABASE, `GET /ping`. Credentials go in a Basic Authorization header (1.x accepts
 * it as well as u/p query parameters, and headers stay out of access logs).
 *
 * Requests go through the InfluxDB client library's node:http transport (influx-transport.ts),
 * not `fetch`: at the platform's maximum, fetch's web streams copied every batch once more and
 * its WebAssembly HTTP parser showed in the profile (about 3 % of the JavaScript thread together).
 */
export class InfluxV1Sink implements Sink {
  readonly name: string;
  private readonly headers: Record<string, string> = {};
  private readonly writeHeaders: Record<string, string>;
  private readonly transport: InfluxTransport;
  private readonly writePath: string;

  constructor(private readonly opts: InfluxV1Options) {
    quoteDatabaseName(opts.database); // fail at configuration time, not at the first write
    const base = opts.url.replace(/\/+$/, '');
    this.name = `influxdb-v1 ${base} db=${opts.database}`;
    this.transport = new InfluxTransport(base, opts.timeoutMs ?? 10_000);
    if (opts.username) this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    this.writeHeaders = { ...this.headers, 'content-type': 'text/plain; charset=utf-8' };
    const params = new URLSearchParams({ db: opts.database, precision: 'ms' });
    if (opts.retentionPolicy) params.set('rp', opts.retentionPolicy);
    this.writePath = `/write?${params}`;
  }

  /**
   * Creates the database when missing. CREATE DATABASE is idempotent on InfluxDB 1.x (it
   * succeeds when the database exists), so there is no check-then-create race between instances.
   */
  async connect(): Promise<void> {
    const q = `CREATE DATABASE ${quoteDatabaseName(this.opts.database)}`;
    const answer = await this.transport.call('/query', new URLSearchParams({ q }).toString(), 'POST', 'create database', { ...this.headers, 'content-type': 'application/x-www-form-urlencoded' });
    let body: { results?: { error?: string }[]; error?: string };
    try {
      // The transport parses an answer that says it is JSON; anything else arrives as text.
      body = (typeof answer === 'string' ? JSON.parse(answer) : answer) as typeof body;
    } catch {
      throw new SinkError(`create database ${this.opts.database}: unexpected answer ${String(answer).slice(0, 200)}`, false);
    }
    const error = body?.error ?? body?.results?.find((r) => r.error)?.error;
    if (error) throw new SinkError(`create database ${this.opts.database}: ${error}`, false);
  }

  async write(lineProtocol: string): Promise<void> {
    await this.transport.call(this.writePath, lineProtocol, 'POST', 'write', this.writeHeaders);
  }

  async ping(): Promise<void> {
    await this.transport.call('/ping', undefined, 'GET', 'ping', this.headers);
  }

  async close(): Promise<void> {}
}
