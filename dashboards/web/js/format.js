import { currentLang } from './strings.js';

const locale = () => (currentLang() === 'zh' ? 'zh-CN' : 'en-GB');

/** 1234.5 → "1,234.5" with at most `digits` decimals; null/undefined → "—". */
export function num(value, digits = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
}

export function time(ms) {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(ms);
}

/** 14:05 (24-hour, as plants keep time). */
export function hourMinute(ms) {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hour12: false }).format(ms);
}

/** 06/12 (en) / 12/06 (zh): day ticks of a chart. */
export function dayMonth(ms) {
  return new Intl.DateTimeFormat(locale(), { month: '2-digit', day: '2-digit' }).format(ms);
}

export function dateTime(ms) {
  return new Intl.DateTimeFormat(locale(), { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(ms);
}

/** 75000 → "1 min 15 s" / "1分15秒". */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const zh = currentLang() === 'zh';
  if (s < 60) return zh ? `${s}秒` : `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return zh ? `${m}分${s % 60}秒` : `${m} min ${s % 60} s`;
  const hours = Math.floor(m / 60);
  return zh ? `${hours}小时${m % 60}分` : `${hours} h ${m % 60} min`;
}

/** +12.3 % / −4 %. */
export function signedPct(ratio) {
  const pct = (ratio - 1) * 100;
  return `${pct >= 0 ? '+' : '−'}${num(Math.abs(pct), 1)} %`;
}
