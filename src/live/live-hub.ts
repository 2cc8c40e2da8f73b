import type { WebSocket } from 'ws';
import type { AlertNotifier, AlertTransition } from '../alerts/index.js';
import type { TokenWatch } from '../auth/index.js';
import type { TelemetryBatch } from '../contract/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { LatestValues } from './latest-values.js';
import { LiveClient, type LiveClientLimits, type LiveSocket } from './live-client.js';
import { createLiveMetrics, type LiveMetrics } from './live-metrics.js';
import { CLOSE, LIVE_PROTOCOL_VERSION, type LiveAccess } from './protocol.js';

export interface LiveHubOptions extends LiveClientLimits {
  /** Largest frame a client may send (enforced by `ws` as maxPayload: close 1009). */
  maxMessageBytes: number;
  maxClients: number;
  /** Ping every client this often; one that has not answered the previous ping is dropped. */
  pingIntervalMs: number;
  /** Told to clients so they know when the plant's day (and its energy windows) starts. */
  plantUtcOffsetMinutes: number;
}

/**
 * The live hub (docs/architecture.md: stored batches and alert transitions → live hub): pushes stored telemetry and alert transitions to
 * WebSocket clients (the dashboard), each filtered by the client's subscription and the sites it
 * may see. Fed by the pipeline once a batch is durable (`publish`) and by the alert fan-out
 * (`notify`); it never blocks either: every send is a non-blocking write or a coalesced hold.
 */
export class LiveHub implements AlertNotifier {
  readonly name = 'live';
  private readonly clients = new Set<LiveClient>();
  private readonly latest = new LatestValues();
  private readonly metrics: LiveMetrics;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    readonly options: LiveHubOptions,
    metrics: Metrics,
    private readonly log: Logger,
    /** Ends the connections of tokens revoked while connected (the platform's; none in route tests). */
    private readonly tokenWatch?: TokenWatch,
  ) {
    this.metrics = createLiveMetrics(metrics, () => this.clients.size);
    this.heartbeat = setInterval(() => {
      for (const c of [...this.clients]) if (!c.heartbeat()) this.log.debug('live client dropped: no pong');
    }, options.pingIntervalMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** A stored batch (pipeline `onStored`). History (`historical`) and stale replays are not live. */
  publish(batch: TelemetryBatch): void {
    if (batch.historical) return;
    // Nobody listening (the usual case at high rates): keep the values for the next subscriber,
    // without building a message per batch for no one.
    if (this.clients.size === 0) return this.latest.record(batch);
    const msg = this.latest.update(batch);
    if (msg === null) return;
    for (const c of this.clients) c.telemetry(msg);
  }

  notify(transitions: readonly AlertTransition[]): void {
    for (const t of transitions) for (const c of this.clients) c.alert(t);
  }

  /**
   * Take over an upgraded socket whose access the authorize seam granted (to `tokenId`, when
   * the grant came from a token). Wires the socket's events; returns null (socket closed 1013)
   * when PP_LIVE_MAX_CLIENTS are connected.
   */
  connect(socket: WebSocket, access: LiveAccess, tokenId?: string): LiveClient | null {
    if (this.clients.size >= this.options.maxClients) {
      this.metrics.refused.inc({ reason: 'full' });
      socket.close(CLOSE.tryAgainLater, `live hub full (${this.options.maxClients} clients); try again later`);
      return null;
    }
    const client = this.attach(socket, access);
    socket.on('message', (data, isBinary) => client.receive(data, isBinary));
    socket.on('pong', () => client.pong());
    socket.on('close', () => client.closedBySocket());
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'live client socket error'));
    if (tokenId !== undefined && this.tokenWatch) {
      this.tokenWatch.add({
        tokenId,
        gone: () => client.isClosed,
        end: (reason) => {
          this.log.info({ tokenId }, 'live client disconnected: its token was revoked or expired');
          client.revoked(reason);
        },
      });
    }
    return client;
  }

  /** Register a client on any socket-like object and greet it (connect() wires a real `ws` socket to it). */
  attach(socket: LiveSocket, access: LiveAccess): LiveClient {
    const client = new LiveClient(socket, access, this.options, { metrics: this.metrics, latest: this.latest, onGone: (c) => this.clients.delete(c) });
    this.clients.add(client);
    const o = this.options;
    client.send({ type: 'hello', protocol: LIVE_PROTOCOL_VERSION, access, limits: { telemetryIntervalMs: o.telemetryIntervalMs, maxSubscriptions: o.maxSubscriptions, maxMessageBytes: o.maxMessageBytes }, plantUtcOffsetMinutes: o.plantUtcOffsetMinutes, serverTime: Date.now() });
    return client;
  }

  /** Count a connection the authorize seam refused. */
  refused(reason: 'unauthorized' | 'forbidden'): void {
    this.metrics.refused.inc({ reason });
  }

  /** Shutdown: say goodbye to every client (1001) and stop the heartbeat. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const c of [...this.clients]) c.close(CLOSE.goingAway, 'server shutting down');
  }
}
