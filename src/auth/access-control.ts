import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type ErrorCode } from '../contract/index.js';
import type { LiveAuthorizer } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import type { WriteAuthorizer, WriteCredentials } from '../sources/line-protocol/index.js';
import type { AuthMetrics, DenialReason } from './auth-metrics.js';
import { FailureLimiter } from './failure-limiter.js';
import { AUTH_OFF_PRINCIPAL, requestMaySee, type Principal } from './principal.js';
import { can, type Permission } from './roles.js';
import { routeAccess, ROUTE_ACCESS } from './route-access.js';
import { siteAllowed } from './site-scope.js';
import { parseToken } from './token-format.js';
import type { TokenStore } from './token-store.js';

export type AuthMode = 'required' | 'off';

export interface AccessControlOptions {
  mode: AuthMode;
  /** Failed authentications per client address (and per token id) and window before further failing ones answer 429. */
  maxFailures: number;
  failureWindowMs: number;
  /** `/metrics`: `token` needs a token granting `metrics` (monitor, admin); `off` leaves it open. Default token. */
  metricsAuth?: 'token' | 'off';
}

export interface Denial {
  status: 401 | 403 | 429;
  code: ErrorCode;
  reason: DenialReason;
  message: string;
  retryAfterS?: number;
}

export type AuthOutcome = { principal: Principal } | { denial: Denial };

const HINT = 'send Authorization: Bearer <token> (an admin creates tokens with: plantpulse token create)';

/** `Authorization: Bearer <t>` (or InfluxDB's `Token <t>`): the token, else null. */
export function bearerToken(req: FastifyRequest): string | null {
  const m = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1]! : null;
}

/**
 * Authentication and authorization for the whole HTTP surface (nobody reads or writes where
 * they don't belong: docs/access.md, docs/guarantees.md): a hook on every `/api/` route (route-access.ts says what
 * each needs), the line protocol WriteAuthorizer and the live hub's authorize seam, all deciding
 * through `authenticate` and sharing one failed-authentication limiter.
 */
export class AccessControl {
  private readonly limiter: FailureLimiter;

  constructor(
    private readonly tokens: TokenStore,
    private readonly opts: AccessControlOptions,
    private readonly metrics: AuthMetrics,
    private readonly log: Logger,
  ) {
    this.limiter = new FailureLimiter({ maxFailures: opts.maxFailures, windowMs: opts.failureWindowMs });
  }

  /**
   * Who presents `token` from `address`, or why they are refused. A valid token is always
   * accepted: tokens carry 256 random bits, so there is no guessing to slow down, and refusing
   * valid ones would let one misconfigured gateway behind a plant's NAT lock out everyone there.
   * Failures are counted per address and per presented token id (one id tried from many
   * addresses); past PP_AUTH_MAX_FAILURES in a window, failing credentials from that address or
   * for that id answer 429 instead of 401 until the window ends, which tells a misconfigured
   * client to back off (Retry-After) and bounds the `authentication failed` log lines (with the
   * token's public id when it has one and `what` was asked; never the token).
   */
  authenticate(token: string | null, address: string, what?: string): AuthOutcome {
    if (this.opts.mode === 'off') return { principal: AUTH_OFF_PRINCIPAL };
    if (token === null) return { denial: this.denied({ status: 401, code: 'PP_ERR_UNAUTHORIZED', reason: 'missing_token', message: `${ERRORS.PP_ERR_UNAUTHORIZED.message}: no token; ${HINT}` }) };
    const info = this.tokens.verify(token);
    if (info) return { principal: { tokenId: info.id, name: info.name, role: info.role, scope: info.scope } };
    const tokenId = parseToken(token)?.id ?? null;
    const keys = tokenId === null ? [`address ${address}`] : [`address ${address}`, `token ${tokenId}`];
    const wait = Math.max(...keys.map((k) => this.limiter.blockedFor(k)));
    if (wait > 0) return { denial: this.denied({ status: 429, code: 'PP_ERR_TOO_MANY_AUTH_FAILURES', reason: 'rate_limited', message: `${ERRORS.PP_ERR_TOO_MANY_AUTH_FAILURES.message}; retry in ${wait} s`, retryAfterS: wait }) };
    for (const k of keys) this.limiter.fail(k);
    this.log.warn({ address, tokenId, request: what }, 'authentication failed');
    // Which of malformed, unknown or revoked is not said: that would help a guesser.
    return { denial: this.denied({ status: 401, code: 'PP_ERR_UNAUTHORIZED', reason: 'invalid_token', message: `${ERRORS.PP_ERR_UNAUTHORIZED.message}: the token is not valid (unknown, revoked or expired)` }) };
  }

