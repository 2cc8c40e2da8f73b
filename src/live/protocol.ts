import { z } from 'zod';
import { ID_PATTERN } from '../contract/index.js';
import type { AlertTransition } from '../alerts/index.js';

/**
 * The live hub's WebSocket protocol (`/api/v1/live`), version 1. JSON text frames both ways.
 * docs/dashboard.md documents it for client authors; this file is the one definition.
 */
export const LIVE_PROTOCOL_VERSION = 1;

const id = ID_PATTERN.source.slice(1, -1);
const SITE = new RegExp(`^${id}$`);
const LINE = new RegExp(`^${id}/${id}$`);
const DEVICE = new RegExp(`^${id}/${id}/${id}$`);

/** Lists are capped here only so that a hostile frame cannot make us build a huge set; the per-client cap is PP_LIVE_MAX_SUBSCRIPTIONS. */
const list = (pattern: RegExp, what: string) => z.array(z.string().regex(pattern, `each must be ${what}`)).max(100_000).optional();

const filters = {
  sites: list(SITE, 'a site id'),
  lines: list(LINE, 'site/line'),
  devices: list(DEVICE, 'site/line/device'),
};

/** `subscribe` with no list (or only empty lists) means everything this client may see. `unsubscribe` with none: everything. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), ...filters }),
  z.strictObject({ type: z.literal('unsubscribe'), ...filters }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type SubscriptionFilters = Pick<ClientMessage, 'sites' | 'lines' | 'devices'>;

/** Which sites a client may see: every site, or a list (from the authorize seam), plus any site whose id starts with one of `prefixes` (a regulator's `zj-hz-*`). */
export interface LiveAccess {
  sites: 'all' | readonly string[];
  prefixes?: readonly string[];
}

export interface HelloMessage {
  type: 'hello';
  protocol: typeof LIVE_PROTOCOL_VERSION;
  access: LiveAccess;
  limits: { telemetryIntervalMs: number; maxSubscriptions: number; maxMessageBytes: number };
  /** Energy windows (and so "today") align on local midnight at this offset from UTC. */
  plantUtcOffsetMinutes: number;
  /** The server's clock (epoch ms) when it said hello: lets a client judge sample ages despite its own clock. */
  serverTime: number;
}

export interface SubscribedMessage {
  type: 'subscribed';
  all: boolean;
  sites: string[];
  lines: string[];
  devices: string[];
}

/**
 * Latest values of one device. `m` holds each metric's newest value since the previous message
 * for that device (several updates inside one throttle interval are merged, newest wins); the
 * first message after a subscribe holds every metric last seen. `ts` is the newest sample time.
 */
export interface TelemetryMessage {
  type: 'telemetry';
  site: string;
  line: string;
  device: string;
  ts: number;
  m: Record<string, number>;
}

export interface AlertMessage {
  type: 'alert';
  transition: AlertTransition['type'];
  ts: number;
  reason?: AlertTransition['reason'];
  alert: AlertTransition['alert'];
}

export type LiveErrorCode = 'invalid_message' | 'too_many_subscriptions' | 'forbidden' | 'unauthorized';

export interface ErrorMessage {
  type: 'error';
  code: LiveErrorCode;
  message: string;
}

export type ServerMessage = HelloMessage | SubscribedMessage | TelemetryMessage | AlertMessage | ErrorMessage;

/** Close codes the hub uses (RFC 6455 §7.4: 4000–4999 are the application's). */
export const CLOSE = {
  /** Server shutting down. */
  goingAway: 1001,
  /** A client frame above PP_LIVE_MAX_MESSAGE_BYTES (sent by `ws` itself). */
  messageTooBig: 1009,
  /** PP_LIVE_MAX_CLIENTS reached: try again later. */
  tryAgainLater: 1013,
  /** The client did not read fast enough: more than PP_LIVE_MAX_BUFFERED_BYTES waited unsent. */
  tooSlow: 4008,
  /** The authorize seam refused: no or bad credentials (HTTP 401's meaning); or the token was revoked or expired while connected. */
  unauthorized: 4401,
  /** The authorize seam refused: valid credentials, not allowed to watch live data (HTTP 403's meaning). */
  forbidden: 4403,
} as const;

export function alertMessage(t: AlertTransition): AlertMessage {
  return { type: 'alert', transition: t.type, ts: t.ts, ...(t.reason ? { reason: t.reason } : {}), alert: t.alert };
}
