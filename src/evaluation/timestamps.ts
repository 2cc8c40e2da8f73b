/**
 * Timestamps of evaluation data: NAB's `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds,
 * as in its label files) and ISO 8601, the date also written `YYYY/MM/DD`; and Unix time in seconds
 * (10 digits, fraction allowed) or milliseconds (13 digits), as loggers write it. Times without a
 * zone are read as UTC: data and labels come from the same source, so only their order and
 * differences matter.
 */
const PLAIN = /^(\d{4}[-/]\d{2}[-/]\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/;

const EPOCH = /^(\d{10}|\d{13})(\.\d+)?$/;

/** Epoch ms, or null when `s` is not one of the accepted forms. */
export function parseTimestamp(s: string): number | null {
  const text = s.trim();
  const epoch = EPOCH.exec(text);
  if (epoch) {
    const [, whole, fraction] = epoch;
    if (whole!.length === 10) return Math.round(Number(text) * 1000); // seconds
    return fraction === undefined ? Number(text) : null; // milliseconds, whole only
  }
  const m = PLAIN.exec(text);
  if (!m) return null;
  // Date.parse keeps milliseconds only; NAB's labels carry microseconds that are always zero.
  const [, date, time, zone] = m;
  const ms = Date.parse(`${date!.replaceAll('/', '-')}T${(time ?? '').replace(/(\.\d{3})\d+$/, '$1')}${zone ?? 'Z'}`);
  return Number.isNaN(ms) ? null : ms;
}
