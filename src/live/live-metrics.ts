import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../observability/index.js';

export type DropReason = 'slow' | 'heartbeat' | 'revoked';
export type RefusalReason = 'unauthorized' | 'forbidden' | 'full';
export type SentType = 'telemetry' | 'alert' | 'control';

/**
 * The hub's Prometheus metrics, registered on the platform's registry (kept here, beside the
 * hub, rather than in observability/metrics.ts, so the live hub stays one folder).
 */
export function createLiveMetrics(metrics: Metrics, clients: () => number) {
  const r = { registers: [metrics.registry] };
  return {
    clients: new Gauge({ ...r, name: 'pp_live_clients', help: 'WebSocket clients connected to the live hub', collect() { this.set(clients()); } }),
    messagesSent: new Counter({ ...r, name: 'pp_live_messages_sent_total', help: 'Messages the live hub sent, by type (control: hello, subscribed, error)', labelNames: ['type'] as const }),
    coalesced: new Counter({ ...r, name: 'pp_live_coalesced_total', help: 'Updates merged into a message already waiting for its throttle interval (not sent separately)' }),
    drops: new Counter({ ...r, name: 'pp_live_drops_total', help: 'Clients the hub disconnected: slow (too much unsent data), heartbeat (no pong) or revoked (their token was revoked while connected)', labelNames: ['reason'] as const }),
    refused: new Counter({ ...r, name: 'pp_live_refused_total', help: 'Connections refused: unauthorized, forbidden (authorize seam) or full (PP_LIVE_MAX_CLIENTS)', labelNames: ['reason'] as const }),
    clientErrors: new Counter({ ...r, name: 'pp_live_client_errors_total', help: 'Client messages answered with an error, by code', labelNames: ['code'] as const }),
  };
}

export type LiveMetrics = ReturnType<typeof createLiveMetrics>;
