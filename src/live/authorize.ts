import type { FastifyRequest } from 'fastify';
import type { LiveAccess } from './protocol.js';

/**
 * THE AUTH SEAM of the live hub: one function, called once per connection after the WebSocket
 * upgrade and before anything is sent, with the request and the token the client presented.
 * server.ts passes `AccessControl.liveAuthorizer` (src/auth/: API tokens, roles, site scopes);
 * without access control (route tests) it is `allowAll`. It answers either
 *   - `{ sites: 'all' | [...], prefixes?: [...] }`: the sites this client may see (a manager:
 *     their sites; a regulator: their jurisdiction). Telemetry and alerts of other sites are
 *     never sent, and subscribing to them is answered `{type:'error', code:'forbidden'}`; or
 *   - `{ refuse: 4401 | 4403, reason }`: the client gets `{type:'error', code:'unauthorized' |
 *     'forbidden', message: reason}` and the socket is closed with that code (4401: no or bad
 *     credentials; 4403: valid credentials without the right to watch, e.g. a gateway token).
 * Browsers cannot set headers on a WebSocket, so the token comes from `Authorization: Bearer`
 * when present, else from the `token` query parameter (the dashboard's way; request logging is
 * off, so it is not written to logs). Access is decided at connect time; a grant that names its
 * `tokenId` is watched afterwards (src/auth/token-watch.ts): once that token is revoked or expires, the
 * client gets `{type:'error', code:'unauthorized'}` and close 4401 within 5 s.
 */
export type LiveRefusal = { refuse: 4401 | 4403; reason: string };
export type LiveGrant = LiveAccess & { tokenId?: string };
export type LiveAuthorizer = (request: FastifyRequest, token: string | null) => LiveGrant | LiveRefusal | Promise<LiveGrant | LiveRefusal>;

export const allowAll: LiveAuthorizer = () => ({ sites: 'all' });

export function isRefusal(r: LiveGrant | LiveRefusal): r is LiveRefusal {
  return 'refuse' in r;
}

/** The token a client presented: `Authorization: Bearer <token>`, else `?token=`. */
export function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const bearer = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (bearer) return bearer[1]!;
  const q = request.query as Record<string, unknown> | undefined;
  return typeof q?.token === 'string' && q.token.length > 0 ? q.token : null;
}
