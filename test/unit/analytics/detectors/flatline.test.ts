import { describe, expect, it } from 'vitest';
import { flatlineDetector, flatlineParamsSchema } from '../../../../src/analytics/detectors/flatline.js';
import { run, series, timeline } from './run.js';

const params = (p: Record<string, unknown>) => flatlineParamsSchema.parse({ metric: 'temperature_c', ...p });

describe('flatline detector', () => {
  it('raises once the value has been unchanged for minDurationS and minSamples, repeats, clears on the first change', () => {
    const p = params({ minDurationS: 60, minSamples: 5 });
    const { events } = run(flatlineDetector, p, [...series(9, 15, () => 70), [135, 70.5], [150, 70.5]]);
    // Samples at 0,15,…,120: the 5th (t=60) has 5 samples over 60 s.
    expect(timeline(events)).toEqual(['raise@60', 'raise@75', 'raise@90', 'raise@105', 'raise@120', 'clear@135']);
    expect(events[0]?.message).toEqual({
      en: 'temperature_c stuck at 70 °C for 60 s (5 samples): sensor may be frozen',
      zh: '温度 停滞在 70 °C 持续 60 秒（5 个样本），传感器可能冻结',
    });
    expect(events.at(-1)?.message.en).toBe('temperature_c changing again (70 °C → 70.5 °C)');
  });

  it('needs both: long enough and enough samples', () => {
    const p = params({ minDurationS: 60, minSamples: 5 });
    expect(run(flatlineDetector, p, series(3, 60, () => 70)).events).toEqual([]); // 120 s, 3 samples
    expect(run(flatlineDetector, p, series(10, 1, () => 70)).events).toEqual([]); // 10 samples, 9 s
  });

  it('a live signal never raises', () => {
    expect(run(flatlineDetector, params({ minDurationS: 60, minSamples: 3 }), series(100, 10, (i) => 70 + (i % 2) * 0.1)).events).toEqual([]);
  });

  it('epsilon: changes within it still count as unchanged, measured from the run start (no creeping drift)', () => {
    const p = params({ minDurationS: 30, minSamples: 3, epsilon: 0.05 });
    expect(timeline(run(flatlineDetector, p, [[0, 70], [15, 70.04], [30, 69.97]]).events)).toEqual(['raise@30']);
    // +0.03 per step: each step is within epsilon, but t=30 is 0.06 from the run's start.
    expect(run(flatlineDetector, p, [[0, 70], [15, 70.03], [30, 70.06], [45, 70.09]]).events).toEqual([]);
  });

  it('after a change a new run starts from scratch', () => {
    const p = params({ minDurationS: 30, minSamples: 3 });
    const { events } = run(flatlineDetector, p, [[0, 1], [15, 1], [30, 1], [45, 2], [60, 2], [75, 2]]);
    expect(timeline(events)).toEqual(['raise@30', 'clear@45', 'raise@75']);
  });

  it('a state handed over as JSON, or one from before its fields were numbers from the start (anchor and lastTs null), goes on with the same events', () => {
    const p = params({ minDurationS: 30, minSamples: 3 });
    const points: [number, number][] = [[0, 1], [15, 1], [30, 1], [45, 2], [60, 2], [75, 2], [90, 3]];
    const whole = run(flatlineDetector, p, points);
    expect(timeline(whole.events)).toEqual(['raise@30', 'clear@45', 'raise@75', 'clear@90']);
    for (const at of [1, 2, 4]) {
      const first = run(flatlineDetector, p, points.slice(0, at));
      const rest = run(flatlineDetector, p, points.slice(at), JSON.parse(JSON.stringify(first.state)));
      expect([...first.events, ...rest.events]).toEqual(whole.events);
    }
    const older = { anchor: null, runStart: 0, runCount: 0, lastTs: null, active: false };
    expect(run(flatlineDetector, p, points, older).events).toEqual(whole.events);
  });
});
