import { TELEMETRY_MEASUREMENT } from '../pipeline/to-points.js';
import type { HistoryReader, Row } from '../storage/index.js';
import { DAY_MS, HOUR_MS } from './config.js';

/**
 * Distinct samples stored per device and hour, read back from the `telemetry` measurement with
 * InfluxQL `count()`. Storage keeps one point per series and timestamp (writes overwrite), so a
 * count of a field is a count of distinct timestamps that carry it; the largest count over the
 * device's fields is its distinct samples, exactly when some field is in every sample (the
 * usual case: a gateway reads the same register map each time). A device whose samples carry
 * disjoint metric sets is undercounted here; the local state (quality.sqlite) is then the
 * better figure, and restore takes the larger of the two.
 *
 * One query per day, so no single answer grows past InfluxDB's row limits.
 */
export async function storedSampleCounts(history: HistoryReader, from: number, to: number, utcOffsetMs: number): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  const offsetS = (((-utcOffsetMs % HOUR_MS) + HOUR_MS) % HOUR_MS) / 1000;
  for (let a = from; a < to; a += DAY_MS) {
    const b = Math.min(to, a + DAY_MS);
    const rows = await history.query(`SELECT count(*) FROM ${TELEMETRY_MEASUREMENT} WHERE time >= ${a}ms AND time < ${b}ms GROUP BY time(1h, ${offsetS}s), site, line, device fill(none)`);
    for (const r of rows) add(out, r);
  }
  return out;
}

function add(out: Map<string, Map<number, number>>, r: Row): void {
  let n = 0;
  for (const [k, v] of Object.entries(r)) if (k.startsWith('count_') && typeof v === 'number') n = Math.max(n, v);
  if (n === 0 || typeof r.time !== 'number') return;
  const key = `${String(r.site)}/${String(r.line)}/${String(r.device)}`;
  let hours = out.get(key);
  if (!hours) out.set(key, (hours = new Map()));
  hours.set(r.time, n);
}
