import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AlertManager, AlertNotifier, AlertQuery } from '../alerts/index.js';
import { CATEGORIES } from '../alerts/types.js';
import type { SiteScope } from '../auth/index.js';
import { PlantPulseError } from '../contract/index.js';
import { parseJsonBody } from './json-body.js';
import { idParam, parseQuery, parseTime, timeParam } from './query-params.js';
import { scopeFor } from './scope-guard.js';

export const alertListQuery = z.strictObject({
  state: z.enum(['open', 'resolved']).optional(),
  site: idParam.optional(),
  line: idParam.optional(),
  device: idParam.optional(),
  category: z.enum(CATEGORIES as [string, ...string[]]).optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
});

/** An acknowledgement is at most ~13 kB of JSON (a 2000-character note, every character escaped). */
const ACK_BODY_LIMIT = 64 * 1024;
export const ackBody = z.strictObject({
  by: z.string().trim().min(1).max(128).optional(),
  note: z.string().max(2000).optional(),
});

/** The store query for the list's parameters (also `GET /api/v1/alerts.csv`, so both give the same rows). */
export function alertQueryOf(q: z.infer<typeof alertListQuery>, scope: SiteScope, now: number): AlertQuery {
  return {
    state: q.state,
    site: q.site,
    line: q.line,
    device: q.device,
    category: q.category as (typeof CATEGORIES)[number] | undefined,
    from: q.from === undefined ? undefined : parseTime(q.from, now)!,
    to: q.to === undefined ? undefined : parseTime(q.to, now)!,
    limit: q.limit,
    scope,
  };
}

/**
 * `GET /api/v1/alerts`: filtered in SQL; `GET /api/v1/alerts/:id`; `POST /api/v1/alerts/:id/ack`.
 * `by` defaults to the name of the acknowledging token. Every lookup carries the caller's scope.
 */
export function registerAlertRoutes(app: FastifyInstance, alerts: AlertManager, notifier: AlertNotifier): void {
  app.get('/api/v1/alerts', async (req) => {
    const q = parseQuery(alertListQuery, req.query);
    const list = alerts.query(alertQueryOf(q, scopeFor(req, q.site), Date.now()));
    return { alerts: list, count: list.length, limit: q.limit };
  });

  app.get<{ Params: { id: string } }>('/api/v1/alerts/:id', async (req) => {
    // Another site's alert is "not found": the scope is part of the lookup.
    const alert = alerts.get(req.params.id, scopeFor(req));
    if (!alert) throw new PlantPulseError('PP_ERR_UNKNOWN_ALERT', req.params.id);
    return alert;
  });

  app.post<{ Params: { id: string } }>('/api/v1/alerts/:id/ack', { bodyLimit: ACK_BODY_LIMIT }, async (req) => {
    const body = parseJsonBody(ackBody, req.body);
    const result = alerts.acknowledge(req.params.id, body.by ?? req.principal?.name ?? 'anonymous', body.note ?? null, scopeFor(req));
    if (!result) throw new PlantPulseError('PP_ERR_UNKNOWN_ALERT', req.params.id);
    if (result.transition) notifier.notify([result.transition]);
    return { alert: result.alert, acknowledged: result.transition !== null };
  });
}
