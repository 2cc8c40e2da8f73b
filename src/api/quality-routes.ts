import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { scopeInfluxQL } from '../auth/index.js';
import { PlantPulseError } from '../contract/index.js';
import { QUALITY_WINDOWS, readQualityReport, type DeviceQualityStatus, type QualityWindow } from '../quality/index.js';
import type { HistoryReader } from '../storage/index.js';
import { idParam, parseQuery, timeParam, timeRange } from './query-params.js';
import { scopeFor } from './scope-guard.js';

const MAX_WINDOWS = 20_000;
const WINDOW_NAMES = Object.keys(QUALITY_WINDOWS) as [QualityWindow, ...QualityWindow[]];

export const qualityQuery = z.strictObject({
  site: idParam,
  line: idParam.optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  window: z.enum(WINDOW_NAMES).default('1h'),
});

/** Where the route gets each device's status now (the running quality stage); absent: none. */
export type QualityStatusSource = (site: string, line?: string) => DeviceQualityStatus[];

/**
 * `GET /api/v1/quality?site=&line=&from=&to=&window=1h|1d`: stored data completeness figures
 * (docs/completeness.md): the site (or line) window by window and over the range, per
 * line (or per device) and per gateway, plus every device's status now (online, last seen,
 * missing messages). Windows are plant-local like the energy windows; a window is listed when
 * it starts inside [from, to).
 */
export function registerQualityRoutes(app: FastifyInstance, history: HistoryReader, status?: QualityStatusSource, fromDevices = false): void {
  app.get('/api/v1/quality', async (req) => {
    const q = parseQuery(qualityQuery, req.query);
    // The scope goes into the statement too, so no other site's rows are ever read.
    const scope = scopeInfluxQL(scopeFor(req, q.site));
    const { from, to } = timeRange(q, 86_400_000, 400 * 86_400_000);
    if ((to - from) / QUALITY_WINDOWS[q.window] > MAX_WINDOWS) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `window=${q.window} over this range gives more than ${MAX_WINDOWS} windows; use a larger window`);
    const report = await readQualityReport(history, { site: q.site, line: q.line, from, to, window: q.window, scope, fromDevices });
    return {
      site: report.site,
      ...(q.line ? { line: q.line } : {}),
      window: report.window,
      from,
      to,
      total: report.total,
      windows: report.windows,
      [q.line ? 'devices' : 'lines']: report.members,
      ...(q.line ? {} : { gateways: report.gateways }),
      deviceStatus: status?.(q.site, q.line) ?? [],
    };
  });
}
