import { describe, expect, it } from 'vitest';
import { limitDetector, limitParamsSchema } from '../../../../src/analytics/detectors/limit.js';
import { run, timeline } from './run.js';

const params = (p: Record<string, unknown>) => limitParamsSchema.parse({ metric: 'temperature_c', ...p });

describe('limit detector', () => {
  it('raises above a high limit on every breaching sample and clears once', () => {
    const { events } = run(limitDetector, params({ high: 95 }), [
      [0, 90],
      [10, 96],
      [20, 97.2],
      [30, 94],
      [40, 93],
    ]);
    expect(timeline(events)).toEqual(['raise@10', 'raise@20', 'clear@30']);
    expect(events[1]).toMatchObject({ value: 97.2, threshold: 95 });
  });

  it('does not raise at or inside the limit', () => {
    const { events } = run(limitDetector, params({ high: 95, low: 10 }), [
      [0, 95],
      [1, 10],
      [2, 50],
    ]);
    expect(events).toEqual([]);
  });

  it('raises below a low limit', () => {
    const { events } = run(limitDetector, params({ low: 10 }), [
      [0, 12],
      [1, 9.5],
      [2, 11],
    ]);
    expect(timeline(events)).toEqual(['raise@1', 'clear@2']);
    expect(events[0]?.threshold).toBe(10);
    expect(events[0]?.message.en).toBe('temperature_c 9.5 °C below limit 10 °C');
  });

  it('hysteresis: stays open (silently) until back inside by the margin', () => {
    const { events } = run(limitDetector, params({ high: 95, hysteresis: 5 }), [
      [0, 96],
      [1, 93], // inside the limit but not by 5: no clear, no raise
      [2, 96], // breaching again: raise (the same alert continues)
      [3, 91],
      [4, 90], // ≤ 95 − 5: clear
      [5, 89],
    ]);
    expect(timeline(events)).toEqual(['raise@0', 'raise@2', 'clear@4']);
    expect(events[2]?.message.en).toBe('temperature_c 90 °C back at or below 90 °C (limit 95 °C)');
  });

  it('minimum duration: raises only once the condition has held that long on sample timestamps', () => {
    const { events } = run(limitDetector, params({ high: 95, minDurationS: 30 }), [
      [0, 97],
      [10, 97],
      [20, 98],
      [30, 97.2], // held 30 s since t=0
      [40, 97],
    ]);
    expect(timeline(events)).toEqual(['raise@30', 'raise@40']);
    expect(events[0]?.message).toEqual({ en: 'temperature_c 97.2 °C above limit 95 °C for 30 s', zh: '温度 97.2 °C 超过上限 95 °C 持续 30 秒' });
  });

  it('minimum duration: a dip inside restarts the clock, and nothing clears that was never raised', () => {
    const { events } = run(limitDetector, params({ high: 95, minDurationS: 30 }), [
      [0, 97],
      [20, 97],
      [25, 94], // breaks the run before 30 s
      [30, 97],
      [50, 97], // only 20 s since t=30
      [60, 97], // 30 s
    ]);
    expect(timeline(events)).toEqual(['raise@60']);
  });

  it('a gap longer than maxGapS restarts the minimum-duration clock', () => {
    const withGap = run(limitDetector, params({ high: 95, minDurationS: 60, maxGapS: 30 }), [
      [0, 97],
      [100, 97], // 100 s gap > 30 s: held since 100, not 0
      [130, 97],
      [160, 97],
    ]);
    expect(timeline(withGap.events)).toEqual(['raise@160']);
    const noGapRule = run(limitDetector, params({ high: 95, minDurationS: 60 }), [
      [0, 97],
      [100, 97],
    ]);
    expect(timeline(noGapRule.events)).toEqual(['raise@100']);
  });

  it('ignores out-of-order and duplicate timestamps', () => {
    const { events } = run(limitDetector, params({ high: 95 }), [
      [10, 90],
      [5, 99],
      [10, 99],
      [20, 90],
    ]);
    expect(events).toEqual([]);
  });

  it('rejects impossible params', () => {
    expect(limitParamsSchema.safeParse({}).success).toBe(false);
    expect(limitParamsSchema.safeParse({ high: 10, low: 5, hysteresis: 3 }).success).toBe(false);
    expect(limitParamsSchema.safeParse({ high: 10, hysteresis: -1 }).success).toBe(false);
    expect(limitParamsSchema.safeParse({ high: 10, hight: 5 }).success).toBe(false);
  });
});
