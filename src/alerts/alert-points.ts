import type { Point } from '../storage/point.js';
import type { AlertTransition } from './types.js';

/**
 * A transition as an InfluxDB point in the `alert` measurement (docs/analytics.md). `updated` is not
 * history (it is every repeat of an open condition) and is not stored. Tags are ids and small
 * enumerations only (bounded cardinality); the alert id and texts are fields.
 */
export function alertPoint(t: AlertTransition): Point | null {
  if (t.type === 'updated') return null;
  const a = t.alert;
  const fields: Point['fields'] = {
    id: a.id,
    metric: a.metric,
    value: a.value,
    peak: a.peak,
    count: a.count,
    opened_at: a.openedAt,
    flapping: a.flapping,
    message_en: a.message.en,
    message_zh: a.message.zh,
  };
  if (a.threshold !== null) fields.threshold = a.threshold;
  if (a.baseline !== null) fields.baseline = a.baseline;
  if (t.reason) fields.reason = t.reason;
  if (t.type === 'acknowledged' && a.ackedBy !== null) fields.acked_by = a.ackedBy;
  return {
    measurement: 'alert',
    tags: { site: a.site, line: a.line, device: a.device, rule: a.rule, category: a.category, severity: a.severity, transition: t.type },
    fields,
    ts: t.ts,
  };
}
