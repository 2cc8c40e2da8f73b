import type { FastifyRequest } from 'fastify';
import type { Role } from './roles.js';
import { ALL_SITES, siteAllowed, type SiteScope } from './site-scope.js';

/** Who is making a request: the token's identity, role and site scope. */
export interface Principal {
  /** null with PP_AUTH=off. */
  tokenId: string | null;
  name: string;
  role: Role;
  scope: SiteScope;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every guarded `/api/` route (src/auth/auth-hook.ts). */
    principal: Principal | null;
  }
}

/** PP_AUTH=off: every request acts as an admin over every site. */
export const AUTH_OFF_PRINCIPAL: Principal = { tokenId: null, name: 'anonymous (PP_AUTH=off)', role: 'admin', scope: ALL_SITES };

const NO_SITES: SiteScope = { all: false, sites: [], prefixes: [] };

/**
 * The sites a request may see, for routes to put into their queries. A server built without the
 * auth hook (unit tests of single routes) has no `principal` decorator: everything, as before
 * auth existed. With the hook, a guarded request without a principal cannot happen; if it ever
 * did, it sees nothing (fail closed).
 */
export function scopeOf(req: FastifyRequest): SiteScope {
  if (!('principal' in req)) return ALL_SITES;
  return req.principal?.scope ?? NO_SITES;
}

export function requestMaySee(req: FastifyRequest, site: string): boolean {
  return siteAllowed(scopeOf(req), site);
}
