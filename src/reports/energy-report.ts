import { ENERGY_MEASUREMENT } from '../analytics/energy/energy-point.js';
import { windowStart } from '../analytics/energy/window-sizes.js';
import { CATEGORIES, type Category } from '../alerts/types.js';
import { scopeInfluxQL, type SiteScope } from '../auth/site-scope.js';
import { readQualitySummary, SITE_LEVEL, type QualitySummary, type QualityWindow } from '../quality/index.js';
import type { HistoryReader, Row } from '../storage/index.js';
import { HOUR_MS, wholeDays } from './report-range.js';

/**
 * The energy report of a site over a period (docs/reports.md): per site and per line, energy by
 * carrier, standard coal, CO2, output, intensities, idle share, the alerts opened in the period
 * by category, and how complete the data under these figures is.
 *
 * Energy comes from InfluxDB measurement `energy`, window `1h`: `SUM` of each field over the
 * hourly device windows starting in [from, to), grouped by line, in one InfluxQL statement. Why
 * hours and not days: a period is then any whole number of plant-local hours (a shift, a day, a
 * month), and a day already past is complete as soon as each of its hours has closed, whereas a
 * device's daily window is only stored once that device reports after midnight (a device that
 * went quiet at 18:00 would be missing from the day). Hourly windows sum exactly to the daily
 * ones (analytics/energy: every size nests in the next), and the summing is done by InfluxDB,
 * so a year costs one answer row per line either way. Intensities and the idle share are
 * recomputed from the sums (a ratio of sums, not a sum of ratios).
 */

/** Summed fields: report key → `energy` field. */
const SUMMED = { kwh: 'kwh', gasM3: 'gas_m3', steamT: 'steam_t', waterM3: 'water_m3', kgce: 'kgce', tce: 'tce', co2Kg: 'co2_kg', outputUnits: 'output_units', idleKwh: 'idle_kwh', implausibleJumps: 'implausible_jumps' } as const;
type Summed = Record<keyof typeof SUMMED, number>;

/** The energy windows a report sums (see above). */
export const REPORT_ENERGY_WINDOW = '1h';

export type AlertCounts = Record<Category, number> & { total: number };

export interface ReportFigures extends Summed {
  kwhPerUnit: number | null;
  kgcePerUnit: number | null;
  /** idle_kwh ÷ kwh: the share of electricity drawn while producing nothing. */
  idleShare: number | null;
  /** Alerts opened in [from, to), by category. */
  alerts: AlertCounts;
  /** Data completeness over the period (readQualitySummary); null where nothing was accounted. */
  quality: QualitySummary | null;
}

export interface EnergyReport {
  site: string;
  from: number;
  to: number;
  utcOffsetMinutes: number;
  energyWindow: typeof REPORT_ENERGY_WINDOW;
  qualityWindow: QualityWindow;
  /**
   * The period reaches into the current hour (or later): its windows close (and are stored) only
   * when it ends, so the figures are not final yet.
   */
  provisional: boolean;
  total: ReportFigures;
  /** Per line, sorted by id. */
  lines: Record<string, ReportFigures>;
}

/** Alerts opened in a period, counted by line and category in the alert store (the scope in the query). */
export interface AlertCountSource {
  countOpened(q: { site: string; from: number; to: number; scope?: SiteScope }): { line: string; category: Category; count: number }[];
}

export interface EnergyReportQuery {
  site: string;
  from: number;
  to: number;
  /** The caller's sites: in the InfluxQL and SQL statements, so no other site is ever read. */
  scope: SiteScope;
  utcOffsetMs: number;
  now: number;
  /** Completeness summed from device figures (workers sharing the fleet write no others: quality-report.ts). */
  qualityFromDevices?: boolean;
}

/** Pseudo-lines of site- and gateway-level data alerts (src/quality): counted for the site, not as lines. */
const NOT_LINES: ReadonlySet<string> = new Set([SITE_LEVEL, '_gateway']);

