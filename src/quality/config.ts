/**
 * Data completeness and gateway health settings (PP_QUALITY_* in src/config/env-schema.ts;
 * docs/completeness.md explains each figure). Durations are milliseconds here.
 */
export interface QualityConfig {
  /** Sampling interval of every device; null: learned per device from its sample timestamps. */
  sampleIntervalMs: number | null;
  /** A sample is timely when it arrives at most this long after its timestamp. */
  delayLimitMs: number;
  /** A device that sent nothing for this long is offline (silent), whatever its status topic says. */
  silenceMs: number;
  /** A window counts as closed (final, judged by alerts) this long after its end: normal upload lag. */
  closeAfterMs: number;
  /** Late samples are accounted up to this long after the end of their (plant-local) day; older ones are stored but not counted. */
  lateHorizonMs: number;
  /** A device silent this long is retired: no longer expected to report (a meter taken out). */
  retireAfterMs: number;
  /** How often figures are written to InfluxDB and local state to SQLite. */
  flushMs: number;
  /**
   * Most bytes every device window's received timestamps may hold together (timestamp-budget.ts);
   * beyond it the oldest and largest windows let theirs go and tell duplicates by `seq` alone.
   */
  timestampBudgetBytes: number;
  /** Plant-local midnight: windows align like the energy windows (UTC+8 by default). */
  utcOffsetMs: number;
  alerts: QualityAlertConfig;
}

export interface QualityAlertConfig {
  /** Site completeness below this (percent) over the last closed window opens an alert; 0: off. */
  siteMinCompletenessPct: number;
  /** Which window the site completeness alert judges. */
  siteWindow: '1h' | '1d';
  /** Upload delay p95 of a gateway above this over one period opens an alert; 0: off. */
  gatewayDelayP95Ms: number;
  /** Length of the arrival-time period the gateway delay is judged over. */
  delayPeriodMs: number;
  /** A device offline at least this long opens an alert; 0: off. */
  offlineAfterMs: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const DEFAULT_QUALITY_CONFIG: QualityConfig = {
  sampleIntervalMs: null,
  delayLimitMs: 60_000,
  silenceMs: 120_000,
  closeAfterMs: 300_000,
  lateHorizonMs: 24 * HOUR_MS,
  retireAfterMs: 7 * DAY_MS,
  flushMs: 60_000,
  timestampBudgetBytes: 64 * 1024 * 1024,
  utcOffsetMs: 8 * HOUR_MS,
  alerts: { siteMinCompletenessPct: 95, siteWindow: '1h', gatewayDelayP95Ms: 300_000, delayPeriodMs: 300_000, offlineAfterMs: 10 * 60_000 },
};
