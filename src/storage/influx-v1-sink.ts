import { networkError, statusError } from './http-errors.js';
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
 */
export class InfluxV1Sink implements Sink {
  readonly name: string;
  private readonly base: string;
  private readonly headers: Record<string, string> = {};
  private readonly timeoutMs: number;
  private readonly writePath: string;

  constructor(private readonly opts: InfluxV1Options) {
    quoteDatabaseName(opts.database); // fail at configuration time, not at the first write
    this.base = opts.url.replace(/\/+$/, '');
    this.name = `influxdb-v1 ${this.base} db=${opts.database}`;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    if (opts.username) this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    const params = new URLSearchParams({ db: opts.database, precision: 'ms' });
    if (opts.retentionPolicy) params.set('rp', opts.retentionPolicy);
    this.writePath = `/write?${params}`;
  }

  /** One HTTP call; the timeout covers reading the answer too. Resolves with the body text. */
  private async request(path: string, init: RequestInit, what: string): Promise<string> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      throw networkError(err, what);
    }
    // InfluxDB 1.x puts the reason in a JSON body ({"error": ...}) and in X-Influxdb-Error.
    if (!res.ok) throw statusError(what, res.status, text || (res.headers.get('x-influxdb-error') ?? ''), res.headers.get('retry-after'));
    return text;
  }

  /**
   * Creates the database when missing. CREATE DATABASE is idempotent on InfluxDB 1.x (it
   * succeeds when the database exists), so there is no check-then-create race between instances.
   */
  async connect(): Promise<void> {
    const q = `CREATE DATABASE ${quoteDatabaseName(this.opts.database)}`;
    const text = await this.request('/query', { method: 'POST', body: new URLSearchParams({ q }) }, 'create database');
    let body: { results?: { error?: string }[]; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new SinkError(`create database ${this.opts.database}: unexpected answer ${text.slice(0, 200)}`, false);
    }
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (error) throw new SinkError(`create database ${this.opts.database}: ${error}`, false);
  }

  async write(lineProtocol: string): Promise<void> {
    await this.request(this.writePath, { method: 'POST', body: lineProtocol, headers: { 'content-type': 'text/plain; charset=utf-8' } }, 'write');
  }

  async ping(): Promise<void> {
    await this.request('/ping', { method: 'GET' }, 'ping');
  }

  async close(): Promise<void> {}
}
