import type { Category, Severity } from '../alerts/types.js';
import type { AlertState } from '../alerts/types.js';

/**
 * Column names of the CSV exports, in English (snake_case with units, for scripts) and Chinese
 * (the terms of Chinese energy statistics: 综合能耗 in tce, 单位产品电耗, 待机能耗占比, for the
 * people who open the file in Excel). The order here is the order in the file.
 */
export type Lang = 'en' | 'zh';
export const LANGS: readonly Lang[] = ['en', 'zh'];

export interface Column<K extends string> {
  key: K;
  en: string;
  zh: string;
}

export const ENERGY_COLUMNS = [
  { key: 'site', en: 'site', zh: '站点' },
  { key: 'line', en: 'line', zh: '产线' },
  { key: 'from', en: 'from', zh: '开始时间' },
  { key: 'to', en: 'to', zh: '结束时间' },
  { key: 'kwh', en: 'electricity_kwh', zh: '电耗(kWh)' },
  { key: 'gasM3', en: 'gas_m3', zh: '天然气(m³)' },
  { key: 'steamT', en: 'steam_t', zh: '蒸汽(t)' },
  { key: 'waterM3', en: 'water_m3', zh: '用水(m³)' },
  { key: 'kgce', en: 'energy_kgce', zh: '综合能耗(kgce)' },
  { key: 'tce', en: 'energy_tce', zh: '综合能耗(tce)' },
  { key: 'co2Kg', en: 'co2_kg', zh: '二氧化碳(kg)' },
  { key: 'outputUnits', en: 'output_units', zh: '产量' },
  { key: 'kwhPerUnit', en: 'kwh_per_unit', zh: '单位产品电耗(kWh/件)' },
  { key: 'kgcePerUnit', en: 'kgce_per_unit', zh: '单位产品综合能耗(kgce/件)' },
  { key: 'idleKwh', en: 'idle_kwh', zh: '待机电耗(kWh)' },
  { key: 'idleShare', en: 'idle_share', zh: '待机能耗占比' },
  { key: 'alertsSafety', en: 'alerts_safety', zh: '安全告警数' },
  { key: 'alertsEnergy', en: 'alerts_energy', zh: '能耗告警数' },
  { key: 'alertsSensor', en: 'alerts_sensor', zh: '传感器告警数' },
  { key: 'alertsData', en: 'alerts_data', zh: '数据告警数' },
  { key: 'completenessPct', en: 'data_completeness_pct', zh: '数据完整率(%)' },
  { key: 'timelinessPct', en: 'data_timeliness_pct', zh: '数据及时率(%)' },
  { key: 'onlinePct', en: 'online_pct', zh: '在线率(%)' },
  { key: 'samplesExpected', en: 'samples_expected', zh: '应收样本数' },
  { key: 'samplesReceived', en: 'samples_received', zh: '实收样本数' },
] as const satisfies readonly Column<string>[];
export type EnergyColumnKey = (typeof ENERGY_COLUMNS)[number]['key'];

export const ALERT_COLUMNS = [
  { key: 'id', en: 'id', zh: '告警编号' },
  { key: 'site', en: 'site', zh: '站点' },
  { key: 'line', en: 'line', zh: '产线' },
  { key: 'device', en: 'device', zh: '设备' },
  { key: 'rule', en: 'rule', zh: '规则' },
  { key: 'metric', en: 'metric', zh: '指标' },
  { key: 'category', en: 'category', zh: '类别' },
  { key: 'severity', en: 'severity', zh: '级别' },
  { key: 'state', en: 'state', zh: '状态' },
  { key: 'openedAt', en: 'opened_at', zh: '发生时间' },
  { key: 'lastSeen', en: 'last_seen', zh: '最近时间' },
  { key: 'resolvedAt', en: 'resolved_at', zh: '解除时间' },
  { key: 'count', en: 'count', zh: '次数' },
  { key: 'value', en: 'value', zh: '当前值' },
  { key: 'peak', en: 'peak', zh: '峰值' },
  { key: 'threshold', en: 'threshold', zh: '阈值' },
  { key: 'baseline', en: 'baseline', zh: '基线' },
  { key: 'message', en: 'message', zh: '说明' },
  { key: 'flapping', en: 'flapping', zh: '频繁波动' },
  { key: 'ackedAt', en: 'acked_at', zh: '确认时间' },
  { key: 'ackedBy', en: 'acked_by', zh: '确认人' },
  { key: 'ackNote', en: 'ack_note', zh: '确认备注' },
] as const satisfies readonly Column<string>[];
export type AlertColumnKey = (typeof ALERT_COLUMNS)[number]['key'];

/** Columns holding times: their header names the UTC offset the times are written in. */
export const TIME_COLUMNS: ReadonlySet<string> = new Set(['from', 'to', 'openedAt', 'lastSeen', 'resolvedAt', 'ackedAt']);

/** Values shown translated in the Chinese export (the English one keeps the API's words). */
export const CATEGORY_ZH: Record<Category, string> = { safety: '安全', energy: '能耗', sensor: '传感器', data: '数据' };
export const SEVERITY_ZH: Record<Severity, string> = { info: '提示', warning: '警告', critical: '严重' };
export const STATE_ZH: Record<AlertState, string> = { open: '未解除', resolved: '已解除' };
export const BOOLEAN_ZH = { true: '是', false: '否' } as const;

/** `+08:00` for 480 minutes; `-03:30` for -210. */
export function offsetLabel(utcOffsetMs: number): string {
  const minutes = Math.round(Math.abs(utcOffsetMs) / 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${utcOffsetMs < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** The header row: each column's name in `lang`; time columns say their offset (`from (UTC+08:00)`). */
export function headerRow(columns: readonly Column<string>[], lang: Lang, utcOffsetMs: number): string[] {
  return columns.map((c) => (TIME_COLUMNS.has(c.key) ? `${c[lang]}(UTC${offsetLabel(utcOffsetMs)})` : c[lang]));
}

/**
 * A time as plant-local `YYYY-MM-DD HH:mm:ss` (the offset is in the header): the form Excel and
 * LibreOffice read as a date and time in any locale.
 */
export function localTime(ts: number | null, utcOffsetMs: number): string | null {
  if (ts === null) return null;
  return new Date(ts + utcOffsetMs).toISOString().slice(0, 19).replace('T', ' ');
}
