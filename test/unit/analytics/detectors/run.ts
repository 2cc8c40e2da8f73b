import type { DetectorDef, DetectorEvent } from '../../../../src/analytics/types.js';

/** Feed [seconds, value] pairs (seconds from t0) through a detector; return every event and the final state. */
export const T0 = Date.UTC(2024, 0, 1);

export function run<P, S>(def: DetectorDef<P, S>, params: P, points: readonly (readonly [number, number])[], state?: S): { events: DetectorEvent[]; state: S } {
  let s = state ?? def.initial(params);
  const events: DetectorEvent[] = [];
  for (const [sec, value] of points) {
    const step = def.step(params, s, { ts: T0 + sec * 1000, value });
    s = step.state;
    events.push(...step.events);
  }
  return { events, state: s };
}

/** Seconds (from t0) of each event, with its kind: compact to assert on. */
export function timeline(events: readonly DetectorEvent[]): string[] {
  return events.map((e) => `${e.kind}@${(e.ts - T0) / 1000}`);
}

/** n points, every `dt` seconds from `from`, value f(i). */
export function series(n: number, dt: number, f: (i: number) => number, from = 0): [number, number][] {
  return Array.from({ length: n }, (_, i) => [from + i * dt, f(i)] as [number, number]);
}
