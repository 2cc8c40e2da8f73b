import { windowStart } from '../analytics/energy/window-sizes.js';
import { DAY_MS, HOUR_MS } from './config.js';

/**
 * Quality windows: 1 h and 1 day, aligned on plant-local midnight like the energy windows
 * (windowStart in analytics/energy/window-sizes.ts). Hours nest exactly in days, so state is
 * kept per device and hour only, and a day is the sum of its 24 hours.
 */
export type QualityWindow = '1h' | '1d';
export const QUALITY_WINDOWS: Record<QualityWindow, number> = { '1h': HOUR_MS, '1d': DAY_MS };

export function hourOf(ts: number, utcOffsetMs: number): number {
  return windowStart(ts, HOUR_MS, utcOffsetMs);
}

export function dayOf(ts: number, utcOffsetMs: number): number {
  return windowStart(ts, DAY_MS, utcOffsetMs);
}

/** The hour starts of [from, to), hour-aligned `from`. */
export function hoursBetween(from: number, to: number): number[] {
  const out: number[] = [];
  for (let h = from; h < to; h += HOUR_MS) out.push(h);
  return out;
}

/**
 * Whether samples of the day starting `dayStart` are still accounted at `now`: until the late
 * horizon after the day's end. Days are kept or dropped whole, so a day's figure is always the
 * sum of all its hours.
 */
export function dayRetained(dayStart: number, now: number, lateHorizonMs: number): boolean {
  return dayStart + DAY_MS + lateHorizonMs > now;
}

/** The earliest day start whose samples are still accounted at `now`. */
export function firstRetainedDay(now: number, cfg: { lateHorizonMs: number; utcOffsetMs: number }): number {
  // The day holding (now − horizon − 1 day) ended at or before now − horizon; the next one did not.
  return dayOf(now - cfg.lateHorizonMs - DAY_MS, cfg.utcOffsetMs) + DAY_MS;
}
