import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AlertManager } from '../alerts/index.js';
import { alertsCsv, buildEnergyReport, energyReportCsv, LANGS, localTime, reportRange, type Lang } from '../reports/index.js';
import type { HistoryReader } from '../storage/index.js';
import { alertListQuery, alertQueryOf } from './alert-routes.js';
import { idParam, parseQuery, parseTime, timeParam } from './query-params.js';
import { scopeFor } from './scope-guard.js';

const langParam = z.enum(LANGS as [Lang, ...Lang[]]).default('en');

export const energyReportQuery = z.strictObject({
  site: idParam,
  from: timeParam.optional(),
  to: timeParam.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  lang: langParam,
});

/** The filters of `GET /api/v1/alerts`, a larger row limit (an export), and the language. */
export const alertsCsvQuery = alertListQuery.extend({
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
  lang: langParam,
});

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

/** `20261204T0800`: a file-name-safe plant-local time. */
function stamp(ts: number, utcOffsetMs: number): string {
  return localTime(ts, utcOffsetMs)!.slice(0, 16).replace(/[-:]/g, '').replace(' ', 'T');
}

function sendCsv(reply: FastifyReply, filename: string, body: string): FastifyReply {
  // Ids are [A-Za-z0-9_-]: the name needs no escaping.
  return reply.header('content-type', CSV_CONTENT_TYPE).header('content-disposition', `attachment; filename="${filename}"`).send(body);
}

export interface ReportDeps {
  alerts: AlertManager;
  /** Absent: no energy report (the alerts export still works). */
  history?: HistoryReader;
  /** Plant-local time (energy windows' `utcOffsetMinutes`): periods, and the times written in CSV. */
  utcOffsetMs: number;
  /** Completeness from device figures only (PP_SOURCE=nats: see readQualityReport's fromDevices). */
  qualityFromDevices?: boolean;
}

/**
 * Reports (docs/reports.md):
 * - `GET /api/v1/reports/energy?site=&from=&to=&format=json|csv&lang=en|zh`: src/reports/energy-report.ts;
 * - `GET /api/v1/alerts.csv?…&lang=`: the rows `GET /api/v1/alerts` gives for the same filters.
 * Both put the caller's scope into their queries; naming a site outside it is a 403.
 */
export function registerReportRoutes(app: FastifyInstance, deps: ReportDeps): void {
  const { alerts, history, utcOffsetMs } = deps;
  if (history) {
    app.get('/api/v1/reports/energy', async (req, reply) => {
      const q = parseQuery(energyReportQuery, req.query);
      const scope = scopeFor(req, q.site);
      const now = Date.now();
      const { from, to } = reportRange({ from: q.from === undefined ? undefined : parseTime(q.from, now)!, to: q.to === undefined ? undefined : parseTime(q.to, now)! }, utcOffsetMs, now);
      const report = await buildEnergyReport(history, alerts, { site: q.site, from, to, scope, utcOffsetMs, now, qualityFromDevices: deps.qualityFromDevices });
      if (q.format === 'json') return report;
      return sendCsv(reply, `plantpulse-energy-${q.site}-${stamp(from, utcOffsetMs)}-${stamp(to, utcOffsetMs)}${q.lang === 'zh' ? '-zh' : ''}.csv`, energyReportCsv(report, q.lang));
    });
  }

  app.get('/api/v1/alerts.csv', async (req, reply) => {
    const q = parseQuery(alertsCsvQuery, req.query);
    const now = Date.now();
    const list = alerts.query(alertQueryOf(q, scopeFor(req, q.site), now));
    // A full page may mean more alerts matched: say so, so an export is never silently short.
    if (list.length === q.limit) reply.header('x-pp-limit-reached', String(q.limit));
    return sendCsv(reply, `plantpulse-alerts-${q.site ?? 'all'}-${stamp(now, utcOffsetMs)}${q.lang === 'zh' ? '-zh' : ''}.csv`, alertsCsv(list, q.lang, utcOffsetMs));
  });
}
