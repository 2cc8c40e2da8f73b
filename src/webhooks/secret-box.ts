import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets as the API nodes of a NATS fleet share them (PP_WEBHOOK_SHARED_SECRET_KEY):
 * AES-256-GCM under a key derived from the configured one, so the NATS servers' store, and anyone
 * reading the bucket with the platform user's credentials but without that key, holds no secret.
 * Sealed form: `v1.` + base64url(12-byte IV, 16-byte tag, ciphertext).
 */
const PREFIX = 'v1.';
const keyOf = (configured: string) => Buffer.from(hkdfSync('sha256', configured, 'plantpulse', 'webhook signing secrets', 32));

export function sealSecret(secret: string, configured: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(configured), iv);
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The secret, or an error saying why not (another key, or not a sealed secret). */
export function openSecret(sealed: string, configured: string): string {
  if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed webhook secret');
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', keyOf(configured), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('the webhook secret was sealed with another PP_WEBHOOK_SHARED_SECRET_KEY');
  }
}
