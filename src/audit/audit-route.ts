import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseQuery, parseTime, timeParam } from '../api/query-params.js';
import { AUDIT_ACTIONS, type AuditLog } from './audit-log.js';

export const auditQuery = z.strictObject({
  from: timeParam.optional(),
  to: timeParam.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  actor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});

/**
 * `GET /api/v1/audit?from=&to=&action=&actor=&limit=` (admins only: `manage` in
 * src/auth/route-access.ts): audit entries, newest first. `actor` is a token id or an actor name.
 */
export function registerAuditRoute(app: FastifyInstance, audit: AuditLog): void {
  app.get('/api/v1/audit', async (req) => {
    const q = parseQuery(auditQuery, req.query);
    const now = Date.now();
    const entries = audit.query({
      from: q.from === undefined ? undefined : parseTime(q.from, now)!,
      to: q.to === undefined ? undefined : parseTime(q.to, now)!,
      action: q.action,
      actor: q.actor,
      limit: q.limit,
    });
    return { entries, count: entries.length, limit: q.limit };
  });
}
