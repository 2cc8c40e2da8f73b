import { decodeHttpValue, deviceKey, type DecodeLimits, type DeviceRef, type Rejection, type TelemetryBatch } from '../../contract/index.js';
import { byLine, type LineRejection } from './line-rejection.js';
import { deviceRefOf, metricNameOf, type LineProtocolMapping } from './mapping.js';
import type { ParseResult } from './parse-line-protocol.js';
import type { ParsedPoint } from './parsed-point.js';
import { timestampToMs, type Precision } from './timestamp.js';

export interface ToBatchesOptions {
  mapping: LineProtocolMapping;
  precision: Precision;
  /** Arrival time (epoch ms): the timestamp of lines without one, and the decoder's clock. */
  now: number;
  limits: DecodeLimits;
  /** The writer's sites (its token's scope): lines of other sites are rejected, never stored. Unset: every site. */
  siteAllowed?: (site: string) => boolean;
}

export interface LineProtocolBatches {
  /** Validated by the contract decoder, one per device: ready for `pipeline.ingest`. */
  batches: TelemetryBatch[];
  /** Every problem, in line order. */
  rejections: LineRejection[];
  unknownMetrics: string[];
  /** Entries (non-blank, non-comment lines) in the body. */
  lines: number;
  /** Lines with at least one metric in a batch... */
  stored: number;
  /** ...of which this many lost some fields (strings, bad names). */
  storedInPart: number;
}

/** Samples of one device, with where each came from, so decoder rejections can name lines. */
interface DeviceGroup {
  ref: DeviceRef;
  samples: { ts: number; m: Record<string, number> }[];
  /** Per sample: the line it came from (to name lines and fields in decoder rejections). */
  points: ParsedPoint[];
}

const SAMPLE_PATH = /^samples\[(\d+)\](?:\.(ts|m)(?:\.(.*))?)?$/;

/**
 * Gives parsed lines their PlantPulse meaning (mapping.ts) and then runs each device's samples
 * through the contract decoder, the same one JSON and MQTT use, so that timestamps, limits and
 * values are judged by the same rules and reasons. One line is one sample.
 */
export function toTelemetryBatches(parsed: ParseResult, options: ToBatchesOptions): LineProtocolBatches {
  const { mapping, precision, now, limits } = options;
  const rejections: LineRejection[] = parsed.errors.map((e) => ({ code: 'PP_ERR_LINE_PROTOCOL_SYNTAX', ...e }));
  const groups = new Map<string, DeviceGroup>();
  const inPart = new Set<number>();

  for (const point of parsed.points) {
    const line = point.line;
    const ref = deviceRefOf(point.tags, mapping);
    if (!ref.ok) {
      rejections.push({ code: 'PP_ERR_INVALID_ID', line, part: ref.missing ? 'line' : 'tag value', reason: ref.reason });
      continue;
    }
    if (options.siteAllowed && !options.siteAllowed(ref.value.site)) {
      rejections.push({ code: 'PP_ERR_SITE_FORBIDDEN', line, part: 'tag value', reason: `site ${ref.value.site} is outside this token's scope; the line was not stored` });
      continue;
    }
    let ts = now;
    if (point.timestamp !== null) {
      const ms = timestampToMs(point.timestamp, precision);
      if (ms === null) {
        rejections.push({ code: 'PP_ERR_INVALID_TIMESTAMP', line, part: 'timestamp', reason: `timestamp ${point.timestamp} with precision=${precision} is beyond any date` });
        continue;
      }
      ts = ms;
    }
    const m: Record<string, number> = {};
    let metrics = 0;
    for (const f of point.fields) {
      if (f.type === 'string') {
        rejections.push({ code: 'PP_ERR_UNSUPPORTED_FIELD_TYPE', line, column: f.column, part: 'field value', field: f.key, reason: `field ${JSON.stringify(f.key)} is a string; PlantPulse metrics are numbers, so this field was dropped` });
        continue;
      }
      const name = metricNameOf(point.measurement, f.key, mapping);
      if (!name.ok) {
        rejections.push({ code: 'PP_ERR_INVALID_METRIC_NAME', line, column: f.column, part: 'field key', field: f.key, reason: `${name.reason}; this field was dropped` });
        continue;
      }
      m[name.value] = f.type === 'boolean' ? (f.value ? 1 : 0) : f.value;
      metrics++;
    }
    if (metrics === 0) continue; // every field was rejected above, each with its reason
    if (metrics < point.fields.length) inPart.add(line);
    const key = deviceKey(ref.value);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ref: ref.value, samples: [], points: [] }));
    group.samples.push({ ts, m });
    group.points.push(point);
  }

  const batches: TelemetryBatch[] = [];
  const unknown = new Set<string>();
  let stored = 0;
  let storedInPart = 0;
  for (const group of groups.values()) {
    const result = decodeHttpValue({ samples: group.samples }, group.ref, limits, now);
    const rejected = new Set<number>();
    for (const r of result.rejections) {
      if (r.sample === undefined) {
        // The whole device group (e.g. more samples than PP_INGEST_MAX_SAMPLES): every line of it.
        for (const { line } of group.points) rejections.push({ code: r.code, line, part: 'line', reason: `${r.reason} (lines of device ${deviceKey(group.ref)} in this request)` });
        continue;
      }
      rejected.add(r.sample);
      rejections.push(fromDecoder(r, group.points[r.sample]!, mapping, precision));
    }
    if (result.batch === null) continue;
    group.points.forEach(({ line }, i) => {
      if (rejected.has(i)) return;
      stored++;
      if (inPart.has(line)) storedInPart++;
    });
    for (const name of result.unknownMetrics) unknown.add(name);
    if (result.batch.samples.length > 0) batches.push(result.batch);
  }
  rejections.sort(byLine);
  return { batches, rejections, unknownMetrics: [...unknown], lines: parsed.entries, stored, storedInPart };
}

/** A decoder rejection (`samples[3].ts`, `samples[3].m.cpu_usage`) in terms of its line and field. */
function fromDecoder(r: Rejection, point: ParsedPoint, mapping: LineProtocolMapping, precision: Precision): LineRejection {
  const line = point.line;
  const [, , section, metric] = SAMPLE_PATH.exec(r.path) ?? [];
  if (section === 'ts') {
    const hint = point.timestamp !== null ? ` (timestamp read with precision=${precision})` : '';
    return { code: r.code, line, part: 'timestamp', reason: `${r.reason}${hint}` };
  }
  const field = metric === undefined ? undefined : point.fields.find((f) => {
    const name = metricNameOf(point.measurement, f.key, mapping);
    return name.ok && name.value === metric;
  });
  return field === undefined ? { code: r.code, line, part: 'line', reason: r.reason } : { code: r.code, line, column: field.column, part: 'field value', field: field.key, reason: r.reason };
}
