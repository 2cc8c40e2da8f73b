import type { Point } from './point.js';

/**
 * InfluxDB line protocol, precision ms. Escaping per the spec:
 *   measurement: `,` and space;  tag keys, tag values, field keys: `,` `=` and space;
 *   string field values: `"` and `\`. Newlines cannot be escaped in names, so they are refused
 *   (ids are validated upstream and never contain them; this is the last line of defence).
 * Numbers are written as floats (no `i` suffix), so a field never changes type between points.
 */
const NEEDS_NAME_ESCAPE = /[,= \\\n\r]/;

function escapeName(s: string, what: string): string {
  if (!NEEDS_NAME_ESCAPE.test(s)) return s; // fast path: validated ids and metric names
  if (/[\n\r]/.test(s)) throw new Error(`line protocol: ${what} ${JSON.stringify(s)} contains a newline`);
  return s.replace(/[,= \\]/g, '\\$&');
}

function escapeMeasurement(s: string): string {
  if (!/[, \\\n\r]/.test(s)) return s;
  if (/[\n\r]/.test(s)) throw new Error(`line protocol: measurement ${JSON.stringify(s)} contains a newline`);
  return s.replace(/[, \\]/g, '\\$&');
}

function escapeString(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

function formatValue(key: string, v: number | string | boolean): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`line protocol: field ${key} is not finite (${v})`);
    // String(n) gives the shortest round-trip form; InfluxDB parses 1e+21 and 5e-324 as floats.
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return `"${escapeString(v)}"`;
}

export function toLineProtocol(p: Point): string {
  if (!Number.isSafeInteger(p.ts)) throw new Error(`line protocol: timestamp ${p.ts} is not an integer`);
  let line = escapeMeasurement(p.measurement);
  const tagKeys = Object.keys(p.tags).sort(); // sorted tags: InfluxDB's recommendation
  for (const k of tagKeys) {
    const v = p.tags[k]!;
    if (v === '') continue; // empty tag values are not allowed: omit the tag
    line += `,${escapeName(k, 'tag key')}=${escapeName(v, 'tag value')}`;
  }
  let sep = ' ';
  let fields = 0;
  for (const k in p.fields) {
    line += `${sep}${escapeName(k, 'field key')}=${formatValue(k, p.fields[k]!)}`;
    sep = ',';
    fields++;
  }
  if (fields === 0) throw new Error(`line protocol: point ${p.measurement} at ${p.ts} has no fields`);
  return `${line} ${p.ts}`;
}

export function pointsToLineProtocol(points: readonly Point[]): string {
  return points.map(toLineProtocol).join('\n');
}
