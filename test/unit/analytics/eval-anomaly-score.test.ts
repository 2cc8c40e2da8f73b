import { describe, expect, it } from 'vitest';
import { parseNabTime, windowsFor } from '../../../scripts/eval-anomaly/nab.js';
import { replayAlerts } from '../../../scripts/eval-anomaly/replay.js';
import { combineScores, median, scoreSeries } from '../../../scripts/eval-anomaly/score.js';
import { parseRulesConfig, resolveRules } from '../../../src/analytics/rules/index.js';

const H = 3_600_000;

describe('anomaly evaluation scoring', () => {
  // Hand-made case, times in hours. Probation ends at 10.
  // Windows: A [20, 30] (label 25), B [50, 60] (label 55), C [80, 90], P [2, 5] (inside probation).
  // Alerts: a1 [3, 4] opens in probation: ignored (even though it overlaps P).
  //         a2 [18, 21] overlaps A (opens 2 h before A starts), a3 [26, 27] also in A,
  //         a4 [40, 41] false, a5 [59, 70] overlaps B (opens 9 h after B starts), a6 [95, 96] false.
  // precision = 3 / 5 = 0.6; recall = 2 / 3 (P is not scored); F1 = 2·0.6·0.667 / 1.267 = 0.631578…
  // delays from window start: A −2 h, B +9 h → median 3.5 h; from labels: A 18−25 = −7, B 59−55 = 4 → −1.5 h.
  const windows = [
    { start: 2 * H, end: 5 * H },
    { start: 20 * H, end: 30 * H, label: 25 * H },
    { start: 50 * H, end: 60 * H, label: 55 * H },
    { start: 80 * H, end: 90 * H },
  ];
  const alerts = [
    [3, 4],
    [18, 21],
    [26, 27],
    [40, 41],
    [59, 70],
    [95, 96],
  ].map(([o, c]) => ({ rule: 'r', open: (o as number) * H, close: (c as number) * H }));

  it('precision, recall, F1 and delays match the hand-computed answer', () => {
    const s = scoreSeries(alerts, windows, 10 * H);
    expect(s).toMatchObject({ alerts: 5, alertsInProbation: 1, truePositives: 3, windows: 3, windowsInProbation: 1, windowsDetected: 2 });
    expect(s.precision).toBeCloseTo(0.6, 12);
    expect(s.recall).toBeCloseTo(2 / 3, 12);
    expect(s.f1).toBeCloseTo(0.631578947368421, 12);
    expect(s.delaysMs).toEqual([-2 * H, 9 * H]);
    expect(s.medianDelayMs).toBe(3.5 * H);
    expect(s.medianDelayFromLabelMs).toBe(-1.5 * H);
  });

  it('no alerts: precision undefined, recall 0; pooled scores sum counts', () => {
    const none = scoreSeries([], windows, 10 * H);
    expect(none.precision).toBeNull();
    expect(none.recall).toBe(0);
    expect(none.f1).toBeNull();
    const both = combineScores([scoreSeries(alerts, windows, 10 * H), none]);
    expect(both).toMatchObject({ alerts: 5, truePositives: 3, windows: 6, windowsDetected: 2 });
    expect(both.recall).toBeCloseTo(1 / 3, 12);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('replay turns raise…clear into one alert per episode, closing an open one at the last sample', () => {
    const rules = resolveRules(parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'hi', metric: 'temperature_c', detector: 'limit', params: { high: 10 } }] } } }), 'a/b/c');
    const samples = [5, 11, 12, 5, 13, 14].map((value, i) => ({ ts: i * 1000, value }));
    expect(replayAlerts(rules, samples)).toEqual([
      { rule: 'hi', open: 1000, close: 3000 },
      { rule: 'hi', open: 4000, close: 5000 },
    ]);
  });

  it('reads NAB times as UTC and finds windows by file name', () => {
    expect(parseNabTime('2013-12-10 06:25:00.000000')).toBe(Date.UTC(2013, 11, 10, 6, 25));
    const found = windowsFor('m.csv', { 'realKnownCause/m.csv': [['2013-12-10 06:25:00.000000', '2013-12-12 05:35:00.000000']] }, { 'realKnownCause/m.csv': ['2013-12-11 06:00:00'] });
    expect(found?.windows).toEqual([{ start: Date.UTC(2013, 11, 10, 6, 25), end: Date.UTC(2013, 11, 12, 5, 35), label: Date.UTC(2013, 11, 11, 6) }]);
    expect(windowsFor('other.csv', {}, {})).toBeUndefined();
  });
});