function lit(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const zeroSums = (): Summed => ({ kwh: 0, gasM3: 0, steamT: 0, waterM3: 0, kgce: 0, tce: 0, co2Kg: 0, outputUnits: 0, idleKwh: 0, implausibleJumps: 0 });
const zeroAlerts = (): AlertCounts => ({ safety: 0, energy: 0, sensor: 0, data: 0, total: 0 });

function sumsOf(r: Row): Summed {
  const s = zeroSums();
  for (const [k, field] of Object.entries(SUMMED) as [keyof Summed, string][]) s[k] = typeof r[field] === 'number' ? (r[field] as number) : 0;
  return s;
}

function figures(s: Summed, alerts: AlertCounts, quality: QualitySummary | null): ReportFigures {
  return {
    ...s,
    kwhPerUnit: s.outputUnits > 0 ? s.kwh / s.outputUnits : null,
    kgcePerUnit: s.outputUnits > 0 ? s.kgce / s.outputUnits : null,
    idleShare: s.kwh > 0 ? s.idleKwh / s.kwh : null,
    alerts,
    quality,
  };
}

/** The InfluxQL statement a report runs for its energy (exported for docs/reports.md and tests). */
export function energyReportStatement(q: Pick<EnergyReportQuery, 'site' | 'from' | 'to' | 'scope'>): string {
  const scoped = scopeInfluxQL(q.scope);
  const sums = Object.values(SUMMED)
    .map((f) => `sum(${f}) AS ${f}`)
    .join(', ');
  return (
    `SELECT ${sums} FROM ${ENERGY_MEASUREMENT} WHERE site = ${lit(q.site)}${scoped ? ` AND ${scoped}` : ''} ` +
    `AND "window" = '${REPORT_ENERGY_WINDOW}' AND time >= ${q.from}ms AND time < ${q.to}ms GROUP BY line`
  );
}

export async function buildEnergyReport(history: HistoryReader, alerts: AlertCountSource, q: EnergyReportQuery): Promise<EnergyReport> {
  // Quality by day when the period is whole days (24 times fewer rows), by hour otherwise.
  const qualityWindow: QualityWindow = wholeDays(q.from, q.to, q.utcOffsetMs) ? '1d' : '1h';
  const [rows, quality] = await Promise.all([
    history.query(energyReportStatement(q)),
    readQualitySummary(history, { site: q.site, from: q.from, to: q.to, window: qualityWindow, scope: scopeInfluxQL(q.scope), fromDevices: q.qualityFromDevices }),
  ]);
  const counts = alerts.countOpened({ site: q.site, from: q.from, to: q.to, scope: q.scope });

  const energyByLine = new Map<string, Summed>();
  for (const r of rows) energyByLine.set(String(r.line), sumsOf(r));
  const alertsByLine = new Map<string, AlertCounts>();
  const siteAlerts = zeroAlerts();
  for (const c of counts) {
    if (!CATEGORIES.includes(c.category)) continue;
    siteAlerts[c.category] += c.count;
    siteAlerts.total += c.count;
    if (NOT_LINES.has(c.line)) continue;
    const a = alertsByLine.get(c.line) ?? zeroAlerts();
    a[c.category] += c.count;
    a.total += c.count;
    alertsByLine.set(c.line, a);
  }
  const lineIds = [...new Set([...energyByLine.keys(), ...alertsByLine.keys(), ...Object.keys(quality.lines)])].filter((l) => !NOT_LINES.has(l)).sort();

  const siteSums = zeroSums();
  for (const s of energyByLine.values()) for (const k of Object.keys(SUMMED) as (keyof Summed)[]) siteSums[k] += s[k];
  const hasQuality = (s: QualitySummary | undefined) => (s && (s.expected > 0 || s.received > 0) ? s : null);
  return {
    site: q.site,
    from: q.from,
    to: q.to,
    utcOffsetMinutes: q.utcOffsetMs / 60_000,
    energyWindow: REPORT_ENERGY_WINDOW,
    qualityWindow,
    provisional: q.to > windowStart(q.now, HOUR_MS, q.utcOffsetMs),
    total: figures(siteSums, siteAlerts, hasQuality(quality.total)),
    lines: Object.fromEntries(lineIds.map((l) => [l, figures(energyByLine.get(l) ?? zeroSums(), alertsByLine.get(l) ?? zeroAlerts(), hasQuality(quality.lines[l]))])),
  };
}
