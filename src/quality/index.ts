export { DEFAULT_QUALITY_CONFIG, type QualityConfig, type QualityAlertConfig } from './config.js';
export { QualityStage, type QualityStageDeps, type DeviceQualityStatus } from './quality-stage.js';
export { QualityStore } from './quality-store.js';
export { createQualityMetrics, type QualityMetrics } from './quality-metrics.js';
export { readQualityReport, readQualitySummary, totalOf, type QualityReport, type QualityReportQuery, type QualityRow, type QualitySummary } from './quality-report.js';
export { QUALITY_MEASUREMENT, type QualityLevel } from './quality-points.js';
export { QUALITY_RULES, SITE_LEVEL } from './quality-alerts.js';
export { QUALITY_WINDOWS, type QualityWindow } from './windows.js';
export { startQualityStage } from './start-quality.js';
