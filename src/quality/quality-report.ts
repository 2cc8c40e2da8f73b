import type { HistoryReader, Row } from '../storage/index.js';
import { DelayHistogram } from './delay-histogram.js';
import { QUALITY_MEASUREMENT } from './quality-points.js';
import type { QualityWindow } from './windows.js';

/**
 * Reading the stored `quality` measurement back: for the API (`GET /api/v1/quality`) and for
 * reports (the energy report includes `readQualitySummary`). Everything here comes from
 * InfluxDB, so it answers for any past range, not only for what the running process remembers.
 */

const ADDITIVE = {
  expected: 'expected',
  received: 'received',
  receivedCounted: 'received_counted',
  duplicates: 'duplicates',
  duplicateMessages: 'duplicate_messages',
  lateMessages: 'late_messages',
  outOfOrder: 'out_of_order',
  timed: 'timed',
  onTime: 'on_time',
  onlineMs: 'online_ms',
  observedMs: 'observed_ms',
} as const;
type Additive = Record<keyof typeof ADDITIVE, number>;

export interface QualityRow extends Additive {
  /** Window start (or range start, for totals). */
  start: number;
  /** Devices counted in (for totals over several windows: the most in any one window). */
  devices: number;
  completenessPct: number | null;
  timelinessPct: number | null;
  onlinePct: number | null;
  /** Delay percentiles: per window; for a total only when the range is one window (percentiles do not add up). */
  delayP50Ms: number | null;
  delayP95Ms: number | null;
}

export interface QualityReportQuery {
  site: string;
  /** With a line: that line and its devices; without: the site, its lines and its gateways. */
  line?: string;
  from: number;
  to: number;
  window: QualityWindow;
  /** An InfluxQL condition on `site` from the caller's scope (auth), ANDed in; '' or absent: none. */
  scope?: string;
  /**
   * Sum the device figures into the line, site and gateway ones here (workers sharing the fleet,
   * PP_SOURCE=nats, write device figures only: each knows only its own devices).
   */
  fromDevices?: boolean;
}

export interface QualityReport {
  site: string;
  line?: string;
  window: QualityWindow;
  from: number;
  to: number;
  /** The site (or line) over the whole range. */
  total: QualityRow;
  /** The site (or line), window by window. */
  windows: QualityRow[];
  /** Per line (site query) or per device (line query), window by window. */
  members: Record<string, QualityRow[]>;
  /** Per gateway (site query only). */
  gateways: Record<string, QualityRow[]>;
}

