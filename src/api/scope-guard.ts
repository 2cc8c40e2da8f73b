import type { FastifyRequest } from 'fastify';
import { requestMaySee, scopeOf, type SiteScope } from '../auth/index.js';
import { PlantPulseError } from '../contract/index.js';

/**
 * For read routes: the caller's sites, to put into the query, after checking that a site the
 * request names explicitly is one of them (naming another site is a 403, not an empty answer,
 * so a mistake is visible).
 */
export function scopeFor(req: FastifyRequest, namedSite?: string): SiteScope {
  if (namedSite !== undefined && !requestMaySee(req, namedSite)) throw new PlantPulseError('PP_ERR_SITE_FORBIDDEN', namedSite);
  return scopeOf(req);
}
