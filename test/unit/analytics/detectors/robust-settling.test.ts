import { beforeEach, describe, expect, it } from 'vitest';
import { robustDetector, robustParamsSchema } from '../../../../src/analytics/detectors/robust.js';
import { addToTrend, approachExplains, startTrend, TREND, trendAt, trendFlat, type TrendSums } from '../../../../src/analytics/detectors/settling.js';
import { run, series, T0, timeline } from './run.js';

/** No restart warm-up: a restart's settled level is judged by the ordinary tests from the first (see 'restart levels'). */
const params = (p: Record<string, unknown> = {}) => robustParamsSchema.parse({ metric: 'temperature_c', restartWarmup: 0, ...p });

/** Seeded normal noise (Box–Muller on a linear congruential generator): reproducible, with real tails. */
function gaussian(seed: number): (i: number) => number {
  let s = seed;
  const u = (): number => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (s + 1) / 2_147_483_649;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Each test's own noise, the same every run whatever the order of the tests. */
let noise = gaussian(7);
/** A furnace-like temperature: 180 °C ± 0.2 running, learned over 400 samples at 10 s. */
let running: [number, number][] = [];
const end = 400 * 10;
beforeEach(() => {
  noise = gaussian(7);
  running = series(400, 10, () => 180 + 0.2 * noise(0));
});

/** After a stop of `stopS` seconds: a first-order approach from `from` towards `to` with time constant `tauS`, `n` samples at 10 s. */
function restart(stopS: number, from: number, to: number, tauS: number, n: number): [number, number][] {
  return series(n, 10, (i) => to + (from - to) * Math.exp((-i * 10) / tauS) + 0.2 * noise(0), end + stopS);
}

describe('robust detector: settling after a restart', () => {
  it('a temperature heading back to its level after a stop is settling, not a fault', () => {
    // 900 s stopped, back 20 °C low (100σ), closing with a 20-min time constant, then running on.
    const back = restart(900, 160, 180, 1200, 500);
    expect(run(robustDetector, params(), [...running, ...back]).events).toEqual([]);
    // Without the settling test the same restart raises at once.
    expect(timeline(run(robustDetector, params({ settleGap: 0 }), [...running, ...back]).events)[0]).toBe(`raise@${end + 900}`);
  });

  it('judges again once settled: a fault after the approach raises', () => {
    const back = restart(900, 160, 180, 600, 400);
    const hot = series(50, 10, () => 190 + 0.2 * noise(0), end + 900 + 4000);
    const raises = run(robustDetector, params(), [...running, ...back, ...hot]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    // Nothing during the approach; the first raise is the fault's.
    expect(raises[0]!.ts).toBeGreaterThanOrEqual(T0 + (end + 900 + 4000) * 1000);
    expect(raises[0]!.message.en).toMatch(/above its usual/);
  });

  it('a restart that stays far from the level raises: no approach explains it', () => {
    const flat = series(100, 10, () => 165 + 0.2 * noise(0), end + 900);
    const raises = run(robustDetector, params(), [...running, ...flat]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    // Within the fit's warm-up (half of settleSamples) and three misses.
    expect(raises[0]!.ts).toBeLessThanOrEqual(T0 + (end + 900 + 20 * 10) * 1000);
  });

  it('a restart that heads away from the level (lost cooling) raises', () => {
    // Back at the level, then climbing away from it at 1 °C a minute.
    const away = series(100, 10, (i) => 180 + i / 6 + 0.2 * noise(0), end + 900);
    expect(run(robustDetector, params(), [...running, ...away]).events.some((e) => e.kind === 'raise')).toBe(true);
  });

  it('an approach that stops short of the level, many σ away, raises once it flattens', () => {
    // Heading for 172 °C (40σ below the learned 180) with a 5-min time constant.
    const short = restart(900, 150, 172, 300, 300);
    const raises = run(robustDetector, params(), [...running, ...short]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]!.message.en).toMatch(/below its usual/);
  });

  it('an approach too slow for settleTauS is no settling', () => {
    // 20 °C below with a 5-hour time constant: far slower than any machine's warm-up the default allows.
    const slow = restart(900, 160, 180, 18_000, 100);
    expect(run(robustDetector, params(), [...running, ...slow]).events.some((e) => e.kind === 'raise')).toBe(true);
  });

  it('short pauses are not restarts: the typical interval is learned, and ten of them make a gap', () => {
    const p = params();
    const { state } = run(robustDetector, p, running);
    expect(state.dt).toBe(10_000);
    // 90 s late: not a gap; the step down raises at once.
    expect(timeline(run(robustDetector, p, [[end + 90, 165]], state).events)).toEqual([`raise@${end + 90}`]);
    // 110 s: a restart; one sample tells nothing yet.
    const after = run(robustDetector, p, [[end + 110, 165]], state);
    expect(after.events).toEqual([]);
    expect(after.state.settling).toBe(true);
  });

  it('an alert still open when its run ended clears at the restart, and the next run is judged afresh', () => {
    const hot = series(20, 10, () => 190 + 0.2 * noise(0), end);
    const back = restart(900, 170, 180, 300, 200);
    const events = run(robustDetector, params(), [...running, ...hot, ...back]).events;
    expect(events.filter((e, i) => e.kind === 'raise' && events[i - 1]?.kind !== 'raise')).toHaveLength(1);
    const clears = events.filter((e) => e.kind === 'clear');
    expect(timeline(clears)).toEqual([`clear@${end + 900}`]);
    expect(clears[0]!.message.en).toMatch(/run this alert was raised in has ended/);
    // Judged afresh once settled: the same 10 °C again is the episode already reported (followed,
    // not raised: the raised bar and the episode memory); a hotter run raises.
    const stillHot = series(200, 10, () => 190 + 0.2 * noise(0), end + 900);
    const same = run(robustDetector, params(), [...running, ...hot, ...stillHot]);
    expect(timeline(same.events.filter((e) => e.kind === 'clear'))).toEqual([`clear@${end + 900}`]);
    expect(same.events.some((e) => e.kind === 'raise' && e.ts > T0 + (end + 900) * 1000)).toBe(false);
    expect(same.state.latch.active).toBe(true);
    const hotter = series(200, 10, () => 200 + 0.2 * noise(0), end + 900);
    expect(run(robustDetector, params(), [...running, ...hot, ...hotter]).events.some((e) => e.kind === 'raise' && e.ts > T0 + (end + 900) * 1000)).toBe(true);
  });

  it('the state stays plain JSON through a restart', () => {
    const back = restart(900, 160, 180, 1200, 20);
    const { state } = run(robustDetector, params(), [...running, ...back]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe('robust detector: restart levels', () => {
  /** Runs of 300 samples after 900-s stops, each settling (5-min time constant) at 180 + offsets[k]. */
  function runs(offsets: readonly number[], from = end): [number, number][] {
    return offsets.flatMap((o, k) => series(300, 10, (i) => 180 + o + (170 - 180 - o) * Math.exp((-i * 10) / 300) + 0.2 * noise(0), from + 900 + k * 3900));
  }
  const wander = [2, -1.5, 1, -2, 0.5, 1.5, -1, 2.5];
  const p = robustParamsSchema.parse({ metric: 'temperature_c' });

  it('a restart settling within the usual spread of restart levels becomes the run\'s level: no alert', () => {
    // Levels ±2.5 °C apart: each 12σ of the in-run noise (0.2 °C) from the one before.
    const { events, state } = run(robustDetector, p, [...running, ...runs(wander)]);
    expect(events).toEqual([]);
    expect(state.restarts).toBe(wander.length);
    expect(state.restartScale).toBeGreaterThan(1);
    expect(state.loc).toBeCloseTo(182.5, 0);
    // Judged on the in-run σ, the same runs raise.
    expect(run(robustDetector, robustParamsSchema.parse({ metric: 'temperature_c', restartWarmup: 0 }), [...running, ...runs(wander)]).events.some((e) => e.kind === 'raise')).toBe(true);
  });

  it('the rest of the run is judged against that level: a step within it raises', () => {
    const history = [...running, ...runs(wander)];
    const last = history[history.length - 1]![0];
    const step = series(20, 10, () => 185.5 + 0.2 * noise(0), last + 10);
    const raises = run(robustDetector, p, [...history, ...step]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]!.ts).toBe(T0 + (last + 10) * 1000);
  });

  it('a restart settling far beyond the usual spread raises', () => {
    const history = [...running, ...runs(wander)];
    const last = history[history.length - 1]![0];
    const far = runs([40], last);
    const raises = run(robustDetector, p, [...history, ...far]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]!.message.en).toMatch(/above its usual/);
  });
});

describe('settling trend', () => {
  it('fits the slope and the level now of a straight line exactly', () => {
    const s: TrendSums = { tk: 0, tw: 0, tt: 0, tv: 0, ttt: 0, ttv: 0, tvv: 0, t0: 0 };
    startTrend(s, 1000);
    for (let i = 0; i < 40; i++) addToTrend(s, 1000 + i * 10_000, 5 + 0.5 * i * 10, 30);
    trendAt(s, 1000 + 39 * 10_000);
    expect(TREND.slope).toBeCloseTo(0.5, 9);
    expect(TREND.level).toBeCloseTo(5 + 0.5 * 390, 6);
  });

  it('a trend is flat when its slope is within its noise, or too small to matter even for the slowest approach', () => {
    const s: TrendSums = { tk: 0, tw: 0, tt: 0, tv: 0, ttt: 0, ttv: 0, tvv: 0, t0: 0 };
    const g = gaussian(3);
    startTrend(s, 0);
    for (let i = 0; i < 40; i++) addToTrend(s, i * 10_000, 5 + g(0), 30);
    trendAt(s, 39 * 10_000);
    expect(TREND.noise).toBeGreaterThan(0.5);
    expect(trendFlat(3600, 0)).toBe(true);
    // 1 per sample against noise of 1: moving.
    startTrend(s, 0);
    for (let i = 0; i < 40; i++) addToTrend(s, i * 10_000, 5 + i + g(0), 30);
    trendAt(s, 39 * 10_000);
    expect(trendFlat(3600, 0)).toBe(false);
    // The same slope, 0.1 per second: an hour's approach would go 360 further; a tolerance of 400 is more.
    expect(trendFlat(3600, 400)).toBe(true);
  });

  it('an approach explains a trend only heading into the range of levels, fast enough', () => {
    expect(approachExplains(170, 0.01, 180, 0.4, 3600)).toBe(true);
    expect(approachExplains(170, -0.01, 180, 0.4, 3600)).toBe(false);
    expect(approachExplains(190, -0.001, 180, 0.4, 3600)).toBe(false);
    expect(approachExplains(190, -0.001, 180, 0.4, 36_000)).toBe(true);
    // Within a wider range (the spread of restarts' levels) the same approach is on its way.
    expect(approachExplains(190, -0.001, 180, 7, 3600)).toBe(true);
    // Inside the range and moving either way: still settling; beyond it and moving away: not.
    expect(approachExplains(182, 0.001, 180, 7, 3600)).toBe(true);
    expect(approachExplains(188, 0.001, 180, 7, 3600)).toBe(false);
  });
});

describe('robust detector: when an alert is back', () => {
  const level = gaussian(11);
  const normal = series(600, 5, () => 10 + level(0));

  it('clears once normal noise is back, though some of its samples are beyond zClear', () => {
    const fault = series(30, 5, () => 40 + level(0), 3000);
    const back = series(300, 5, () => 10 + level(0), 3150);
    const events = run(robustDetector, params({ cusumH: 0 }), [...normal, ...fault, ...back]).events;
    const clears = events.filter((e) => e.kind === 'clear');
    expect(clears).toHaveLength(1);
    expect(clears[0]!.message.en).toMatch(/back within/);
    // Within about holdSamples (100) samples of its return, not at re-learning (300 open).
    expect(clears[0]!.ts).toBeLessThan(T0 + (3150 + 150 * 5) * 1000);
    expect(back.filter(([, v]) => Math.abs(v - 10) > 2.2).length).toBeGreaterThan(0);
  });

  it('stays open while a smaller shift lingers (each sample within twice zClear, their average not within zClear)', () => {
    const fault = series(30, 5, () => 40 + level(0), 3000);
    const lingering = series(250, 5, () => 13 + 0.3 * level(0), 3150);
    const events = run(robustDetector, params({ cusumH: 0 }), [...normal, ...fault, ...lingering]).events;
    expect(events.filter((e) => e.kind === 'clear')).toEqual([]);
  });
});
