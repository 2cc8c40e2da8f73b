import { describe, expect, it } from 'vitest';
import { scoreFile, summarise, type LoadedFile } from '../../../src/evaluation/evaluate.js';
import { NAB_PROFILES, nabFileScore } from '../../../src/evaluation/nab-score.js';

/** 100 rows a minute apart (probation 15 rows); windows rows 40–49 and 80–89. */
function file(): LoadedFile {
  const timestamps = Array.from({ length: 100 }, (_, i) => Date.parse('2024-03-01T00:00:00Z') + i * 60_000);
  return {
    name: 'f.csv',
    file: { key: 'f.csv', path: '/nowhere/f.csv', group: '', windows: [] },
    table: { path: '/nowhere/f.csv', columns: ['x'], timestamps, values: [new Float64Array(100)] },
    metrics: ['x'],
    ref: { site: 'eval', line: 'devices', device: 'f' },
    windows: [
      { first: 40, last: 49 },
      { first: 80, last: 89 },
    ],
    probation: 15,
  };
}

describe('scoring one file for one detector', () => {
  // r1 opens in probation (row 5) and runs into row 20: not scored as an alert, its rows 15–19 are false alarms.
  // r2 opens at 43 (3 min into the first window), r3 at 45 in the same window, r1 again at 60 (false).
  const alerts = [
    { source: 'r1', openRow: 5, closeRow: 20 },
    { source: 'r2', openRow: 43, closeRow: 47 },
    { source: 'r3', openRow: 45, closeRow: 46 },
    { source: 'r1', openRow: 60, closeRow: 61 },
  ];

  it('NAB per profile from the scored openings; events from openings inside windows; points from alarmed rows', () => {
    const r = scoreFile(file(), { alerts, unscoredAlerts: 7 });
    expect(r.nab.standard).toBeCloseTo(nabFileScore(100, file().windows, [43, 45, 60], NAB_PROFILES.standard).score, 12);
    expect(r).toMatchObject({ rows: 100, windows: 2, alerts: 3, alertsInProbation: 1, unscoredAlerts: 7, windowsDetected: 1, delaysMs: [180_000], bySource: { r1: 1, r2: 1, r3: 1 } });
    // Alarmed scored rows: 15–19 (5 false), 43–46 (4 hits), 60 (1 false). Anomalous: 20 rows.
    expect(r.points).toEqual({ tp: 4, fp: 6, fn: 16, tn: 59 });
  });

  it('counts the false alerts (opened outside every window) per rule, and where in its window each detection landed', () => {
    const r = scoreFile(file(), { alerts, unscoredAlerts: 0 });
    expect(r).toMatchObject({ falseAlerts: 1, falseBySource: { r1: 1 }, positions: [0.3] });
    const late = scoreFile(file(), { alerts: [{ source: 'x', openRow: 89, closeRow: 90 }, { source: 'y', openRow: 95, closeRow: 96 }], unscoredAlerts: 0 });
    expect(late).toMatchObject({ falseAlerts: 1, falseBySource: { y: 1 }, positions: [0.9] });
  });

  it('a summary pools files: NAB normalised over all windows, points summed, the median delay in seconds', () => {
    const a = scoreFile(file(), { alerts, unscoredAlerts: 0 });
    const b = scoreFile(file(), { alerts: [{ source: 'r', openRow: 80, closeRow: 90 }], unscoredAlerts: 0 });
    const s = summarise([a, b]);
    expect(s.events).toMatchObject({ alerts: 4, windowsDetected: 2, medianDelayS: 90 });
    const raw = a.nab.standard + b.nab.standard;
    expect(s.nab.standard).toBeCloseTo((100 * (raw + 4)) / 8, 10);
    expect(s.points.precision).toBeCloseTo(14 / 20, 12);
  });
});
