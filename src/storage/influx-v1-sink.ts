import { SinkError, type Sink } from './sink.js';

export interface InfluxV1Options {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retentionPolicy?: string;
  timeoutMs?: number;
}

/** Turn an HTTP answer into a SinkError: 5xx and 429 are retryable, other 4xx are not. */
export async function httpError(res: Response, what: string): Promise<SinkError> {
  const text = (await res.text().catch(() => '')).slice(0, 500);
  const retryAfter = res.headers.get('retry-after');
  const retryAfterMs = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  const retryable = res.status >= 500 || res.status === 429;
  return new SinkError(`${what}: HTTP ${res.status} ${text.trim()}`, retryable, res.status, retryAfterMs);
}

export function networkError(err: unknown, what: string): SinkError {
  const e = err as Error & { cause?: { code?: string } };
  const reason = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message);
  return new SinkError(`${what}: ${reason}`, true);
}

/** InfluxDB 1.x: `POST /write?db=&precision=ms`, `/query` for CREATE DATABASE, `/ping`. */
export class InfluxV1Sink implements Sink {
  readonly name: string;
  private readonly base: string;
  private readonly headers: Record<string, string> = {};
  private readonly timeoutMs: number;

  constructor(private readonly opts: InfluxV1Options) {
    this.base = opts.url.replace(/\/+$/, '');
    this.name = `influxdb-v1 ${this.base} db=${opts.database}`;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    if (opts.username) this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  }

  private async request(path: string, init: RequestInit, what: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw networkError(err, what);
    }
    if (!res.ok) throw await httpError(res, what);
    return res;
  }

  async connect(): Promise<void> {
    // Idempotent on InfluxDB 1.x: CREATE DATABASE on an existing database succeeds.
    const q = `CREATE DATABASE "${this.opts.database.replace(/["\\]/g, '\\$&')}"`;
    const res = await this.request('/query', { method: 'POST', body: new URLSearchParams({ q }) }, 'create database');
    const body = (await res.json()) as { results?: { error?: string }[]; error?: string };
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (error) throw new SinkError(`create database ${this.opts.database}: ${error}`, false);
  }

  async write(lineProtocol: string): Promise<void> {
    const params = new URLSearchParams({ db: this.opts.database, precision: 'ms' });
    if (this.opts.retentionPolicy) params.set('rp', this.opts.retentionPolicy);
    const res = await this.request(`/write?${params}`, { method: 'POST', body: lineProtocol, headers: { 'content-type': 'text/plain; charset=utf-8' } }, 'write');
    await res.arrayBuffer();
  }

  async ping(): Promise<void> {
    const res = await this.request('/ping', { method: 'GET' }, 'ping');
    await res.arrayBuffer();
  }

  async close(): Promise<void> {}
}
