import { ID_PATTERN, METRIC_NAME_PATTERN, type DeviceRef } from '../../contract/index.js';
import type { ParsedPoint } from './parsed-point.js';

/**
 * How line protocol maps onto PlantPulse's model (docs/line-protocol.md):
 * - site, line and device come from tags (configurable keys, first present wins); their values
 *   must be valid ids, like everywhere else: anything else rejects the line, never escaped.
 * - other tags are not stored (series are site/line/device only: bounded cardinality).
 * - a field of a passthrough measurement (default `telemetry`) is the metric of the same name;
 *   a field of any other measurement is the metric `<measurement>_<field>` (Telegraf's
 *   `cpu usage_idle` → `cpu_usage_idle`). Either way the name must match the metric-name
 *   pattern; names are never truncated or rewritten, since two fields could then collide.
 */
export interface LineProtocolMapping {
  siteTags: readonly string[];
  lineTags: readonly string[];
  deviceTags: readonly string[];
  passthroughMeasurements: readonly string[];
}

export const DEFAULT_LINE_PROTOCOL_MAPPING: LineProtocolMapping = {
  siteTags: ['site'],
  lineTags: ['line'],
  deviceTags: ['device', 'host'],
  passthroughMeasurements: ['telemetry'],
};

/**
 * Field names that would clash with what PlantPulse itself writes into `telemetry`: `bad` is the
 * string field listing bad-quality metrics, and InfluxDB refuses a field named `time`.
 */
const RESERVED_METRICS = new Set(['time', 'bad']);

export type Mapped<T> = { ok: true; value: T } | { ok: false; reason: string; missing?: true };

export function deviceRefOf(tags: ParsedPoint['tags'], mapping: LineProtocolMapping): Mapped<DeviceRef> {
  const ref: Partial<DeviceRef> = {};
  for (const [role, keys] of [['site', mapping.siteTags], ['line', mapping.lineTags], ['device', mapping.deviceTags]] as const) {
    const tag = firstTag(tags, keys);
    if (!tag) return { ok: false, missing: true, reason: `no ${role} tag: PlantPulse looks for ${keys.map((k) => JSON.stringify(k)).join(' or ')}` };
    if (!ID_PATTERN.test(tag.value)) return { ok: false, reason: `${role} tag ${tag.key}=${JSON.stringify(tag.value.slice(0, 80))} is not a valid id: ids must match [A-Za-z0-9_-]{1,64}` };
    ref[role] = tag.value;
  }
  return { ok: true, value: ref as DeviceRef };
}

/** The tag with the first of `keys` (in configured order) that the line has. */
function firstTag(tags: ParsedPoint['tags'], keys: readonly string[]) {
  for (const key of keys) {
    const tag = tags.find((t) => t.key === key);
    if (tag) return tag;
  }
  return undefined;
}

export function metricNameOf(measurement: string, field: string, mapping: LineProtocolMapping): Mapped<string> {
  const passthrough = mapping.passthroughMeasurements.includes(measurement);
  const name = passthrough ? field : `${measurement}_${field}`;
  const ok = METRIC_NAME_PATTERN.test(name) && !RESERVED_METRICS.has(name);
  if (ok) return { ok: true, value: name };
  const origin = passthrough ? `field ${JSON.stringify(field)}` : `measurement ${JSON.stringify(measurement)} + "_" + field ${JSON.stringify(field)}`;
  if (!METRIC_NAME_PATTERN.test(name)) {
    const length = name.length > 64 ? ` (${name.length} characters; the limit is 64)` : '';
    return { ok: false, reason: `metric name ${JSON.stringify(name.slice(0, 100))} (${origin}) must match ${METRIC_NAME_PATTERN.source}${length}` };
  }
  return { ok: false, reason: `metric name ${JSON.stringify(name)} (${origin}) is reserved by PlantPulse's storage` };
}