function lit(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function num(r: Row, field: string): number {
  const v = r[field];
  return typeof v === 'number' ? v : 0;
}

function maybe(r: Row, field: string): number | null {
  const v = r[field];
  return typeof v === 'number' ? v : null;
}

function fromRow(r: Row): QualityRow {
  const a = Object.fromEntries(Object.entries(ADDITIVE).map(([k, f]) => [k, num(r, f)])) as Additive;
  return {
    start: r.time as number,
    devices: num(r, 'devices'),
    ...a,
    completenessPct: maybe(r, 'completeness_pct'),
    timelinessPct: maybe(r, 'timeliness_pct'),
    onlinePct: maybe(r, 'online_pct'),
    delayP50Ms: maybe(r, 'delay_p50_ms'),
    delayP95Ms: maybe(r, 'delay_p95_ms'),
  };
}

/** Sum rows (windows of one member) into a total; percentages recomputed from the sums. */
export function totalOf(rows: readonly QualityRow[], start: number): QualityRow {
  const a = Object.fromEntries(Object.keys(ADDITIVE).map((k) => [k, 0])) as Additive;
  let devices = 0;
  for (const r of rows) {
    for (const k of Object.keys(ADDITIVE) as (keyof Additive)[]) a[k] += r[k];
    devices = Math.max(devices, r.devices);
  }
  const one = rows.length === 1 ? rows[0]! : null;
  return {
    start,
    devices,
    ...a,
    completenessPct: a.expected > 0 ? (100 * a.receivedCounted) / a.expected : null,
    timelinessPct: a.timed > 0 ? (100 * a.onTime) / a.timed : null,
    onlinePct: a.observedMs > 0 ? (100 * a.onlineMs) / a.observedMs : null,
    delayP50Ms: one?.delayP50Ms ?? null,
    delayP95Ms: one?.delayP95Ms ?? null,
  };
}

/** Device rows summed into one row per window (see fromDevices); delay percentiles from the merged histograms. */
class Sum {
  private readonly a = Object.fromEntries(Object.keys(ADDITIVE).map((k) => [k, 0])) as Additive;
  private devices = 0;
  private readonly delays = new DelayHistogram();

  constructor(private readonly start: number) {}

  add(r: Row): void {
    for (const [k, f] of Object.entries(ADDITIVE) as [keyof Additive, string][]) this.a[k] += num(r, f);
    this.devices += num(r, 'devices');
    if (typeof r.delay_histogram === 'string') this.delays.merge(DelayHistogram.fromJSON(JSON.parse(r.delay_histogram) as [number, number][]));
  }

  row(): QualityRow {
    const { a } = this;
    return { ...totalOf([], this.start), ...a, devices: this.devices, completenessPct: a.expected > 0 ? (100 * a.receivedCounted) / a.expected : null, timelinessPct: a.timed > 0 ? (100 * a.onTime) / a.timed : null, onlinePct: a.observedMs > 0 ? (100 * a.onlineMs) / a.observedMs : null, delayP50Ms: this.delays.percentile(0.5), delayP95Ms: this.delays.percentile(0.95) };
  }
}

/** The report from device rows only: the site (or line), its lines (or devices) and gateways summed here, window by window. */
async function reportFromDevices(history: HistoryReader, q: QualityReportQuery): Promise<Pick<QualityReport, 'windows' | 'members' | 'gateways'>> {
  const rows = await history.query(
    `SELECT * FROM ${QUALITY_MEASUREMENT} WHERE site = ${lit(q.site)}${q.scope ? ` AND ${q.scope}` : ''} AND level = 'device'${q.line ? ` AND line = ${lit(q.line)}` : ''} AND "window" = ${lit(q.window)} AND time >= ${q.from}ms AND time < ${q.to}ms`,
  );
  const own = new Map<number, Sum>();
  const members = new Map<string, Map<number, Sum>>();
  const gateways = new Map<string, Map<number, Sum>>();
  const into = (map: Map<number, Sum>, r: Row) => {
    const start = r.time as number;
    let sum = map.get(start);
    if (!sum) map.set(start, (sum = new Sum(start)));
    sum.add(r);
  };
  const of = (by: Map<string, Map<number, Sum>>, key: string) => by.get(key) ?? by.set(key, new Map()).get(key)!;
  for (const r of rows) {
    into(own, r);
    into(of(members, String(q.line ? r.device : r.line)), r);
    if (!q.line && typeof r.gateway_id === 'string') into(of(gateways, r.gateway_id), r);
  }
  const list = (m: Map<number, Sum>) => [...m.values()].map((x) => x.row()).sort((a, b) => a.start - b.start);
  const record = (by: Map<string, Map<number, Sum>>) => Object.fromEntries([...by].map(([k, m]) => [k, list(m)]));
  return { windows: list(own), members: record(members), gateways: record(gateways) };
}

export async function readQualityReport(history: HistoryReader, q: QualityReportQuery): Promise<QualityReport> {
  if (q.fromDevices) {
    const r = await reportFromDevices(history, q);
    return { site: q.site, ...(q.line ? { line: q.line } : {}), window: q.window, from: q.from, to: q.to, total: totalOf(r.windows, q.from), ...r };
  }
  const levels = q.line ? `(level = 'line' OR level = 'device') AND line = ${lit(q.line)}` : `(level = 'site' OR level = 'line' OR level = 'gateway')`;
  const rows = await history.query(
    `SELECT * FROM ${QUALITY_MEASUREMENT} WHERE site = ${lit(q.site)}${q.scope ? ` AND ${q.scope}` : ''} AND ${levels} AND "window" = ${lit(q.window)} AND time >= ${q.from}ms AND time < ${q.to}ms`,
  );
  const own: QualityRow[] = [];
  const members: Record<string, QualityRow[]> = {};
  const gateways: Record<string, QualityRow[]> = {};
  const push = (into: Record<string, QualityRow[]>, key: string, row: QualityRow) => (into[key] ??= []).push(row);
  for (const r of rows) {
    const row = fromRow(r);
    const level = r.level;
    if (level === (q.line ? 'line' : 'site')) own.push(row);
    else if (level === 'line') push(members, String(r.line), row);
    else if (level === 'device') push(members, String(r.device), row);
    else if (level === 'gateway') push(gateways, String(r.gateway), row);
  }
  const byStart = (a: QualityRow, b: QualityRow) => a.start - b.start;
  own.sort(byStart);
  for (const list of [...Object.values(members), ...Object.values(gateways)]) list.sort(byStart);
  return { site: q.site, ...(q.line ? { line: q.line } : {}), window: q.window, from: q.from, to: q.to, total: totalOf(own, q.from), windows: own, members, gateways };
}

/** The figures a report shows for a site or a line over a period. */
export interface QualitySummary {
  completenessPct: number | null;
  timelinessPct: number | null;
  onlinePct: number | null;
  expected: number;
  received: number;
  duplicates: number;
  lateMessages: number;
  devices: number;
}

function summary(r: QualityRow): QualitySummary {
  return { completenessPct: r.completenessPct, timelinessPct: r.timelinessPct, onlinePct: r.onlinePct, expected: r.expected, received: r.received, duplicates: r.duplicates, lateMessages: r.lateMessages, devices: r.devices };
}

/**
 * Data completeness of a site and each of its lines over [from, to), for inclusion in the energy
 * report: "the figures in this report rest on 99.2 % of the expected samples". Uses the daily
 * windows (`window: '1d'`, plant-local days) unless told otherwise; pass `'1h'` for a range that
 * does not start and end on plant-local midnight.
 */
export async function readQualitySummary(history: HistoryReader, q: { site: string; from: number; to: number; window?: QualityWindow; scope?: string; fromDevices?: boolean }): Promise<{ site: string; from: number; to: number; total: QualitySummary; lines: Record<string, QualitySummary> }> {
  const report = await readQualityReport(history, { site: q.site, from: q.from, to: q.to, window: q.window ?? '1d', scope: q.scope, fromDevices: q.fromDevices });
  return { site: q.site, from: q.from, to: q.to, total: summary(report.total), lines: Object.fromEntries(Object.entries(report.members).map(([line, rows]) => [line, summary(totalOf(rows, q.from))])) };
}
