import type { RawData, WebSocket } from 'ws';
import type { AlertTransition } from '../alerts/index.js';
import { Coalescer } from './coalescer.js';
import type { LatestValues } from './latest-values.js';
import type { DropReason, LiveMetrics } from './live-metrics.js';
import { CLOSE, alertMessage, clientMessageSchema, type AlertMessage, type LiveAccess, type LiveErrorCode, type ServerMessage, type SubscriptionFilters, type TelemetryMessage } from './protocol.js';
import { Subscription, namedBy } from './subscription.js';

/** The part of a `ws` socket the hub uses (tests may hand in their own). */
export type LiveSocket = Pick<WebSocket, 'send' | 'close' | 'terminate' | 'ping' | 'bufferedAmount'>;

export interface LiveClientLimits {
  /** Least time between two telemetry messages of one device (500 ms: at most 2 per second). */
  telemetryIntervalMs: number;
  /** Unsent bytes above which the client is dropped as too slow. */
  maxBufferedBytes: number;
  maxSubscriptions: number;
}

export interface LiveClientContext {
  metrics: LiveMetrics;
  latest: LatestValues;
  /** The client is gone (closed by either side, or dropped): forget it. */
  onGone(client: LiveClient): void;
}

type Outgoing = TelemetryMessage | AlertMessage;

/** How long a client dropped as slow gets to read up to our close frame before its socket is destroyed. */
const SLOW_CLOSE_GRACE_MS = 5000;

/**
 * One WebSocket client of the live hub: what it subscribed to, a per-device (and per-alert)
 * coalescing throttle, and the slow-client guard. Nothing is ever queued for a client beyond
 * one pending message per device: a client that does not read is dropped once the socket's own
 * buffer passes the limit, so a stuck browser tab costs bounded memory.
 */
export class LiveClient {
  /** Cleared at each heartbeat, set by a pong (or any message): still false at the next heartbeat means dead. */
  private alive = true;
  private closed = false;
  private readonly subscription: Subscription;
  private readonly out: Coalescer<Outgoing>;

  constructor(
    private readonly socket: LiveSocket,
    readonly access: LiveAccess,
    private readonly limits: LiveClientLimits,
    private readonly ctx: LiveClientContext,
  ) {
    this.subscription = new Subscription(access);
    this.out = new Coalescer<Outgoing>(limits.telemetryIntervalMs, (_key, msg) => this.send(msg), mergeOutgoing);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A frame from the client. Errors are answered, never thrown: a bad client costs only itself. */
  receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.alive = true;
    if (isBinary) return this.error('invalid_message', 'send JSON text frames');
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch (err) {
      return this.error('invalid_message', `not JSON: ${(err as Error).message}`);
    }
    const r = clientMessageSchema.safeParse(parsed);
    if (!r.success) return this.error('invalid_message', r.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; '));
    const msg = r.data;
    if (msg.type === 'unsubscribe') {
      this.subscription.remove(msg);
      return this.send(this.subscription.describe());
    }
    const forbidden = this.subscription.forbidden(msg);
    if (forbidden.length > 0) return this.error('forbidden', `not allowed to watch site ${forbidden.join(', ')}`);
    const size = this.subscription.sizeAfterAdding(msg);
    if (size > this.limits.maxSubscriptions) return this.error('too_many_subscriptions', `this would make ${size} subscriptions; at most ${this.limits.maxSubscriptions} per connection`);
    this.subscription.add(msg);
    this.send(this.subscription.describe());
    this.snapshot(msg);
  }

  pong(): void {
    this.alive = true;
  }

  telemetry(msg: TelemetryMessage): void {
    if (this.closed || !this.subscription.matches(msg.site, msg.line, msg.device)) return;
    this.offer(`${msg.site}/${msg.line}/${msg.device}`, msg);
  }

  /** Transitions go out at once, except `updated` (a repeat of an open alert), which is throttled like telemetry. */
  alert(t: AlertTransition): void {
    const a = t.alert;
    if (this.closed || !this.subscription.matches(a.site, a.line, a.device)) return;
    const key = `alert:${a.id}`;
    if (t.type === 'updated') return this.offer(key, alertMessage(t));
    this.out.cancel(key); // a held `updated` must not arrive after the `resolved` that follows it
    this.send(alertMessage(t));
  }

  /** Returns false when the client missed its pong and was dropped. */
  heartbeat(): boolean {
    if (this.closed) return false;
    if (!this.alive) {
      this.gone('heartbeat');
      this.socket.terminate();
      return false;
    }
    this.alive = false;
    this.socket.ping();
    this.out.prune();
    return true;
  }

  send(msg: ServerMessage): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      const unsent = this.socket.bufferedAmount;
      this.gone('slow');
      this.socket.close(CLOSE.tooSlow, `too slow: ${unsent} bytes unsent`);
      setTimeout(() => this.socket.terminate(), SLOW_CLOSE_GRACE_MS).unref();
      return;
    }
    this.socket.send(JSON.stringify(msg));
    this.ctx.metrics.messagesSent.inc({ type: msg.type === 'telemetry' || msg.type === 'alert' ? msg.type : 'control' });
  }

  /** The socket closed (either side): stop sending and release the throttle. */
  closedBySocket(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
    this.ctx.onGone(this);
  }

  /** Its token is no longer active (revoked, expired): say why, then close 4401 (as if it had connected with that token now). */
  revoked(reason: string): void {
    if (this.closed) return;
    this.send({ type: 'error', code: 'unauthorized', message: reason });
    this.gone('revoked');
    this.socket.close(CLOSE.unauthorized, reason);
  }

  /** Server side close (shutdown). */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closedBySocket();
    this.socket.close(code, reason);
  }

  private gone(reason: DropReason): void {
    this.ctx.metrics.drops.inc({ reason });
    this.closedBySocket();
  }

  private offer(key: string, msg: Outgoing): void {
    if (!this.out.offer(key, msg)) this.ctx.metrics.coalesced.inc();
  }

  /** What a subscribe just added, at once: the latest values of the devices it names. */
  private snapshot(f: SubscriptionFilters): void {
    const named = namedBy(f);
    for (const v of this.ctx.latest.all()) {
      if (this.closed) return;
      if (named(v.site, v.line, v.device) && this.subscription.allowed(v.site)) this.offer(`${v.site}/${v.line}/${v.device}`, { ...v, m: { ...v.m } }); // a copy: the entry changes in place
    }
  }

  private error(code: LiveErrorCode, message: string): void {
    this.ctx.metrics.clientErrors.inc({ code });
    this.send({ type: 'error', code, message });
  }
}

/** Two telemetry updates of one device merge (newest value per metric); anything else: the newer wins. */
function mergeOutgoing(older: Outgoing, newer: Outgoing): Outgoing {
  if (older.type === 'telemetry' && newer.type === 'telemetry') return { ...newer, ts: Math.max(older.ts, newer.ts), m: { ...older.m, ...newer.m } };
  return newer;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
