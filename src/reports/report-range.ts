import { windowStart } from '../analytics/energy/window-sizes.js';
import { PlantPulseError } from '../contract/index.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The longest range one report covers, like the other read APIs. */
export const MAX_REPORT_SPAN_MS = 400 * DAY_MS;

/**
 * The period of an energy report. Reports sum the stored hourly energy windows, so a period is
 * whole plant-local hours: `from` and `to` must each fall on an hour boundary of the plant's
 * clock (the energy windows' `utcOffsetMinutes`; with a whole-hour offset such as UTC+8, any
 * whole UTC hour). A period that cuts an hour is refused (400), never silently widened or
 * narrowed: the figures always cover exactly the period the report names.
 *
 * Defaults: `to` is the start of the current plant-local day, `from` one day before `to`
 * (yesterday's report); only `from` given: one day from it.
 */
export function reportRange(q: { from?: number; to?: number }, utcOffsetMs: number, now: number): { from: number; to: number } {
  const to = q.to ?? (q.from !== undefined ? q.from + DAY_MS : windowStart(now, DAY_MS, utcOffsetMs));
  const from = q.from ?? to - DAY_MS;
  for (const [name, t] of [['from', from], ['to', to]] as const) {
    if (windowStart(t, HOUR_MS, utcOffsetMs) !== t) {
      throw new PlantPulseError('PP_ERR_INVALID_QUERY', `${name} (${new Date(t).toISOString()}) must fall on a whole plant-local hour: reports sum hourly energy windows`);
    }
  }
  if (from >= to) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  if (to - from > MAX_REPORT_SPAN_MS) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `the range from..to spans more than ${MAX_REPORT_SPAN_MS / DAY_MS} days; narrow it`);
  return { from, to };
}

/** Whether both ends are plant-local midnights (whole days). */
export function wholeDays(from: number, to: number, utcOffsetMs: number): boolean {
  return windowStart(from, DAY_MS, utcOffsetMs) === from && windowStart(to, DAY_MS, utcOffsetMs) === to;
}
