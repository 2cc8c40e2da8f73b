import { describe, expect, it } from 'vitest';
import { robustDetector, robustParamsSchema, type RobustState } from '../../../../src/analytics/detectors/robust.js';
import { addSample, newSeason, unexplained, type SeasonProfile } from '../../../../src/analytics/detectors/seasonal-profile.js';
import { run, series, T0, timeline } from './run.js';

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
    expect(normal.state.season?.profiles.map((p) => p.bins)).toEqual([48, 168]);
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
    expect(profiles.map((p) => p.bins)).toEqual([288, 288]);
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

  it('holds only the bins visited so far: none is allocated in full before a period has passed', () => {
    // Two hours of 5-min samples from 01:00: the profiles start at the third (01:10, the day's bin
    // 14: the interval is known from the second); the bin in progress is not learned yet.
    const { state } = run(robustDetector, params(), series(24, 300, (i) => 50 + noise(i), 3600));
    const [day, week] = state.season!.profiles;
    // 21 bins learned (14 to 34), in arrays grown a quarter at a time: 4, 9, 16, 24.
    expect(day!.first).toBe(14);
    expect(day!.mean.length).toBe(24);
    expect(day!.count.filter((c) => c > 0).length).toBe(21);
    expect(day!.count.slice(21)).toEqual([0, 0, 0]);
    // The week's bins of 35 min, weeks from Thursday 00:00 (the epoch's): Monday 01:10 is in bin 166.
    expect(week!.first).toBe(166);
    expect(week!.mean.length).toBe(4);
    expect(week!.count.filter((c) => c > 0).length).toBe(3);
    expect(day!.count.length).toBe(day!.mean.length);
    // A full day: every bin, the array no longer grown.
    const full = run(robustDetector, params(), daily(2)).state.season!.profiles[0]!;
    expect(full.mean.length).toBe(288);
  });

  it('a state whose profiles hold every bin from bin 0 (as handed over by an older version) goes on with the same events', () => {
    const points = daily(14, (d) => d === 10);
    const half = run(robustDetector, params(), points.slice(0, 1000));
    // The older layout: each profile's arrays over every bin from 0, no bins/first/idleUntil/tries, no idle.
    const old = JSON.parse(JSON.stringify(half.state)) as RobustState;
    const season = old.season! as unknown as Record<string, unknown> & { profiles: (Partial<SeasonProfile> & Record<string, unknown>)[] };
    delete season.idle;
    for (const pr of season.profiles) {
      const bins = pr.bins!;
      const mean = new Array<number>(bins).fill(0);
      const count = new Array<number>(bins).fill(0);
      pr.mean!.forEach((m, j) => {
        mean[(pr.first! + j) % bins] = m;
        count[(pr.first! + j) % bins] = pr.count![j]!;
      });
      Object.assign(pr, { mean, count });
      for (const k of ['bins', 'first', 'idleUntil', 'tries']) delete pr[k];
    }
    const straight = run(robustDetector, params(), points.slice(1000), half.state);
    const resumed = run(robustDetector, params(), points.slice(1000), old);
    expect(resumed.state.season!.active).toBe(0);
    expect(timeline(resumed.events)).toEqual(timeline(straight.events));
    expect(resumed.events.some((e) => e.kind === 'raise' && e.ts >= Date.UTC(2024, 0, 11, 9))).toBe(true);
  });

  it('lets a profile that explains nothing go after two periods compared, and tries it again four periods later', () => {
    const points = series((8 * DAY) / 300, 300, (i) => 50 + 3 * noise(i));
    const p = params({ seasonPeriodsS: [DAY] });
    // Day 0 learns the bins (from 00:10, the third sample), days 1 and 2 compare: let go when the
    // visit of 00:10 on day 3 ends.
    const day = run(robustDetector, p, points.slice(0, (3 * DAY) / 300 + 4)).state.season!.profiles[0]!;
    expect(day.idleUntil).toBe(Date.UTC(2024, 0, 8, 0, 10));
    expect(day.mean).toEqual([]);
    expect(day.count).toEqual([]);
    expect(day.tries).toBe(1);
    expect(run(robustDetector, p, points.slice(0, (3 * DAY) / 300 + 3)).state.season!.profiles[0]!.idleUntil).toBe(0);
    // Just before day 7 00:10 still let go; from then it learns again, from empty.
    const day7 = run(robustDetector, p, points.slice(0, (7 * DAY) / 300 + 2)).state.season!.profiles[0]!;
    expect(day7.idleUntil).toBeGreaterThan(0);
    const later = run(robustDetector, p, points).state.season!.profiles[0]!;
    expect(later.idleUntil).toBe(0);
    expect(later.tries).toBe(1);
    expect(later.mean.length).toBeGreaterThan(280);
  });

  it('waits twice as long after each failed try, up to 16 periods', () => {
    // Only the day: let go on days 3, 10 (tried from day 7), 21 (from day 18) and 40 (from 37).
    const points = series((41 * DAY) / 300, 300, (i) => 50 + 3 * noise(i));
    const p = params({ seasonPeriodsS: [DAY] });
    const third = run(robustDetector, p, points.slice(0, (22 * DAY) / 300)).state.season!.profiles[0]!;
    expect(third.tries).toBe(3);
    expect(third.idleUntil).toBe(Date.UTC(2024, 0, 22 + 16, 0, 10));
    const fourth = run(robustDetector, p, points).state.season!.profiles[0]!;
    expect(fourth.tries).toBe(4);
    expect(fourth.idleUntil).toBe(Date.UTC(2024, 0, 41 + 16, 0, 10));
  });

  it('while every profile is let go, a sample is one comparison: the visit lasts until the first is tried again, and the level starts afresh then', () => {
    const points = series((8 * DAY) / 300, 300, (i) => 50 + 3 * noise(i));
    const idle = run(robustDetector, params({ seasonPeriodsS: [DAY] }), points.slice(0, (5 * DAY) / 300)).state.season!;
    expect(idle.idle).toBe(true);
    expect(idle.until).toBe(Date.UTC(2024, 0, 8, 0, 10));
    // The samples after the one that let it go (day 3 00:20 to day 4 23:55) are one visit, learned by nothing.
    expect(idle.k).toBe((2 * DAY) / 300 - 4);
    const nl = idle.nl;
    expect(run(robustDetector, params({ seasonPeriodsS: [DAY] }), points.slice(0, (7 * DAY) / 300)).state.season!.nl).toBe(nl);
    // Tried again: the level learns from the first visits after.
    const back = run(robustDetector, params({ seasonPeriodsS: [DAY] }), points.slice(0, (7 * DAY) / 300 + 10)).state.season!;
    expect(back.idle).toBe(false);
    expect(back.nl).toBeLessThan(nl);
    expect(back.nl).toBeGreaterThan(0);
    expect(Math.abs(back.level - 50)).toBeLessThan(3);
  });

  it('a daily cycle that begins after its profile was let go is found once it is tried again', () => {
    // Noise for 5 days, then the 09:00–12:00 rise every day: let go on day 3, tried from day 7
    // (one day to learn, one to compare), judged against from day 9.
    const cycle = daily(14);
    const points = cycle.map(([t, v], i) => [t, t < 5 * DAY ? 20 + noise(i) : v] as [number, number]);
    const { state, events } = run(robustDetector, params({ seasonPeriodsS: [DAY] }), points);
    expect(state.season!.profiles[0]!.tries).toBe(1);
    expect(state.season!.active).toBe(0);
    expect(events.filter((e) => e.ts >= Date.UTC(2024, 0, 10))).toEqual([]);
  });

  it('lets profiles go only all at once: the day waits for the week (three weeks) on a metric without a cycle, whose state is then small', () => {
    const points = series((23 * DAY) / 300, 300, (i) => 50 + 3 * noise(i));
    const early = run(robustDetector, params(), points.slice(0, (20 * DAY) / 300)).state;
    expect(early.season!.profiles.map((p) => p.idleUntil)).toEqual([0, 0]);
    expect(early.season!.profiles.map((p) => p.mean.length)).toEqual([288, 288]);
    const full = JSON.stringify(early).length;
    const { state } = run(robustDetector, params(), points);
    expect(state.season!.profiles.map((p) => p.idleUntil > 0)).toEqual([true, true]);
    expect(state.season!.profiles.map((p) => p.tries)).toEqual([1, 1]);
    expect(JSON.stringify(state).length).toBeLessThan(2000);
    expect(full).toBeGreaterThan(10_000);
  });

  it('lets no profile go while one is judged against', () => {
    // Noise, 5-min samples, only the day; the same visits with the profile judged against and not.
    const p = params({ seasonPeriodsS: [DAY] });
    const judged = newSeason(p, 300_000);
    const free = newSeason(p, 300_000);
    judged.active = 0;
    for (let i = 0; i < (5 * DAY) / 300; i++) {
      for (const s of [judged, free]) addSample(p, s, T0 + i * 300_000, 50 + 3 * noise(i), false);
    }
    expect(unexplained(judged.profiles[0]!)).toBeGreaterThan(0.5);
    expect(judged.profiles[0]!.idleUntil).toBe(0);
    expect(judged.profiles[0]!.mean.length).toBe(288);
    expect(free.profiles[0]!.idleUntil).toBeGreaterThan(0);
  });
});
