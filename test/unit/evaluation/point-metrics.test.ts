import { describe, expect, it } from 'vitest';
import { pointCounts, pointMetrics } from '../../../src/evaluation/point-metrics.js';

describe('point-wise metrics on a hand-made series', () => {
  // 20 rows, scored from row 4 (rows 0–3: probation). Window rows 10–13 (4 anomalous rows).
  // Alerts: rows 2–5 (alarms 2..5; rows 4, 5 are scored false alarms), rows 12–15 (12, 13 hits; 14, 15 false).
  const windows = [{ first: 10, last: 13 }];
  const alerts = [
    { source: 'a', openRow: 2, closeRow: 6 },
    { source: 'a', openRow: 12, closeRow: 16 },
  ];

  it('counts rows after probation: an alert alarms from its opening to the row before its clear', () => {
    expect(pointCounts(20, 4, windows, alerts)).toEqual({ tp: 2, fp: 4, fn: 2, tn: 8 });
  });

  it('precision, recall, F1, FAR, MAR', () => {
    const m = pointMetrics({ tp: 2, fp: 4, fn: 2, tn: 8 });
    expect(m.precision).toBeCloseTo(2 / 6, 12);
    expect(m.recall).toBeCloseTo(0.5, 12);
    expect(m.f1).toBeCloseTo((2 * (1 / 3) * 0.5) / (1 / 3 + 0.5), 12);
    expect(m.far).toBeCloseTo(4 / 12, 12);
    expect(m.mar).toBeCloseTo(0.5, 12);
  });

  it('overlapping alerts alarm a row once', () => {
    const c = pointCounts(20, 0, windows, [...alerts, { source: 'b', openRow: 11, closeRow: 13 }]);
    expect(c).toEqual({ tp: 3, fp: 6, fn: 1, tn: 10 });
  });

  it('a siren (one alert from the first row to the end) is precise only by the share of anomalous rows, and alarms every normal row', () => {
    const m = pointMetrics(pointCounts(20, 4, windows, [{ source: 'a', openRow: 0, closeRow: 20 }]));
    expect(m.precision).toBeCloseTo(4 / 16, 12);
    expect(m.recall).toBe(1);
    expect(m.far).toBe(1);
  });

  it('nothing alarmed: precision undefined (null), recall 0, FAR 0; no anomaly: recall null', () => {
    expect(pointMetrics(pointCounts(20, 4, windows, []))).toEqual({ precision: null, recall: 0, f1: null, far: 0, mar: 1 });
    expect(pointMetrics(pointCounts(20, 4, [], alerts)).recall).toBeNull();
  });
});
