import { z } from 'zod';
import { ID_PATTERN, METRIC_NAME_PATTERN, PlantPulseError } from '../contract/index.js';

/**
 * Query-string parameters shared by the read APIs, validated with zod. Every value that ends up
 * in an InfluxQL statement passes a strict pattern first (ids, metric names, durations, time
 * zones), so statements are built from known-safe pieces only.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;

/** `15m` → 900000; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 ? ms : null;
}

/** The range of a JS Date (±100,000,000 days): a time beyond it is no date, and breaks `toISOString`. */
const MAX_DATE_MS = 8.64e15;
const dateOrNull = (t: number): number | null => (Math.abs(t) <= MAX_DATE_MS ? t : null);

/** Epoch ms, ISO 8601, `now`, or `now-<duration>` (e.g. `now-24h`); null when malformed or beyond any date. */
export function parseTime(text: string, now: number): number | null {
  if (text === 'now') return now;
  const rel = /^now-(.+)$/.exec(text);
  if (rel) {
    const d = parseDuration(rel[1]!);
    return d === null ? null : dateOrNull(now - d);
  }
  if (/^\d{1,16}$/.test(text)) return dateOrNull(Number(text));
  // ISO 8601 only (Date.parse also takes free-form English dates; we don't).
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : null;
}

export const idParam = z.string().regex(ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
export const metricParam = z.string().regex(METRIC_NAME_PATTERN, 'must match [A-Za-z][A-Za-z0-9_]{0,63}');
export const timeParam = z.string().refine((s) => parseTime(s, 0) !== null, 'must be epoch milliseconds, ISO 8601 (2026-11-29T08:00:00Z), now or now-<duration> (now-24h)');
export const durationParam = z.string().refine((s) => parseDuration(s) !== null, 'must be a duration such as 10s, 1m, 15m, 1h, 1d');
export const timeZoneParam = z.string().refine((s) => Intl.supportedValuesOf('timeZone').includes(s) || s === 'UTC', 'must be an IANA time zone such as Asia/Shanghai or UTC');

/** Parse a querystring with a zod schema; a failure is a 400 naming every bad parameter. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const r = schema.safeParse(query ?? {});
  if (r.success) return r.data;
  const detail = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  throw new PlantPulseError('PP_ERR_INVALID_QUERY', detail);
}

/** Resolve `from`/`to` (defaults: the last `defaultSpanMs` up to now), checking order and span. */
export function timeRange(q: { from?: string; to?: string }, defaultSpanMs: number, maxSpanMs: number, now = Date.now()): { from: number; to: number } {
  const to = q.to === undefined ? now : parseTime(q.to, now)!;
  const from = q.from === undefined ? to - defaultSpanMs : parseTime(q.from, now)!;
  if (from >= to) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  if (to - from > maxSpanMs) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `the range from..to spans more than ${Math.round(maxSpanMs / 86_400_000)} days; narrow it`);
  return { from, to };
}

/** An InfluxQL string literal for a value that already passed one of the patterns above. */
export function lit(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
