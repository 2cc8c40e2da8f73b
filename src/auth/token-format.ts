import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens: `ppt_<id>_<secret>`, id 12 hex characters (public: listed, used to revoke), secret
 * 32 random bytes in base64url (256 bits: guessing is hopeless, so a plain SHA-256 is a fine
 * hash, no slow KDF needed). Only the hash of the whole token is stored. The id lets the store
 * find the row, then the hashes are compared in constant time, so response timing says nothing
 * about how close a guess was.
 */
const TOKEN = /^ppt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  id: string;
  token: string;
}

export function generateToken(): ParsedToken {
  const id = randomBytes(6).toString('hex');
  const token = `ppt_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token };
}

/** null when `text` is not shaped like a token (it is then not looked up at all). */
export function parseToken(text: string): ParsedToken | null {
  const m = TOKEN.exec(text);
  return m ? { id: m[1]!, token: text } : null;
}

export function isTokenShaped(text: string): boolean {
  return TOKEN.test(text);
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: Buffer): boolean {
  const h = hashToken(token);
  return h.length === storedHash.length && timingSafeEqual(h, storedHash);
}
