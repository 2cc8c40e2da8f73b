import type { Point } from '../storage/point.js';
import { percentages, type Figures } from './figures.js';
import type { Rollup } from './rollup.js';

export const QUALITY_MEASUREMENT = 'quality';
export type QualityLevel = 'device' | 'line' | 'site' | 'gateway';

/**
 * InfluxDB measurement `quality`, one point per window and level, at the window start: tags
 * `level` (device|line|site|gateway), `site`, `line` (device and line levels), `device` (device
 * level), `gateway` (gateway level), `window` (1h|1d). Rewritten with the same series and time
 * whenever the figures change (a late sample completes a closed window): writes are idempotent,
 * so storage always holds the latest answer, never two.
 */
export function figureFields(f: Figures): Point['fields'] {
  const p = percentages(f);
  const fields: Point['fields'] = {
    devices: f.devices,
    expected: f.expected,
    received: f.received,
    received_counted: f.receivedCounted,
    duplicates: f.duplicates,
    duplicate_messages: f.duplicateMessages,
    late_messages: f.lateMessages,
    out_of_order: f.outOfOrder,
    timed: f.timed,
    on_time: f.onTime,
    online_ms: f.onlineMs,
    observed_ms: f.observedMs,
  };
  // Absent rather than 0 when undefined (nothing expected, nothing received, nothing watched).
  if (p.completenessPct !== null) fields.completeness_pct = p.completenessPct;
  if (p.timelinessPct !== null) fields.timeliness_pct = p.timelinessPct;
  if (p.onlinePct !== null) fields.online_pct = p.onlinePct;
  if (p.delayP50Ms !== null) fields.delay_p50_ms = p.delayP50Ms;
  if (p.delayP95Ms !== null) fields.delay_p95_ms = p.delayP95Ms;
  return fields;
}

/**
 * `devicesOnly` (workers sharing the fleet, PP_SOURCE=nats): each worker knows only its own
 * devices, so it writes device points only, each with what combining them needs: its gateway
 * (`gateway_id`) and its upload delays (`delay_histogram`, `[[delayMs, count], …]`). Whoever
 * reads the figures sums devices into lines, sites and gateways (quality-report.ts).
 */
export function rollupPoints(r: Rollup, devicesOnly = false): Point[] {
  const points = devicePoints(r, devicesOnly);
  return devicesOnly ? points : [...points, ...aggregatePoints(r)];
}

function qualityPoint(r: Rollup, level: QualityLevel, tags: Record<string, string>, f: Figures, extra: Point['fields'] = {}): Point {
  return { measurement: QUALITY_MEASUREMENT, tags: { level, ...tags, window: r.window }, fields: { ...figureFields(f), ...extra }, ts: r.start };
}

/** The devices' points of a rollup (`devicesOnly`: with what an API node needs to sum them itself). */
export function devicePoints(r: Rollup, devicesOnly = false): Point[] {
  const points: Point[] = [];
  for (const { tracker, figures } of r.devices.values()) {
    const extra: Point['fields'] = {};
    if (devicesOnly) {
      if (tracker.state.gateway !== null) extra.gateway_id = tracker.state.gateway;
      extra.delay_histogram = JSON.stringify(figures.delays.toJSON());
    }
    points.push(qualityPoint(r, 'device', { site: tracker.ref.site, line: tracker.ref.line, device: tracker.ref.device }, figures, extra));
  }
  return points;
}

/** The lines', sites' and gateways' points of a rollup. */
export function aggregatePoints(r: Rollup): Point[] {
  const points: Point[] = [];
  const point = (level: QualityLevel, tags: Record<string, string>, f: Figures) => points.push(qualityPoint(r, level, tags, f));
  for (const [key, f] of r.lines) {
    const [site, line] = key.split('/') as [string, string];
    point('line', { site, line }, f);
  }
  for (const [site, f] of r.sites) point('site', { site }, f);
  for (const [key, f] of r.gateways) {
    const [site, gateway] = key.split('/') as [string, string];
    point('gateway', { site, gateway }, f);
  }
  return points;
}
