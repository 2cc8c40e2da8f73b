/**
 * Ends long-lived connections whose token stopped being active (revoked with the CLI, from any
 * process, or past its expiry): MQTT clients of the embedded broker and live WebSockets. A token is checked when a
 * connection opens; this re-asks the token store every `intervalMs` for the tokens that still
 * hold connections (one lookup per distinct token, not per connection) and ends those whose
 * token is gone. The default 4 s keeps "cut within 5 s" true on a busy event loop.
 */
export const TOKEN_RECHECK_MS = 4000;

/** A connection opened with a token. */
export interface WatchedConnection {
  tokenId: string;
  /** True once the connection closed by itself: it is then forgotten. */
  gone(): boolean;
  /** Close it: its token is no longer active. */
  end(reason: string): void;
}

export class TokenWatch {
  private readonly connections = new Set<WatchedConnection>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly isActive: (tokenId: string) => boolean,
    readonly intervalMs: number = TOKEN_RECHECK_MS,
  ) {}

  add(c: WatchedConnection): void {
    this.connections.add(c);
  }

  get size(): number {
    return this.connections.size;
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass: forget closed connections, end those whose token is no longer active. */
  check(): void {
    const byToken = new Map<string, WatchedConnection[]>();
    for (const c of this.connections) {
      if (c.gone()) {
        this.connections.delete(c);
        continue;
      }
      const list = byToken.get(c.tokenId);
      if (list) list.push(c);
      else byToken.set(c.tokenId, [c]);
    }
    for (const [tokenId, list] of byToken) {
      let active: boolean;
      try {
        active = this.isActive(tokenId);
      } catch {
        continue; // the store is busy (the CLI holds its lock): ask again next pass
      }
      if (active) continue;
      for (const c of list) {
        this.connections.delete(c);
        c.end('token revoked or expired');
      }
    }
  }
}
