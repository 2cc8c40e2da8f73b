import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AlertTransition } from '../alerts/index.js';
import { CATEGORIES, SEVERITIES, SEVERITY_RANK, type Category, type Severity } from '../alerts/types.js';
import { formatScope, siteAllowed, type Role, type SiteScope } from '../auth/index.js';
import { maskUrlQuery } from '../observability/redact.js';

/** Transitions a webhook can carry (`updated` repeats are for live views only, as on MQTT). */
export const WEBHOOK_EVENTS = ['opened', 'resolved', 'acknowledged'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** A regulator's (or an admin's) standing order: these alerts, to this URL, signed with this secret. */
export interface Subscription {
  id: string;
  name: string | null;
  url: string;
  /** Sites and site prefixes whose alerts are sent. */
  jurisdiction: SiteScope;
  categories: Category[];
  minSeverity: Severity;
  events: WebhookEvent[];
  /** The token that created it; a regulator's subscription stops matching once its token is revoked. */
  ownerTokenId: string | null;
  ownerRole: Role;
  createdAt: number;
  /**
   * Shared by the API nodes of a NATS fleet: the last sequence of the alert stream when it was
   * made. It gets the transitions of later messages only, so an API node reading the stream from
   * its start (new, or with a new data dir) does not queue history for it. Unset on one process.
   */
  fromSeq?: number;
}

const webhookUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      // Credentials in the URL would be stored and shown; the signature is the authentication.
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without user:password');

/** `POST /api/v1/subscriptions` body. Unset lists mean "all"; an unset secret is generated and returned once. */
export const newSubscriptionSchema = z.strictObject({
  url: webhookUrl,
  name: z.string().trim().min(1).max(128).optional(),
  jurisdiction: z.array(z.string().max(65)).min(1).max(1000).optional(),
  categories: z.array(z.enum(CATEGORIES as [Category, ...Category[]])).min(1).optional(),
  minSeverity: z.enum(SEVERITIES as [Severity, ...Severity[]]).default('info'),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
  secret: z.string().min(16, 'at least 16 characters').max(256).optional(),
});
export type NewSubscription = z.infer<typeof newSubscriptionSchema>;

export function matches(s: Subscription, t: AlertTransition): boolean {
  return (
    isAfterStart(s, t) &&
    (WEBHOOK_EVENTS as readonly string[]).includes(t.type) &&
    s.events.includes(t.type as WebhookEvent) &&
    s.categories.includes(t.alert.category) &&
    SEVERITY_RANK[t.alert.severity] >= SEVERITY_RANK[s.minSeverity] &&
    siteAllowed(s.jurisdiction, t.alert.site)
  );
}

/**
 * Whether a transition is news for the subscription. On one process every transition told after
 * it was made is. A shared one takes the transitions of alert stream messages after `fromSeq`,
 * and every one an API node decided itself (acknowledgements, stale resolutions: API nodes
 * publish those to the stream too, so a node that starts later reads them there and does not
 * decide them again).
 */
function isAfterStart(s: Subscription, t: AlertTransition): boolean {
  return s.fromSeq === undefined || t.streamSeq === undefined || t.streamSeq > s.fromSeq;
}

/** One transition's identity: its alert, what happened, and when (replays agree on all three). */
export function transitionId(t: AlertTransition): string {
  return `${t.alert.id}:${t.type}:${t.ts}`;
}

/** Stable per (subscription, transition): a receiver deduplicates retries and restarts with it. */
export function idempotencyKey(subscriptionId: string, t: AlertTransition): string {
  return createHash('sha256').update(`${subscriptionId}\n${transitionId(t)}`).digest('base64url').slice(0, 32);
}

/**
 * What the API shows: never the secret, and the URL with its query values hidden (receivers put
 * secrets there, `?token=`); only the creation answer carries the full URL.
 */
export function describeSubscription(s: Subscription) {
  return { id: s.id, name: s.name, url: maskUrlQuery(s.url), jurisdiction: formatScope(s.jurisdiction), categories: s.categories, minSeverity: s.minSeverity, events: s.events, ownerTokenId: s.ownerTokenId, ownerRole: s.ownerRole, createdAt: s.createdAt };
}
