import type { FastifyInstance } from 'fastify';

/**
 * What one HTTP client can hold, and for how long (slowloris, slow bodies, idle and flooding
 * connections). Node's HTTP server enforces the timeouts: a request whose headers, or whole body,
 * have not arrived in time is answered 408 (PP_ERR_REQUEST_TIMEOUT) and its connection closed.
 * Beyond `maxConnections` open connections (kept-alive and WebSocket ones included) a new
 * connection is closed as soon as it is accepted, so a flood costs file descriptors and memory
 * only up to that bound; the timeouts then free the slots that slow clients hold.
 */
export interface HttpLimits {
  /**
   * Time to receive the request line and headers (Node's `headersTimeout`). They are a few hundred
   * bytes, which every real client (gateway, Telegraf, browser) sends in one TCP segment: even over
   * a GPRS link with a 2 s round trip and a retransmission they arrive in well under 10 s, so
   * 20 s (Node: 60 s) costs nobody while bounding how long a slowloris holds a connection.
   */
  headersTimeoutMs: number;
  /**
   * Time to receive the whole request, body included (Node's `requestTimeout`). The largest body
   * (PP_INGEST_MAX_BYTES, 1 MiB) over a poor 100 kbit/s uplink takes about 85 s: 120 s leaves
   * room for that and bounds a slow-body client. The time spent answering (waiting for storage)
   * is not counted.
   */
  requestTimeoutMs: number;
  /**
   * Open connections at most. 2048 is twice the live hub's default client limit and leaves room
   * for hundreds of gateways; memory held by bodies in flight is at most this × PP_INGEST_MAX_BYTES.
   */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, maxConnections: 2048 };

/**
 * Idle time of a kept-alive connection between requests: above a gateway's usual 1–5 s posting
 * interval (connections are reused, not reopened), short enough that idle sockets do not pile up.
 * Behind a load balancer, give the balancer a shorter idle timeout than this.
 */
const KEEP_ALIVE_TIMEOUT_MS = 10_000;

/** Fastify (and Node `http.createServer`) options for these limits. */
export function httpServerOptions(limits: HttpLimits) {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    // Socket inactivity (Fastify's connectionTimeout): catches what the request checks do not,
    // e.g. a client that stops reading our answer. Longer than a request may take to arrive.
    connectionTimeout: limits.requestTimeoutMs + 10_000,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts only this often (default 30 s, which would let a 20 s limit
      // run to 50 s). The check walks the open connections: cheap even at the connection cap.
      connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(headersTimeout / 4))),
    },
  };
}

export function capConnections(app: FastifyInstance, limits: HttpLimits): void {
  app.server.maxConnections = limits.maxConnections;
}