  /** Install the request decorator and the `/api/` hook. Call before routes are registered. */
  install(app: FastifyInstance): void {
    app.decorateRequest('principal', null);
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/')) return;
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD' && !(`${method} ${route.url}` in ROUTE_ACCESS)) this.log.warn({ method, url: route.url }, 'API route missing from the access table (src/auth/route-access.ts): admins only');
      }
    });
    app.addHook('onRequest', async (req, reply) => {
      const pattern = req.routeOptions.url;
      // Judged on the route that matched, not on how the URL was spelt (`/%61pi/...`).
      if (!(pattern ?? req.url).startsWith('/api/')) return;
      // Unknown paths still need a token: a 404 without one would map the API for strangers.
      const access = pattern === undefined ? 'authenticated' : routeAccess(req.method, pattern);
      if (access === 'self') return;
      const outcome = this.authenticate(bearerToken(req), req.ip, `${req.method} ${req.url}`);
      if ('denial' in outcome) return this.send(reply, outcome.denial);
      const p = outcome.principal;
      req.principal = p;
      if (access !== 'authenticated' && !can(p.role, access)) {
        return this.send(reply, this.forbidden(`a ${p.role} token may not ${req.method} ${pattern}`));
      }
      const site = (req.params as Record<string, unknown> | undefined)?.site;
      if (typeof site === 'string' && !siteAllowed(p.scope, site)) return this.send(reply, this.siteDenial(site));
    });
  }

  /** For routes that learn the site from the body (JSON ingest without a path): 403 when outside the scope. */
  siteCheck = (req: FastifyRequest, site: string): Denial | null => (requestMaySee(req, site) ? null : this.siteDenial(site));

  siteDenial(site: string): Denial {
    return this.denied({ status: 403, code: 'PP_ERR_SITE_FORBIDDEN', reason: 'site_forbidden', message: `${ERRORS.PP_ERR_SITE_FORBIDDEN.message}: ${site}` });
  }

  private forbidden(what: string): Denial {
    return this.denied({ status: 403, code: 'PP_ERR_FORBIDDEN', reason: 'forbidden', message: `${ERRORS.PP_ERR_FORBIDDEN.message}: ${what}` });
  }

  /** The guard of `/metrics`, or undefined when PP_METRICS_AUTH=off (or PP_AUTH=off: nothing is checked anyway). */
  metricsGuard() {
    return this.opts.mode === 'off' || this.opts.metricsAuth === 'off' ? undefined : this.guard('metrics', 'GET /metrics');
  }

  /**
   * `onRequest` guard of a route outside `/api/` that needs `permission` (`/metrics` with
   * PP_METRICS_AUTH=token): a bearer token whose role grants it, answered like the API's 401/403/429.
   */
  guard(permission: Permission, what: string) {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const outcome = this.authenticate(bearerToken(req), req.ip, what);
      if ('denial' in outcome) return this.send(reply, outcome.denial);
      if (!can(outcome.principal.role, permission)) return this.send(reply, this.forbidden(`a ${outcome.principal.role} token may not ${what}`));
    };
  }

  /** The line protocol seam: token from `Token`/`Bearer`, or as the password (Basic, `?p=`; 1.x clients). */
  readonly writeAuthorizer: WriteAuthorizer = {
    authorize: async (credentials: WriteCredentials, _target, client) => {
      const outcome = this.authenticate(credentials.token ?? credentials.password ?? null, client?.address ?? '', 'line protocol write');
      if ('denial' in outcome) return outcome.denial;
      const p = outcome.principal;
      if (!can(p.role, 'ingest')) return this.forbidden(`a ${p.role} token may not write`);
      return p.scope.all ? null : { siteAllowed: (site: string) => siteAllowed(p.scope, site) };
    },
  };

  /** The live hub seam (src/live/authorize.ts): reading roles see their scope; others are refused. */
  readonly liveAuthorizer: LiveAuthorizer = (request, token) => {
    const outcome = this.authenticate(token, request.ip, `${request.method} ${request.url}`);
    if ('denial' in outcome) return { refuse: 4401, reason: outcome.denial.message };
    const p = outcome.principal;
    if (!can(p.role, 'read')) return { refuse: 4403, reason: this.forbidden(`a ${p.role} token may not watch live data`).message };
    const tokenId = p.tokenId ?? undefined;
    return p.scope.all ? { sites: 'all', tokenId } : { sites: p.scope.sites, prefixes: p.scope.prefixes, tokenId };
  };

  private denied(d: Denial): Denial {
    this.metrics.denied.inc({ reason: d.reason });
    return d;
  }

  private send(reply: FastifyReply, d: Denial): FastifyReply {
    if (d.status === 401) reply.header('www-authenticate', 'Bearer realm="plantpulse"');
    if (d.retryAfterS !== undefined) reply.header('retry-after', String(d.retryAfterS));
    return reply.code(d.status).send({ code: d.code, message: d.message });
  }
}
