import WebSocket, { type ClientOptions } from 'ws';
import type { ServerMessage } from '../../src/live/index.js';
import { waitFor } from './ports.js';

export interface Received {
  at: number;
  msg: ServerMessage;
}

/** A real `ws` client of the live hub that records what it receives (with arrival times) and how it was closed. */
export class LiveTestClient {
  readonly received: Received[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | null = null;

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => this.received.push({ at: Date.now(), msg: JSON.parse(data.toString()) as ServerMessage }));
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        resolve({ code, reason: reason.toString() });
      }),
    );
    this.ws.on('error', () => undefined); // a refused or dropped socket reports through `closed`
  }

  static async open(url: string, options?: ClientOptions): Promise<LiveTestClient> {
    const c = new LiveTestClient(url, options);
    await c.next('hello');
    return c;
  }

  /** The WebSocket handshake is done (the hub may still be deciding whether to take us). */
  opened(): Promise<void> {
    return new Promise((resolve) => (this.ws.readyState === this.ws.OPEN ? resolve() : this.ws.once('open', () => resolve())));
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Subscribe and wait for the hub's confirmation. */
  async subscribe(filters: { sites?: string[]; lines?: string[]; devices?: string[] } = {}): Promise<void> {
    const before = this.of('subscribed').length;
    this.send({ type: 'subscribe', ...filters });
    await waitFor(() => this.of('subscribed').length > before, 5000, 'subscribed');
  }

  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.received.filter((r) => r.msg.type === type).map((r) => r.msg as Extract<ServerMessage, { type: T }>);
  }

  telemetry(key: string): Received[] {
    return this.received.filter((r) => r.msg.type === 'telemetry' && `${r.msg.site}/${r.msg.line}/${r.msg.device}` === key);
  }

  /** Wait until a message of `type` (matching `where`) has arrived; returns the first such. */
  async next<T extends ServerMessage['type']>(type: T, where: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, timeoutMs = 10_000): Promise<Extract<ServerMessage, { type: T }>> {
    let found: Extract<ServerMessage, { type: T }> | undefined;
    await waitFor(() => (found = this.of(type).find(where)) !== undefined, timeoutMs, `live message ${type}`);
    return found!;
  }

  close(): void {
    this.ws.close();
  }
}
