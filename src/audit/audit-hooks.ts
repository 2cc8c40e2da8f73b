import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_OFF_PRINCIPAL } from '../auth/index.js';
import { maskUrlQuery } from '../observability/redact.js';
import { actorOf, type AuditAction, type AuditLog } from './audit-log.js';
import { registerAuditRoute } from './audit-route.js';

type Json = Record<string, unknown>;

interface Audited {
  action: AuditAction;
  /** Target and details from the request and the successful answer's JSON body (null for 204). */
  describe(req: FastifyRequest, answer: Json | null): { target: string; details: Json } | null;
}

const param = (req: FastifyRequest, name: string) => String((req.params as Record<string, unknown> | undefined)?.[name] ?? '');

/**
 * Which API routes leave an audit entry, keyed like src/auth/route-access.ts (`METHOD pattern`).
 * An entry is written for a successful answer (2xx) only, before it is sent.
 */
export const AUDITED_ROUTES: Readonly<Record<string, Audited>> = {
  'POST /api/v1/alerts/:id/ack': {
    action: 'alert.acknowledge',
    describe: (req, answer) => {
      const alert = answer?.alert as Json | undefined;
      if (!alert) return null;
      return { target: String(alert.id), details: { site: alert.site, line: alert.line, device: alert.device, rule: alert.rule, severity: alert.severity, by: alert.ackedBy, note: alert.ackNote, acknowledged: answer?.acknowledged } };
    },
  },
  'POST /api/v1/subscriptions': {
    action: 'subscription.create',
    describe: (_req, s) =>
      s && typeof s.id === 'string'
        ? { target: s.id, details: { name: s.name, url: typeof s.url === 'string' ? maskUrlQuery(s.url) : null, jurisdiction: s.jurisdiction, categories: s.categories, minSeverity: s.minSeverity, events: s.events, ownerRole: s.ownerRole, secretGenerated: 'secret' in s } }
        : null,
  },
  'DELETE /api/v1/subscriptions/:id': { action: 'subscription.delete', describe: (req) => ({ target: param(req, 'id'), details: {} }) },
  'POST /api/v1/subscriptions/:id/redeliver': { action: 'subscription.redeliver', describe: (req, answer) => ({ target: param(req, 'id'), details: { redelivered: answer?.redelivered } }) },
};

function parse(payload: unknown): Json | null {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return null;
  try {
    const v: unknown = JSON.parse(payload.toString());
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

/**
 * The audit log's HTTP side: an `onSend` hook recording the actions of AUDITED_ROUTES (actor =
 * the request's token) and `GET /api/v1/audit`. Call after the access hook is installed.
 */
export function installAudit(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const audited = req.routeOptions.url === undefined ? undefined : AUDITED_ROUTES[`${req.method} ${req.routeOptions.url}`];
    if (!audited || reply.statusCode < 200 || reply.statusCode >= 300) return payload;
    try {
      const what = audited.describe(req, reply.statusCode === 204 ? null : parse(payload));
      if (what) audit.record({ actor: actorOf(req.principal ?? AUTH_OFF_PRINCIPAL), action: audited.action, target: what.target, details: what.details, source: 'http', address: req.ip });
    } catch (err) {
      req.log.error({ err, action: audited.action }, 'audit entry not written');
    }
    return payload;
  });
  registerAuditRoute(app, audit);
}
