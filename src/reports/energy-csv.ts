import { ENERGY_COLUMNS, headerRow, localTime, type EnergyColumnKey, type Lang } from './columns.js';
import { toCsv, type CsvValue } from './csv.js';
import type { EnergyReport, ReportFigures } from './energy-report.js';

/** One row's values by column. */
function row(report: EnergyReport, line: string, f: ReportFigures, utcOffsetMs: number): Record<EnergyColumnKey, CsvValue> {
  return {
    site: report.site,
    line,
    from: localTime(report.from, utcOffsetMs),
    to: localTime(report.to, utcOffsetMs),
    kwh: f.kwh,
    gasM3: f.gasM3,
    steamT: f.steamT,
    waterM3: f.waterM3,
    kgce: f.kgce,
    tce: f.tce,
    co2Kg: f.co2Kg,
    outputUnits: f.outputUnits,
    kwhPerUnit: f.kwhPerUnit,
    kgcePerUnit: f.kgcePerUnit,
    idleKwh: f.idleKwh,
    idleShare: f.idleShare,
    alertsSafety: f.alerts.safety,
    alertsEnergy: f.alerts.energy,
    alertsSensor: f.alerts.sensor,
    alertsData: f.alerts.data,
    completenessPct: f.quality?.completenessPct,
    timelinessPct: f.quality?.timelinessPct,
    onlinePct: f.quality?.onlinePct,
    samplesExpected: f.quality?.expected,
    samplesReceived: f.quality?.received,
  };
}

/**
 * The report as CSV: the site total first (its `line` cell empty), then one row per line. An
 * empty cell is "none" (no output → no intensity; nothing accounted → no completeness). The Chinese
 * file starts with a byte order mark so Excel reads it as UTF-8.
 */
export function energyReportCsv(report: EnergyReport, lang: Lang): string {
  const utcOffsetMs = report.utcOffsetMinutes * 60_000;
  const rows = [row(report, '', report.total, utcOffsetMs), ...Object.entries(report.lines).map(([line, f]) => row(report, line, f, utcOffsetMs))];
  return toCsv(
    headerRow(ENERGY_COLUMNS, lang, utcOffsetMs),
    rows.map((r) => ENERGY_COLUMNS.map((c) => r[c.key])),
    { bom: lang === 'zh' },
  );
}
