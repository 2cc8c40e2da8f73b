import { describe, expect, it } from 'vitest';
import { robustDetector, robustParamsSchema } from '../../../../src/analytics/detectors/robust.js';
import { run, series, T0, timeline } from './run.js';

const params = (p: Record<string, unknown> = {}) => robustParamsSchema.parse({ metric: 'vibration_g', warmupSamples: 50, holdSamples: 5, ...p });

/** Deterministic noise in [-1, 1] with std ≈ 0.58. */
const noise = (i: number): number => ((i * 7919) % 201) / 100 - 1;

describe('robust detector', () => {
  it('is scale-free: the same spike raises on a 0.0004 g channel and on a 70 °C one', () => {
    for (const [level, spread] of [
      [0.02, 0.0004],
      [70, 0.5],
      [-3e6, 2e4],
    ] as const) {
      const normal = series(300, 5, (i) => level + spread * noise(i));
      const { events } = run(robustDetector, params(), [...normal, [1500, level + 12 * spread]]);
      expect(timeline(events)).toEqual(['raise@1500']);
    }
  });

  it('does not raise on ordinary noise at any scale', () => {
    for (const spread of [1e-6, 1, 1e6]) expect(run(robustDetector, params(), series(3000, 5, (i) => 5 * spread + spread * noise(i))).events).toEqual([]);
  });

  it('one spike neither moves the location nor widens the scale', () => {
    const before = run(robustDetector, params(), series(300, 5, (i) => 10 + noise(i))).state;
    const { state } = run(robustDetector, params(), [[1500, 1e6], ...series(10, 5, (i) => 10 + noise(i), 1505)], before);
    expect(state.loc).toBeCloseTo(before.loc, 1);
    expect(state.scale).toBeLessThan(before.scale * 1.2);
  });

  it('a level shift too small for the outlier test raises by CUSUM, saying it shifted', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    // +3σ (σ ≈ 0.58 × 1.25 of the mean absolute deviation): never 8σ, but held.
    const shifted = series(100, 5, (i) => 12 + noise(i), 1500);
    // Without the mean test: with it, the CUSUM also needs the recent mean meanMinZ σ out (below).
    const { events } = run(robustDetector, params({ meanSamples: 0 }), [...normal, ...shifted]);
    const raises = events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]!.ts - Date.UTC(2024, 0, 1)).toBeLessThan(1500_000 + 30 * 5000);
    expect(raises[0]!.message.en).toMatch(/^vibration_g shifted up/);
    expect(raises[0]!.message.zh).toMatch(/水平上移/);
  });

  it('with the mean test on, the CUSUM leaves a shift under meanMinZ σ alone (a lower guard finds it)', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    const small = series(100, 5, (i) => 12 + noise(i), 1500);
    expect(run(robustDetector, params(), [...normal, ...small]).events).toEqual([]);
    // The same shift is ~3σ (learned σ ≈ 0.63): with the guard at 2σ it raises as a shift.
    const raises = run(robustDetector, params({ meanMinZ: 2 }), [...normal, ...small]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]!.message.en).toMatch(/shifted up/);
  });

  it('a slow ramp to a new level raises: samples beyond learnBelow are not learned, so it is not followed', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    // 12σ (σ ≈ 0.73) over 150 samples: under a tenth of σ per sample, never a jump.
    const ramp = series(300, 5, (i) => 10 + 8.7 * Math.min(1, i / 150) + noise(i), 1500);
    const raised = run(robustDetector, params({ cusumH: 0 }), [...normal, ...ramp]).events.filter((e) => e.kind === 'raise');
    expect(raised.length).toBeGreaterThan(0);
    // Learning every quiet sample (clipped only), location and scale follow the ramp: no alert.
    expect(run(robustDetector, params({ cusumH: 0, learnBelow: 1000, alpha: 0.01 }), [...normal, ...ramp]).events).toEqual([]);
  });

  it('one alert per burst: it stays open while the signal is unsettled and clears after holdSamples calm ones', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    const burst = series(20, 5, (i) => (i % 3 === 0 ? 30 : 10), 1500);
    const calm = series(10, 5, (i) => 10 + noise(i), 1600);
    const { events } = run(robustDetector, params({ holdSamples: 5 }), [...normal, ...burst, ...calm]);
    // Raises at each 30 (1500, 1515, …, 1590): one alert, updated; the 10s between are calm but
    // fewer than 5 in a row until 1595…1615.
    expect(events.filter((e, i) => e.kind === 'raise' && events[i - 1]?.kind !== 'raise')).toHaveLength(1);
    expect(timeline(events.filter((e) => e.kind === 'clear'))).toEqual(['clear@1615']);
    expect(timeline(events.filter((e) => e.kind === 'raise'))).toEqual(series(7, 15, () => 0, 1500).map(([t]) => `raise@${t}`));
  });

  it('after an alert the bar rises to its peak: a spike no larger does not raise again soon, a larger one does', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    const first = series(1, 5, () => 30, 1500);
    const calm = series(10, 5, (i) => 10 + noise(i), 1505);
    const p = params({ barMemory: 1000 });
    const again = run(robustDetector, p, [...normal, ...first, ...calm, [1560, 29]]);
    expect(timeline(again.events)).toEqual(['raise@1500', 'clear@1525']);
    const larger = run(robustDetector, p, [...normal, ...first, ...calm, [1560, 40]]);
    expect(timeline(larger.events)).toEqual(['raise@1500', 'clear@1525', 'raise@1560']);
    // Without the bar (barMemory 0) and without the episode memory it raises again.
    expect(timeline(run(robustDetector, params({ barMemory: 0, episodes: 0 }), [...normal, ...first, ...calm, [1560, 29]]).events)).toEqual(['raise@1500', 'clear@1525', 'raise@1560']);
  });

  describe('episode memory', () => {
    // A cycle: 200 samples at 10, then 40 samples at 50 (a shift, a daily peak), again and again.
    const cycle = (days: number, peak: (day: number) => number) =>
      Array.from({ length: days }, (_, day) => series(240, 5, (i) => (i < 200 ? 10 : peak(day)) + noise(i + day * 240), day * 1200)).flat();

    it('an episode like one remembered is followed silently: a recurring peak raises once, not every cycle', () => {
      const { events, state } = run(robustDetector, params({ barMemory: 0 }), cycle(8, () => 50));
      // Each repeat takes the place of the one it repeats: one pattern, one memory.
      expect(state.known.length).toBe(3);
      expect(events.filter((e) => e.kind === 'raise').length).toBeGreaterThan(0);
      expect(timeline(events.filter((e) => e.kind === 'raise'))[0]).toBe('raise@1000');
      // Only the first cycle's peak raises (and repeats while open); later cycles are repeats.
      expect(events.filter((e) => e.kind === 'raise' && e.ts >= T0 + 1200_000)).toEqual([]);
      // Without the memory every cycle raises.
      const every = run(robustDetector, params({ barMemory: 0, episodes: 0 }), cycle(8, () => 50)).events;
      expect(new Set(every.filter((e) => e.kind === 'raise').map((e) => Math.floor((e.ts - T0) / 1200_000))).size).toBe(8);
    });

    it('a repeat that grows well beyond the remembered peak raises, and so does an episode to another level', () => {
      const grows = run(robustDetector, params({ barMemory: 0 }), cycle(6, (day) => (day === 5 ? 90 : 50))).events;
      expect(grows.filter((e) => e.kind === 'raise' && e.ts >= T0 + 5 * 1200_000).length).toBeGreaterThan(0);
      expect(grows.filter((e) => e.kind === 'raise' && e.ts >= T0 + 1200_000 && e.ts < T0 + 5 * 1200_000)).toEqual([]);
      const below = run(robustDetector, params({ barMemory: 0 }), cycle(6, (day) => (day === 5 ? -30 : 50))).events;
      expect(below.filter((e) => e.kind === 'raise' && e.ts >= T0 + 5 * 1200_000).length).toBeGreaterThan(0);
    });

    it('remembers at most `episodes` episodes, and its state round-trips through JSON', () => {
      const p = params({ barMemory: 0, episodes: 2 });
      const levels = [50, 90, 130, 170];
      const { state } = run(robustDetector, p, Array.from({ length: 4 }, (_, day) => series(240, 5, (i) => (i < 200 ? 10 : levels[day]!) + noise(i), day * 1200)).flat());
      expect(state.known.length).toBe(6);
      const copy = JSON.parse(JSON.stringify(state)) as typeof state;
      const next = series(240, 5, (i) => (i < 200 ? 10 : 170) + noise(i), 4 * 1200);
      expect(run(robustDetector, p, next, copy)).toEqual(run(robustDetector, p, next, state));
    });
  });

  it('a level held for relearnAfterSamples becomes the new normal, and is judged from there', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    const high = series(60, 5, (i) => 40 + noise(i), 1500);
    const { events, state } = run(robustDetector, params({ relearnAfterSamples: 20 }), [...normal, ...high]);
    expect(events.filter((e) => e.kind === 'clear').map((e) => e.message.en)).toEqual([expect.stringMatching(/has stayed at its new level .* re-learning/)]);
    expect(state.latch.active).toBe(false);
    expect(state.loc).toBeGreaterThan(39);
  });

  it('with maxOpenSamples, a level still beyond the one it left holds the alert open (nothing learned), then re-learns', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    const high = series(200, 5, (i) => 40 + noise(i), 1500);
    const p = params({ relearnAfterSamples: 20, maxOpenSamples: 150 });
    const held = run(robustDetector, p, [...normal, ...high.slice(0, 100)]);
    expect(held.events.length).toBeGreaterThan(0);
    expect(held.events.every((e) => e.kind === 'raise')).toBe(true);
    expect(held.state.latch.active).toBe(true);
    expect(held.state.loc).toBeLessThan(11);
    // Past maxOpenSamples the level is the new normal after all.
    const { events, state } = run(robustDetector, p, [...normal, ...high]);
    const clears = events.filter((e) => e.kind === 'clear');
    expect(clears.map((e) => e.message.en)).toEqual([expect.stringMatching(/has stayed at its new level .* re-learning/)]);
    expect(clears[0]!.ts).toBe(T0 + (1500 + 150 * 5) * 1000);
    expect(state.loc).toBeGreaterThan(39);
  });

  it('with maxOpenSamples, a held alert clears when the signal comes back to the level it left, without a second alert', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    const high = series(100, 5, (i) => 40 + noise(i), 1500);
    const back = series(100, 5, (i) => 10 + noise(i), 2000);
    const p = params({ relearnAfterSamples: 20, maxOpenSamples: 1000 });
    const { events, state } = run(robustDetector, p, [...normal, ...high, ...back]);
    expect(events.filter((e) => e.kind === 'clear').map((e) => e.message.en)).toEqual([expect.stringMatching(/back within/)]);
    expect(new Set(events.filter((e) => e.kind === 'raise').map((e) => e.ts < T0 + 2000_000))).toEqual(new Set([true]));
    expect(state.latch.active).toBe(false);
    expect(state.loc).toBeLessThan(11);
    // Without the hold, the level is re-learned after 20 samples and its end raises a second alert.
    const relearned = run(robustDetector, params({ relearnAfterSamples: 20 }), [...normal, ...high, ...back]).events;
    expect(relearned.filter((e) => e.kind === 'raise' && e.ts >= T0 + 2000_000).length).toBeGreaterThan(0);
  });

  it('with maxOpenSamples, a signal that stays within holdBeyond of the level it left re-learns at relearnAfterSamples', () => {
    // Wider noise about the same level: open (|z| often > zClear), but the recent mean stays near the location.
    const normal = series(300, 5, (i) => 10 + noise(i));
    const wide = series(100, 5, (i) => 10 + 12 * noise(i) + (i % 2 === 0 ? 9 : -9), 1500);
    const { events } = run(robustDetector, params({ relearnAfterSamples: 20, maxOpenSamples: 1000, barMemory: 0 }), [...normal, ...wide]);
    const firstRaise = events.find((e) => e.kind === 'raise')!;
    const firstClear = events.find((e) => e.kind === 'clear')!;
    expect(firstClear.message.en).toMatch(/re-learning/);
    expect(firstClear.ts - firstRaise.ts).toBe(20 * 5000);
  });

  it('with maxOpenSamples, an alert opened by a spike and followed by a level far smaller than the spike re-learns as before', () => {
    const normal = series(300, 5, (i) => 10 + noise(i));
    // Opened by a spike of +90; the level after it is +8 (beyond holdBeyond's 5σ, under holdShare of the spike).
    const after = series(100, 5, (i) => 18 + noise(i), 1505);
    const p = params({ relearnAfterSamples: 20, maxOpenSamples: 1000 });
    const { events } = run(robustDetector, p, [...normal, [1500, 100], ...after]);
    const firstClear = events.find((e) => e.kind === 'clear')!;
    expect(firstClear.message.en).toMatch(/re-learning/);
    expect(firstClear.ts).toBe(T0 + (1500 + 20 * 5) * 1000);
    // The same level reached by a step (opening near it) is held.
    const stepped = run(robustDetector, p, [...normal, ...after]).events;
    expect(stepped.filter((e) => e.kind === 'clear')).toEqual([]);
  });

  it('a shift the single samples do not show raises by the short-window mean, saying it shifted', () => {
    const normal = series(400, 5, (i) => 10 + noise(i));
    // +6σ (the learned σ is ≈ 0.63): no sample reaches 8σ, but the mean of the last ~10 is far outside the
    // learned spread of such means.
    const shifted = series(60, 5, (i) => 13.8 + noise(i), 2000);
    const p = params({ cusumH: 0 });
    const raises = run(robustDetector, p, [...normal, ...shifted]).events.filter((e) => e.kind === 'raise');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]!.ts - T0).toBeLessThan(2000_000 + 25 * 5000);
    expect(raises[0]!.message.en).toMatch(/^vibration_g shifted up/);
    // The point test alone (mean test off) does not see it.
    expect(run(robustDetector, params({ cusumH: 0, meanSamples: 0 }), [...normal, ...shifted]).events).toEqual([]);
  });

  it('the mean test leaves a shift under meanMinZ point scales alone, however sure its mean is', () => {
    // +3σ: the mean of ~10 samples is ~13 of its own spreads out, but a move of a few σ is what a
    // wandering process (temperature over a shift) does; only the meanMinZ guard keeps it quiet.
    const normal = series(400, 5, (i) => 10 + noise(i));
    const step = series(60, 5, (i) => 12.2 + noise(i), 2000);
    expect(run(robustDetector, params({ cusumH: 0 }), [...normal, ...step]).events).toEqual([]);
    expect(run(robustDetector, params({ cusumH: 0, meanMinZ: 0 }), [...normal, ...step]).events.filter((e) => e.kind === 'raise').length).toBeGreaterThan(0);
  });

  it('after an alert clears the short-window mean restarts: a burst is one alert, not one more after it', () => {
    const normal = series(400, 5, (i) => 10 + noise(i));
    const burst = series(20, 5, (i) => (i % 3 === 0 ? 30 : 10), 2000);
    const calm = series(200, 5, (i) => 10 + noise(i), 2100);
    const { events } = run(robustDetector, params({ cusumH: 0, holdSamples: 5 }), [...normal, ...burst, ...calm]);
    expect(timeline(events.filter((e, i) => e.kind === 'clear' || events[i - 1]?.kind !== 'raise'))).toEqual(['raise@2000', 'clear@2115']);
  });

  it('re-learning takes the average since the alert opened as the new level, not the last sample', () => {
    const normal = series(400, 5, (i) => 10 + noise(i));
    // A new regime around 40 whose last sample before re-learning is a spike to 46.
    const high = series(21, 5, (i) => (i === 20 ? 46 : 40 + noise(i)), 2000);
    const { state } = run(robustDetector, params({ cusumH: 0, relearnAfterSamples: 20 }), [...normal, ...high]);
    expect(state.latch.active).toBe(false);
    expect(state.loc).toBeGreaterThan(39.5);
    expect(state.loc).toBeLessThan(41);
    // Without the mean test the last sample is taken.
    expect(run(robustDetector, params({ cusumH: 0, meanSamples: 0, relearnAfterSamples: 20 }), [...normal, ...high]).state.loc).toBe(46);
  });

  it('never raises during warm-up, and a long gap restarts it', () => {
    expect(run(robustDetector, params(), [...series(40, 5, (i) => 10 + noise(i)), [300, 1e9]]).events).toEqual([]);
    const warmed = run(robustDetector, params(), series(300, 5, (i) => 10 + noise(i))).state;
    const after = run(robustDetector, params({ maxGapS: 60 }), [[5000, 1e9]], warmed);
    expect(after.events).toEqual([]);
    expect(after.state.n).toBe(1);
  });

  it('a perfectly flat signal gets a floor relative to its level, not an infinite z for its last digit', () => {
    const flat = series(300, 5, () => 20);
    expect(run(robustDetector, params(), [...flat, [1500, 20.001]]).events).toEqual([]);
    expect(timeline(run(robustDetector, params(), [...flat, [1500, 21]]).events)).toEqual(['raise@1500']);
  });

  it('rejects zClear ≥ zRaise', () => {
    expect(robustParamsSchema.safeParse({ zRaise: 3, zClear: 3 }).success).toBe(false);
  });
});
