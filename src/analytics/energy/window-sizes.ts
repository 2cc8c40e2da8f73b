/**
 * Tumbling window sizes and their alignment. 1 min for live views; 15 min, 1 h and 1 day for reports (docs/analytics.md).
 * Every size divides a day, so windows of one size nest exactly inside the next: 1-min windows
 * sum to the 15-min, 1-h and 1-day totals.
 */
export const WINDOW_SIZES_MS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
} as const;
export type WindowSize = keyof typeof WINDOW_SIZES_MS;
export const WINDOW_SIZE_NAMES = Object.keys(WINDOW_SIZES_MS) as WindowSize[];

/**
 * Start of the window of `sizeMs` that contains `ts` (windows are [start, start + sizeMs)).
 * Windows are aligned on local midnight given a fixed UTC offset: a "day" in a Chinese energy
 * report runs from 00:00 China Standard Time (UTC+8, no daylight saving), not from 00:00 UTC.
 * For sizes of an hour or less and whole-hour offsets the offset changes nothing.
 */
export function windowStart(ts: number, sizeMs: number, utcOffsetMs: number): number {
  return Math.floor((ts + utcOffsetMs) / sizeMs) * sizeMs - utcOffsetMs;
}

/**
 * Start of the window in which an interval (a, b] ends: the window holding the instant just before
 * `b`. A reading exactly on a boundary closes the window that ends there; the energy it reports
 * was drawn before it, in that window, not in the one that starts at `b`.
 */
export function intervalEndWindowStart(b: number, sizeMs: number, utcOffsetMs: number): number {
  const start = windowStart(b, sizeMs, utcOffsetMs);
  return start === b ? start - sizeMs : start;
}

/** The tag value for a window size: `1m`, `15m`, `1h`, `1d` (or `90s`, `250ms` for odd sizes). */
export function windowLabel(sizeMs: number): string {
  if (sizeMs % 86_400_000 === 0) return `${sizeMs / 86_400_000}d`;
  if (sizeMs % 3_600_000 === 0) return `${sizeMs / 3_600_000}h`;
  if (sizeMs % 60_000 === 0) return `${sizeMs / 60_000}m`;
  if (sizeMs % 1000 === 0) return `${sizeMs / 1000}s`;
  return `${sizeMs}ms`;
}
