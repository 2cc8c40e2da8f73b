import type { TelemetryBatch } from '../contract/index.js';
import type { Point } from '../storage/point.js';

export const TELEMETRY_MEASUREMENT = 'telemetry';

/** One validated batch → `telemetry` points (tags site/line/device; one field per metric). */
export function telemetryPoints(batch: TelemetryBatch): Point[] {
  const tags = { site: batch.site, line: batch.line, device: batch.device };
  // Bad-quality readings are kept as a string field naming the metrics (never stored as zeros).
  return batch.samples.map((s) => ({ measurement: TELEMETRY_MEASUREMENT, tags, fields: s.bad?.length ? { ...s.m, bad: s.bad.join(',') } : s.m, ts: s.ts }));
}
