/**
 * Timestamps of evaluation data: NAB's `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds,
 * as in its label files) and ISO 8601. Times without a zone are read as UTC: data and labels come
 * from the same source, so only their order and differences matter.
 */
const PLAIN = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch ms, or null when `s` is not one of the accepted forms. */
export function parseTimestamp(s: string): number | null {
  const m = PLAIN.exec(s.trim());
  if (!m) return null;
  // Date.parse keeps milliseconds only; NAB's labels carry microseconds that are always zero.
  const [, date, time, zone] = m;
  const ms = Date.parse(`${date}T${(time ?? '').replace(/(\.\d{3})\d+$/, '$1')}${zone ?? 'Z'}`);
  return Number.isNaN(ms) ? null : ms;
}
