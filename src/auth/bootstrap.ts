import type { Logger } from '../observability/index.js';
import { ALL_SITES } from './site-scope.js';
import type { TokenStore } from './token-store.js';

/**
 * Makes sure someone can administer a platform with PP_AUTH=required:
 * - PP_BOOTSTRAP_ADMIN_TOKEN set: that token is stored (hashed) as an admin token, once;
 * - otherwise, when no active admin token exists (a fresh data dir: `npm ci && npm start`) and
 *   `createIfNone` (PP_AUTH=required), one is created and returned, for the banner to print
 *   once. It is never logged.
 * Returns the plaintext of a token created now, else null.
 */
export function bootstrapAdmin(tokens: TokenStore, bootstrapToken: string | undefined, log: Logger, createIfNone = true): string | null {
  if (bootstrapToken) {
    const info = tokens.ensure(bootstrapToken, { role: 'admin', scope: ALL_SITES, name: 'bootstrap admin', createdBy: 'PP_BOOTSTRAP_ADMIN_TOKEN' });
    if (info.revokedAt !== null) log.warn({ tokenId: info.id }, 'PP_BOOTSTRAP_ADMIN_TOKEN was revoked; it stays revoked');
    return null;
  }
  if (!createIfNone || tokens.activeAdminCount() > 0) return null;
  const { token, info } = tokens.create({ role: 'admin', scope: ALL_SITES, name: 'first admin', createdBy: 'start-up' });
  log.warn({ tokenId: info.id }, 'no admin token existed: created one (printed once in the banner; revoke it with plantpulse token revoke once you have your own)');
  return token;
}
