import { describe, expect, it } from 'vitest';
import { rateOfChangeDetector, rateOfChangeParamsSchema } from '../../../../src/analytics/detectors/rate-of-change.js';
import { run, timeline } from './run.js';

const params = (p: Record<string, unknown>) => rateOfChangeParamsSchema.parse({ metric: 'temperature_c', ...p });

describe('rate-of-change detector', () => {
  it('raises when |Δvalue/Δt| per minute exceeds the limit, repeats while it does, clears once', () => {
    const { events } = run(rateOfChangeDetector, params({ limitPerMin: 2 }), [
      [0, 50],
      [60, 51], // 1 °C/min
      [120, 54], // 3 °C/min
      [180, 57], // 3 °C/min
      [240, 57.5], // 0.5 °C/min
      [300, 57.5],
    ]);
    expect(timeline(events)).toEqual(['raise@120', 'raise@180', 'clear@240']);
    expect(events[0]).toMatchObject({ value: 3, threshold: 2 });
    expect(events[0]?.message.en).toBe('temperature_c rising at 3 °C/min, above limit 2 °C/min for 60 s');
    expect(events[0]?.message.zh).toBe('温度 上升速率 3 °C/分钟 超过限值 2 °C/分钟 持续 60 秒');
  });

  it('does not raise for a slow change, and the first sample alone says nothing', () => {
    const { events } = run(rateOfChangeDetector, params({ limitPerMin: 2 }), [
      [0, 50],
      [60, 51.9],
      [120, 50],
    ]);
    expect(events).toEqual([]);
  });

  it('falls count in both directions, not when only rising is watched', () => {
    const falling: [number, number][] = [
      [0, 50],
      [60, 40],
    ];
    expect(timeline(run(rateOfChangeDetector, params({ limitPerMin: 2 }), falling).events)).toEqual(['raise@60']);
    expect(run(rateOfChangeDetector, params({ limitPerMin: 2, direction: 'rising' }), falling).events).toEqual([]);
    expect(timeline(run(rateOfChangeDetector, params({ limitPerMin: 2, direction: 'falling' }), falling).events)).toEqual(['raise@60']);
  });

  it('hysteresis: clears only when the rate is below limit − hysteresis', () => {
    const { events } = run(rateOfChangeDetector, params({ limitPerMin: 2, hysteresis: 1 }), [
      [0, 0],
      [60, 3], // 3/min: raise
      [120, 4.5], // 1.5/min: inside, not by 1
      [180, 5.5], // 1/min: clear
    ]);
    expect(timeline(events)).toEqual(['raise@60', 'clear@180']);
  });

  it('minimum duration counts from the start of the first fast interval', () => {
    const { events } = run(rateOfChangeDetector, params({ limitPerMin: 2, minDurationS: 120 }), [
      [0, 0],
      [60, 3], // held 60 s (since t=0)
      [120, 6], // held 120 s
    ]);
    expect(timeline(events)).toEqual(['raise@120']);
  });

  it('ignores pairs further apart than maxGapS', () => {
    const { events } = run(rateOfChangeDetector, params({ limitPerMin: 2, maxGapS: 600 }), [
      [0, 0],
      [3600, 500], // an hour later: not a rate
      [3660, 501], // 1/min
    ]);
    expect(events).toEqual([]);
  });

  it('rejects a hysteresis as large as the limit', () => {
    expect(rateOfChangeParamsSchema.safeParse({ limitPerMin: 2, hysteresis: 2 }).success).toBe(false);
    expect(rateOfChangeParamsSchema.safeParse({ limitPerMin: 0 }).success).toBe(false);
  });
});
