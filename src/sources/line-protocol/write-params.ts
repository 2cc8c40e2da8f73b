import { V1_PRECISIONS, V2_PRECISIONS, type Precision } from './timestamp.js';
import type { WriteTarget } from './write-auth.js';

export interface WriteParams {
  precision: Precision;
  target: WriteTarget;
}

/**
 * Query parameters, as InfluxDB checks them:
 * - 1.x `POST /write?db=&precision=ns|u|ms|s|m|h&rp=&u=&p=`: `db` is required; `rp` is ignored.
 * - 2.x `POST /api/v2/write?bucket=&org=&precision=ns|us|ms|s`: `bucket` is required (`org` or
 *   `orgID` too on InfluxDB 2.x, not here: 3.x and Cloud Serverless clients may leave it out).
 * Precision defaults to ns on both. PlantPulse writes everything to its configured storage, so
 * `db`, `bucket` and `org` are checked for presence only (docs/line-protocol.md).
 */
export function readWriteParams(api: 'v1' | 'v2', query: Record<string, unknown>): { ok: true; params: WriteParams } | { ok: false; message: string } {
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') return { ok: false, message: `query parameter ${JSON.stringify(name)} is given more than once` };
  }
  const q = query as Record<string, string | undefined>;
  const allowed: readonly string[] = api === 'v1' ? V1_PRECISIONS : V2_PRECISIONS;
  const precision = q.precision || 'ns';
  if (!allowed.includes(precision)) return { ok: false, message: `precision ${JSON.stringify(precision.slice(0, 20))} is not one of ${allowed.join(', ')}` };
  if (api === 'v1') {
    if (!q.db) return { ok: false, message: 'database is required: add ?db=<name> (PlantPulse writes to its configured storage whatever the name)' };
    return { ok: true, params: { precision: precision as Precision, target: { api, database: q.db } } };
  }
  const bucket = q.bucket || q.bucketID;
  if (!bucket) return { ok: false, message: 'bucket is required: add ?bucket=<name> (PlantPulse writes to its configured storage whatever the name)' };
  return { ok: true, params: { precision: precision as Precision, target: { api, database: bucket, org: q.org || q.orgID || undefined } } };
}
