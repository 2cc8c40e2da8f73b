import type { Alert } from '../alerts/types.js';
import { ALERT_COLUMNS, BOOLEAN_ZH, CATEGORY_ZH, headerRow, localTime, SEVERITY_ZH, STATE_ZH, type AlertColumnKey, type Lang } from './columns.js';
import { toCsv, type CsvValue } from './csv.js';

function row(a: Alert, lang: Lang, utcOffsetMs: number): Record<AlertColumnKey, CsvValue> {
  const zh = lang === 'zh';
  return {
    id: a.id,
    site: a.site,
    line: a.line,
    device: a.device,
    rule: a.rule,
    metric: a.metric,
    category: zh ? CATEGORY_ZH[a.category] : a.category,
    severity: zh ? SEVERITY_ZH[a.severity] : a.severity,
    state: zh ? STATE_ZH[a.state] : a.state,
    openedAt: localTime(a.openedAt, utcOffsetMs),
    lastSeen: localTime(a.lastSeen, utcOffsetMs),
    resolvedAt: localTime(a.resolvedAt, utcOffsetMs),
    count: a.count,
    value: a.value,
    peak: a.peak,
    threshold: a.threshold,
    baseline: a.baseline,
    message: a.message[lang],
    flapping: zh ? BOOLEAN_ZH[a.flapping ? 'true' : 'false'] : a.flapping,
    ackedAt: localTime(a.ackedAt, utcOffsetMs),
    ackedBy: a.ackedBy,
    ackNote: a.ackNote,
  };
}

/**
 * Alerts as CSV, one row per alert in the order given (the API's: newest first). Times are
 * plant-local (the header names the offset); `lang=zh`: Chinese column names, categories,
 * severities and states, the Chinese message, and a byte order mark for Excel. Acknowledgement
 * notes and names are typed by people: csv.ts neutralizes any that would run as a formula.
 */
export function alertsCsv(alerts: readonly Alert[], lang: Lang, utcOffsetMs: number): string {
  return toCsv(
    headerRow(ALERT_COLUMNS, lang, utcOffsetMs),
    alerts.map((a) => {
      const r = row(a, lang, utcOffsetMs);
      return ALERT_COLUMNS.map((c) => r[c.key]);
    }),
    { bom: lang === 'zh' },
  );
}
