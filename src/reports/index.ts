export { csvCell, neutralizeFormula, toCsv, type CsvValue } from './csv.js';
export { ALERT_COLUMNS, ENERGY_COLUMNS, LANGS, headerRow, localTime, offsetLabel, type Lang } from './columns.js';
export { buildEnergyReport, energyReportStatement, REPORT_ENERGY_WINDOW, type AlertCountSource, type AlertCounts, type EnergyReport, type EnergyReportQuery, type ReportFigures } from './energy-report.js';
export { energyReportCsv } from './energy-csv.js';
export { alertsCsv } from './alerts-csv.js';
export { reportRange, wholeDays } from './report-range.js';
