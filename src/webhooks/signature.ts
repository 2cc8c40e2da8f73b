import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Webhook signatures, two schemes on every delivery, both keyed with the subscription's secret
 * (its UTF-8 bytes) and both signing the timestamp, so a captured request cannot be replayed
 * later (receivers reject old timestamps):
 *
 * - Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (the delivery's
 *   idempotency key), `webhook-timestamp` (Unix s) and `webhook-signature: v1,<base64 HMAC-SHA256
 *   of id.timestamp.body>`, signed with the `standardwebhooks` library itself, so a receiver
 *   verifies with any maintained Standard Webhooks library given the `whsec_` form of the secret;
 * - the platform's first scheme, kept for one release so existing receivers keep working:
 *   `X-PlantPulse-Signature: v1=<hex HMAC-SHA256 of timestamp.body>` beside
 *   `X-PlantPulse-Timestamp`.
 *
 * docs/webhooks.md shows receivers both checks.
 */
export const SIGNATURE_HEADER = 'x-plantpulse-signature';
export const TIMESTAMP_HEADER = 'x-plantpulse-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const EVENT_HEADER = 'x-plantpulse-event';
export const SUBSCRIPTION_HEADER = 'x-plantpulse-subscription';
export const ATTEMPT_HEADER = 'x-plantpulse-attempt';
export const STANDARD_ID_HEADER = 'webhook-id';
export const STANDARD_TIMESTAMP_HEADER = 'webhook-timestamp';
export const STANDARD_SIGNATURE_HEADER = 'webhook-signature';

/** The subscription secret as Standard Webhooks libraries take it: `whsec_` + base64 of its bytes. */
export function standardSecret(secret: string): string {
  return `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}

/** The three Standard Webhooks headers of one attempt (`timestamp`: Unix seconds). */
export function standardHeaders(secret: string, id: string, timestamp: string, body: string): Record<string, string> {
  const signature = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).sign(id, new Date(Number(timestamp) * 1000), body);
  return { [STANDARD_ID_HEADER]: id, [STANDARD_TIMESTAMP_HEADER]: timestamp, [STANDARD_SIGNATURE_HEADER]: signature };
}

/** The first scheme's `X-PlantPulse-Signature` (kept for one release). */
export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver of the first scheme does: recompute, compare in constant time, and refuse stale timestamps. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string, toleranceS = 300, nowMs = Date.now()): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > toleranceS) return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
