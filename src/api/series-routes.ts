import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ID_PATTERN, PlantPulseError } from '../contract/index.js';
import type { HistoryReader } from '../storage/index.js';
import { scopeInfluxQL } from '../auth/index.js';
import { durationParam, idParam, lit, metricParam, parseDuration, parseQuery, timeParam, timeRange } from './query-params.js';
import { scopeFor } from './scope-guard.js';

/** Steps an automatic `every` picks from: the smallest that keeps a series under TARGET_POINTS. */
const NICE_STEPS = ['1s', '5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '7d'];
const TARGET_POINTS = 1000;
const MAX_POINTS = 10_000;
const MAX_SPAN_MS = 400 * 86_400_000;

export const seriesQuery = z
  .strictObject({
    // `device` is either a full key `site/line/device` or, with `site` and `line`, the device id.
    device: z.string().min(1).max(200),
    site: idParam.optional(),
    line: idParam.optional(),
    metric: metricParam,
    from: timeParam.optional(),
    to: timeParam.optional(),
    every: durationParam.optional(),
  })
  .transform((q, ctx) => {
    const parts = q.device.split('/');
    const [site, line, device] = parts.length === 3 ? parts : [q.site, q.line, q.device];
    for (const [name, v] of [['site', site], ['line', line], ['device', device]] as const) {
      if (v === undefined || !ID_PATTERN.test(v)) ctx.addIssue({ code: 'custom', path: [name], message: parts.length === 3 ? 'device key must be site/line/device with ids matching [A-Za-z0-9_-]{1,64}' : 'give device=site/line/device, or site, line and device ids' });
    }
    return { ...q, site: site!, line: line!, device: device! };
  });

export function autoEvery(spanMs: number): string {
  return NICE_STEPS.find((s) => spanMs / parseDuration(s)! <= TARGET_POINTS) ?? NICE_STEPS.at(-1)!;
}

/** `GET /api/v1/series`: one metric of one device, downsampled in InfluxDB (mean, min, max per step). */
export function registerSeriesRoutes(app: FastifyInstance, history: HistoryReader): void {
  app.get('/api/v1/series', async (req) => {
    const q = parseQuery(seriesQuery, req.query);
    // The scope goes into the statement too, so no other site's rows are ever read.
    const scoped = scopeInfluxQL(scopeFor(req, q.site));
    const { from, to } = timeRange(q, 3_600_000, MAX_SPAN_MS);
    const every = q.every ?? autoEvery(to - from);
    const points = (to - from) / parseDuration(every)!;
    if (points > MAX_POINTS) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `every=${every} over this range gives ${Math.ceil(points)} points (at most ${MAX_POINTS}); use a coarser every`);
    const f = `"${q.metric}"`;
    const rows = await history.query(
      `SELECT mean(${f}) AS mean, min(${f}) AS min, max(${f}) AS max, count(${f}) AS n FROM telemetry ` +
        `WHERE site = ${lit(q.site)}${scoped ? ` AND ${scoped}` : ''} AND line = ${lit(q.line)} AND device = ${lit(q.device)} AND time >= ${from}ms AND time < ${to}ms ` +
        `GROUP BY time(${every}) fill(none)`,
    );
    return {
      site: q.site,
      line: q.line,
      device: q.device,
      metric: q.metric,
      from,
      to,
      every,
      points: rows.map((r) => ({ ts: r.time as number, mean: r.mean as number, min: r.min as number, max: r.max as number, n: r.n as number })),
    };
  });
}
