import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: HMAC-SHA256 with the subscription's secret over `timestamp + "." + body`,
 * hex, sent as `X-PlantPulse-Signature: v1=<hex>` beside `X-PlantPulse-Timestamp: <unix s>`.
 * The timestamp is signed so a captured request cannot be replayed later (receivers reject old
 * timestamps); `v1=` leaves room for another scheme without breaking receivers.
 * docs/webhooks.md shows receivers the same check in a few lines of Node.
 */
export const SIGNATURE_HEADER = 'x-plantpulse-signature';
export const TIMESTAMP_HEADER = 'x-plantpulse-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const EVENT_HEADER = 'x-plantpulse-event';
export const SUBSCRIPTION_HEADER = 'x-plantpulse-subscription';
export const ATTEMPT_HEADER = 'x-plantpulse-attempt';

export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute, compare in constant time, and refuse stale timestamps. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string, toleranceS = 300, nowMs = Date.now()): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > toleranceS) return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
