import { describe, expect, it } from 'vitest';
import { rangeDetector, rangeParamsSchema } from '../../../../src/analytics/detectors/range.js';
import { run, timeline } from './run.js';

describe('range detector', () => {
  it('defaults to the metric catalogue range', () => {
    const p = rangeParamsSchema.parse({ metric: 'temperature_c' });
    const { events } = run(rangeDetector, p, [
      [0, 25],
      [1, 2500],
      [2, -300],
      [3, 25],
      [4, 26],
    ]);
    expect(timeline(events)).toEqual(['raise@1', 'raise@2', 'clear@3']);
    expect(events[0]).toMatchObject({ value: 2500, threshold: 2000 });
    expect(events[1]).toMatchObject({ threshold: -273.15 });
    expect(events[0]?.message.en).toBe('temperature_c 2500 °C outside the physical range -273.1 °C … 2000 °C: sensor fault');
    expect(events[0]?.message.zh).toBe('温度 2500 °C 超出物理量程 -273.1 °C … 2000 °C，传感器故障');
  });

  it('the rule can narrow one bound and keep the catalogue for the other', () => {
    const p = rangeParamsSchema.parse({ metric: 'gas_lel_pct', max: 50 });
    expect(timeline(run(rangeDetector, p, [[0, 60], [1, -1], [2, 10]]).events)).toEqual(['raise@0', 'raise@1', 'clear@2']);
    expect(run(rangeDetector, p, [[0, 0], [1, 50]]).events).toEqual([]);
  });

  it('needs a bound when the metric has none in the catalogue', () => {
    const r = rangeParamsSchema.safeParse({ metric: 'energy_kwh' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/no physical range in the metric catalogue/);
    expect(rangeParamsSchema.safeParse({ metric: 'energy_kwh', min: 0 }).success).toBe(true);
    expect(rangeParamsSchema.safeParse({ metric: 'custom', min: 5, max: 1 }).success).toBe(false);
  });
});
