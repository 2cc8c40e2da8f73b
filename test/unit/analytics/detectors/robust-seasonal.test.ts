import { describe, expect, it } from 'vitest';
import { robustDetector, robustParamsSchema, type RobustState } from '../../../../src/analytics/detectors/robust.js';
import { unexplained } from '../../../../src/analytics/detectors/seasonal-profile.js';
import { run, series, timeline } from './run.js';

const params = (p: Record<string, unknown> = {}) => robustParamsSchema.parse({ metric: 'value', ...p });
const DAY = 86_400;
/** Deterministic noise in [-1, 1]. */
const noise = (i: number): number => ((i * 7919) % 201) / 100 - 1;

/** A 5-min signal at 20 that rises to 80 from 09:00 to 12:00 every day; `skip(day)`: no rise that day. */
function daily(days: number, skip: (day: number) => boolean = () => false): [number, number][] {
  return series((days * DAY) / 300, 300, (i) => {
    const t = i * 300;
    const day = Math.floor(t / DAY);
    const hour = (t % DAY) / 3600;
    return (hour >= 9 && hour < 12 && !skip(day) ? 80 : 20) + noise(i);
  });
}

describe('robust detector: daily and weekly cycles', () => {
  it('judges a daily cycle against its profile once confirmed: no alert on the usual rises', () => {
    const { events, state } = run(robustDetector, params(), daily(14));
    expect(state.season?.active).toBe(0);
    expect(unexplained(state.season!.profiles[0]!)).toBeLessThan(0.05);
    // Before the cycle is confirmed (two days) the first rises may raise; none after day 3.
    expect(events.filter((e) => e.ts >= Date.UTC(2024, 0, 4))).toEqual([]);
  });

  it('raises when a daily rise does not come, telling the value usual at that hour as the baseline', () => {
    const { events } = run(robustDetector, params(), daily(14, (d) => d === 10));
    const late = events.filter((e) => e.kind === 'raise' && e.ts >= Date.UTC(2024, 0, 4));
    expect(late.length).toBeGreaterThan(0);
    const raise = late[0]!;
    expect(raise.ts).toBeGreaterThanOrEqual(Date.UTC(2024, 0, 11, 9));
    expect(raise.ts).toBeLessThan(Date.UTC(2024, 0, 11, 12));
    expect(raise.value).toBeLessThan(25);
    expect(raise.baseline).toBeGreaterThan(70);
    // A flat location cannot tell: the missing rise is its usual level.
    const flat = run(robustDetector, params({ seasonPeriodsS: [] }), daily(14, (d) => d === 10)).events;
    expect(flat.filter((e) => e.kind === 'raise' && e.ts >= Date.UTC(2024, 0, 11) && e.ts < Date.UTC(2024, 0, 12))).toEqual([]);
  });

  it('a daily rise that comes 5 min early or late some days is no anomaly', () => {
    // The rise and fall move by one sample (5 min) on odd days.
    const points = series((14 * DAY) / 300, 300, (i) => {
      const t = i * 300;
      const shift = Math.floor(t / DAY) % 2 === 1 ? 300 : 0;
      const hour = ((t % DAY) - shift) / 3600;
      return (hour >= 9 && hour < 12 ? 80 : 20) + noise(i);
    });
    const { events, state } = run(robustDetector, params(), points);
    expect(state.season?.active).toBe(0);
    expect(events.filter((e) => e.ts >= Date.UTC(2024, 0, 4))).toEqual([]);
    // An hour late is not a few minutes: it raises once the rise is more than a bin overdue.
    const late = series((14 * DAY) / 300, 300, (i) => {
      const t = i * 300;
      const shift = Math.floor(t / DAY) === 10 ? 3600 : 0;
      const hour = ((t % DAY) - shift) / 3600;
      return (hour >= 9 && hour < 12 ? 80 : 20) + noise(i);
    });
    const raises = run(robustDetector, params(), late).events.filter((e) => e.kind === 'raise' && e.ts >= Date.UTC(2024, 0, 4));
    expect(raises[0]!.ts).toBeGreaterThan(Date.UTC(2024, 0, 11, 9));
    expect(raises[0]!.ts).toBeLessThanOrEqual(Date.UTC(2024, 0, 11, 9, 10));
  });

  it('a rise twice as high as usual raises at its hour', () => {
    const points = daily(14).map(([t, v]) => [t, t >= 10 * DAY + 9 * 3600 && t < 10 * DAY + 12 * 3600 ? v + 60 : v] as [number, number]);
    const raises = run(robustDetector, params(), points).events.filter((e) => e.kind === 'raise' && e.ts >= Date.UTC(2024, 0, 4));
    expect(raises.map((e) => e.ts)).toContain(Date.UTC(2024, 0, 11, 9));
  });

  it('finds a weekly cycle, and a working day that stays low', () => {
    // 30-min samples; working days (Monday to Friday) at 100, weekends at 30.
    const week = (skipDay: number) =>
      series((8 * 7 * DAY) / 1800, 1800, (i) => {
        const day = Math.floor((i * 1800) / DAY);
        const weekday = (day + 1) % 7; // 2024-01-01 was a Monday: 1
        return (weekday >= 1 && weekday <= 5 && day !== skipDay ? 100 : 30) + 2 * noise(i);
      });
    const normal = run(robustDetector, params(), week(-1));
    // A week of 30-min samples in bins of whole days' bins: 168 of an hour.
    expect(normal.state.season?.profiles.map((p) => p.mean.length)).toEqual([48, 168]);
    expect(normal.state.season?.active).toBe(1);
    expect(normal.events.filter((e) => e.ts >= Date.UTC(2024, 0, 22))).toEqual([]);
    // Wednesday of the sixth week (day 37) stays at the weekend's level.
    const holiday = run(robustDetector, params(), week(37)).events.filter((e) => e.kind === 'raise' && e.ts >= Date.UTC(2024, 0, 22));
    expect(holiday.length).toBeGreaterThan(0);
    expect(holiday[0]!.ts).toBeGreaterThanOrEqual(Date.UTC(2024, 1, 7));
    expect(holiday[0]!.ts).toBeLessThan(Date.UTC(2024, 1, 8));
  });

  it('noise without a cycle confirms no profile, and is judged exactly as without profiles', () => {
    // Heavy-tailed spikes on noise over 10 days.
    const points = series((10 * DAY) / 300, 300, (i) => 50 + 3 * noise(i) + (i % 397 === 0 ? 60 : 0));
    const withProfiles = run(robustDetector, params(), points);
    expect(withProfiles.state.season?.active).toBe(-1);
    expect(timeline(withProfiles.events)).toEqual(timeline(run(robustDetector, params({ seasonPeriodsS: [] }), points).events));
  });

  it('a fast signal gets bounded profiles (at most seasonBins bins a period) and a day of it confirms nothing', () => {
    const { state } = run(robustDetector, params(), series(8640, 10, (i) => 60 + noise(i)));
    const profiles = state.season!.profiles;
    expect(profiles.map((p) => p.mean.length)).toEqual([288, 288]);
    expect(state.season!.active).toBe(-1);
  });

  it('a state through JSON goes on with the same events', () => {
    const points = daily(14, (d) => d === 10);
    const half = run(robustDetector, params(), points.slice(0, 2000));
    const resumed = run(robustDetector, params(), points.slice(2000), JSON.parse(JSON.stringify(half.state)) as RobustState);
    const straight = run(robustDetector, params(), points.slice(2000), half.state);
    expect(timeline(resumed.events)).toEqual(timeline(straight.events));
    expect(resumed.events.length).toBeGreaterThan(0);
  });

  it('a state from before the profiles existed (no season field) goes on and starts one', () => {
    const old = run(robustDetector, params(), daily(1)).state as Partial<RobustState>;
    delete old.season;
    const { state } = run(robustDetector, params(), daily(4).slice(288), old as RobustState);
    expect(state.season?.profiles.length).toBe(2);
  });
});
