import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { freePort } from './ports.js';

/** One request as the receiver saw it. */
export interface HookRequest {
  path: string;
  key: string;
  subscription: string;
  event: string;
  attempt: number;
  timestamp: string;
  signature: string;
  body: string;
  /** Every header, as received (lower-case names). */
  headers: Record<string, string>;
  /**
   * For paths with a Standard Webhooks secret (`standardSecrets`): null when the `standardwebhooks`
   * library verified the request on arrival, else its error (the receiver then answered 400).
   */
  standardError?: string | null;
  arrivedAt: number;
  /** What the receiver answered (null while it is still "working" on it). */
  status: number | null;
}

/**
 * How the receiver behaves:
 * - `failFirst`: the first N requests of each idempotency key answer 503;
 * - `slowFirstMs` / `slowMs`: the first request of each key is answered after `slowFirstMs`,
 *   later ones after `slowMs` (a receiver that processes, then answers late).
 */
export interface ReceiverBehaviour {
  failFirst: number;
  slowFirstMs: number;
  slowMs: number;
}

/**
 * A real HTTP webhook receiver for tests, on a fixed port so it can be stopped ("down") and
 * started again at the same URL. It records every request in arrival order.
 */
export class WebhookReceiver {
  readonly requests: HookRequest[] = [];
  behaviour: ReceiverBehaviour = { failFirst: 0, slowFirstMs: 0, slowMs: 0 };
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly seen = new Map<string, number>();
  /** Path → the subscription's `signingSecret` (`whsec_…`): requests to it are verified like a Standard Webhooks receiver does. */
  readonly standardSecrets = new Map<string, string>();

  private constructor(readonly port: number) {}

  static async start(): Promise<WebhookReceiver> {
    return WebhookReceiver.startOn(await freePort());
  }

  static async startOn(port: number): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(port);
    await r.up();
    return r;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Down: connections are cut and refused until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const header = (name: string) => String(req.headers[name] ?? '');
    const r: HookRequest = {
      path: req.url ?? '',
      key: header('idempotency-key'),
      subscription: header('x-plantpulse-subscription'),
      event: header('x-plantpulse-event'),
      attempt: Number(header('x-plantpulse-attempt')),
      timestamp: header('x-plantpulse-timestamp'),
      signature: header('x-plantpulse-signature'),
      body: Buffer.concat(chunks).toString('utf8'),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')])),
      arrivedAt: Date.now(),
      status: null,
    };
    this.requests.push(r);
    const secret = this.standardSecrets.get(r.path);
    if (secret !== undefined) {
      // Exactly what a receiver does with the library: raw body, the request's headers, its secret.
      try {
        new Webhook(secret).verify(r.body, r.headers);
        r.standardError = null;
      } catch (err) {
        r.standardError = (err as Error).message;
        return this.answer(res, r, 400);
      }
    }
    const n = (this.seen.get(r.key) ?? 0) + 1;
    this.seen.set(r.key, n);
    const b = this.behaviour;
    if (n <= b.failFirst) return this.answer(res, r, 503);
    const delay = n === b.failFirst + 1 ? b.slowFirstMs : b.slowMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    this.answer(res, r, 200);
  }

  private answer(res: ServerResponse, r: HookRequest, status: number): void {
    r.status = status;
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try later');
  }

  /** Requests for one subscription path, in arrival order. */
  of(path: string): HookRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    await this.down();
  }
}
