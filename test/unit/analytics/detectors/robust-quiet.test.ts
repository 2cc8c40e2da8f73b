import { describe, expect, it } from 'vitest';
import { fullUpdate, robustDetector, robustParamsSchema, type RobustState } from '../../../../src/analytics/detectors/robust.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';
import { T0 } from './run.js';

/**
 * update takes most samples by a quiet path of its own (judged and learned in one function): it
 * must leave the state and raise the events of the full path (fullUpdate) to the last bit, sample
 * by sample, through everything that leaves or re-enters the quiet state.
 */

/** Deterministic AR(1) noise of std about 1 per sample. */
function ar1(seed: number): () => number {
  let s = seed;
  let x = 0;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    x = 0.9 * x + (s / 2 ** 31 - 0.5) * 1.5;
    return x;
  };
}

/** [seconds, value]: 1 Hz noise with spikes, a burst, a level shift, a ramp, gaps with a settling approach. */
function signal(seed: number): [number, number][] {
  const rnd = ar1(seed);
  const out: [number, number][] = [];
  let t = 0;
  const push = (n: number, f: (i: number) => number, dt = 1): void => {
    for (let i = 0; i < n; i++) out.push([(t += dt), f(i)]);
  };
  push(3000, () => 50 + rnd());
  push(1, () => 90);
  push(2000, () => 50 + rnd());
  push(50, (i) => 50 + rnd() * (i % 3 === 0 ? 12 : 1));
  push(2000, () => 50 + rnd());
  push(600, () => 58 + rnd());
  push(1500, (i) => 58 + i * 0.004 + rnd());
  // A stop: back after 20 min, approaching the running level, then running again.
  t += 1200;
  push(400, (i) => 64 + 20 * Math.exp(-i / 60) + rnd());
  push(3000, () => 64 + rnd());
  // Irregular intervals, a stale sample and a long gap (a restart of warm-up).
  push(300, () => 64 + rnd(), 2);
  out.push([t, 64]);
  t += 200_000;
  push(2000, () => 30 + rnd() * 0.5);
  return out;
}

const exact = (x: unknown): string => JSON.stringify(x, (_, v: unknown) => (Object.is(v, -0) ? '-0' : v));

/** The state's own fields and its profiles' visit in progress (every sample writes them), as exact. */
function flat(s: RobustState): string {
  const season = s.season;
  return exact({ ...s, season: season && { ...season, profiles: season.profiles.length } });
}

function compare(params: Record<string, unknown>, points: [number, number][]): number {
  const p = robustParamsSchema.parse({ metric: 'value', ...params });
  const quick = robustDetector.initial(p);
  const full: RobustState = robustDetector.initial(p);
  let events = 0;
  let n = 0;
  for (const [sec, value] of points) {
    const input = { ts: T0 + sec * 1000, value };
    const a: readonly DetectorEvent[] = robustDetector.update!(p, quick, input);
    const b: readonly DetectorEvent[] = fullUpdate(p, full, input);
    // Compared as text only when they differ (toEqual on every sample is slow): the shortest
    // text that reads back as the same double, so any last bit shows; -0 told apart from 0.
    if (exact(a) !== exact(b)) expect(a).toEqual(b);
    if (flat(quick) !== flat(full)) expect(quick).toEqual(full);
    if (++n % 500 === 0 && exact(quick) !== exact(full)) expect(quick).toEqual(full);
    events += a.length;
  }
  expect(exact(quick)).toBe(exact(full));
  return events;
}

describe('robust quiet path', () => {
  it('leaves the state and events of the full path on every sample (default rule)', () => {
    // The signal raises (spike, burst, shift) and clears: the quiet path is left and re-entered.
    expect(compare({}, signal(1))).toBeGreaterThan(3);
  });

  it('the same with one direction, no mean test, a bar that sinks within a sample, no profiles', () => {
    for (const params of [{ direction: 'above' }, { direction: 'below' }, { meanSamples: 0 }, { barMemory: 0.5 }, { seasonPeriodsS: [] }, { settleGap: 0 }]) {
      compare({ ...params, warmupSamples: 50, holdSamples: 30 }, signal(7));
    }
  });

  it('the same on a daily cycle judged against its profile, at one sample a minute', () => {
    const rnd = ar1(3);
    const points: [number, number][] = Array.from({ length: 6 * 1440 }, (_, i) => [i * 60, 100 + 30 * Math.sin((2 * Math.PI * i) / 1440) + rnd()]);
    compare({}, points);
  });
});
