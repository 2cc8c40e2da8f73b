import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baselineDetectors, RANDOM_RATE, SIGMA_WINDOW } from '../../../src/evaluation/baselines.js';
import { openDataset } from '../../../src/evaluation/dataset.js';
import { deviceIds, evaluate, loadFile, type Detector, type LoadedFile } from '../../../src/evaluation/evaluate.js';
import { NAB_PROFILE_NAMES, windowRows, probationRows } from '../../../src/evaluation/nab-score.js';
import { sharedDataDir } from '../../support/shared-data.js';

const byName = Object.fromEntries(baselineDetectors().map((d) => [d.name, d]));

/** A one-file, two-column table in memory: column a is noise around 10 with a spike; column b is empty but for a few rows. */
function file(): LoadedFile {
  const rows = 200;
  const timestamps = Array.from({ length: rows }, (_, i) => Date.parse('2024-03-01T00:00:00Z') + i * 60_000);
  const a = Float64Array.from({ length: rows }, (_, i) => (i === 120 ? 50 : 10 + Math.sin(i) * 0.5));
  const b = Float64Array.from({ length: rows }, (_, i) => (i % 50 === 0 ? i : NaN));
  return {
    name: 'f.csv',
    file: { key: 'f.csv', path: '/nowhere/f.csv', group: '', windows: [] },
    table: { path: '/nowhere/f.csv', columns: ['a', 'b'], timestamps, values: [a, b] },
    metrics: ['a', 'b'],
    ref: { site: 'eval', line: 'devices', device: 'f' },
    windows: [{ first: 118, last: 125 }],
    probation: probationRows(rows),
  };
}

describe('baselines', () => {
  it('never raises nothing; always one alert per column from the first reading to the end', () => {
    expect(byName.never!.run(file()).alerts).toEqual([]);
    expect(byName.always!.run(file()).alerts).toEqual([
      { source: 'a', openRow: 0, closeRow: 200 },
      { source: 'b', openRow: 0, closeRow: 200 },
    ]);
  });

  it('random is reproducible and alarms about RANDOM_RATE of the rows', () => {
    const one = byName.random!.run(file()).alerts;
    expect(byName.random!.run(file()).alerts).toEqual(one);
    const rows = 100_000;
    const big = file();
    big.table = { ...big.table, columns: ['a'], timestamps: Array.from({ length: rows }, (_, i) => i), values: [new Float64Array(rows)] };
    big.metrics = ['a'];
    const alarmed = byName.random!.run(big).alerts.reduce((n, a) => n + a.closeRow - a.openRow, 0);
    expect(alarmed / rows).toBeGreaterThan(RANDOM_RATE * 0.9);
    expect(alarmed / rows).toBeLessThan(RANDOM_RATE * 1.1);
  });

  it(`sigma3 judges once ${SIGMA_WINDOW} values are seen and raises on the spike only, for the spike's row`, () => {
    expect(byName.sigma3!.run(file()).alerts).toEqual([{ source: 'a', openRow: 120, closeRow: 121 }]);
  });
});

describe('ranking on NAB', () => {
  /**
   * A reasonable detector: NAB's published windowedGaussian (normalised 39.65 on NAB's own
   * scorer), its detections at NAB's threshold turned into one-row alerts, run in the same
   * evaluation as the baselines.
   */
  const corpus = join(sharedDataDir(), 'nab-corpus');
  const thresholds = new Map(
    readFileSync(join(corpus, 'results/windowedGaussian/windowedGaussian_standard_scores.csv'), 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map((r) => [r[2], Number(r[3])] as const),
  );
  const windowedGaussian: Detector = {
    name: 'windowedGaussian',
    run(f) {
      const [category, name] = f.file.key.split('/');
      const lines = readFileSync(join(corpus, 'results/windowedGaussian', category!, `windowedGaussian_${name}`), 'utf8').split('\n').slice(1).filter(Boolean);
      const t = thresholds.get(f.file.key)!;
      const alerts = lines.flatMap((l, row) => (Number(l.split(',')[2]) >= t ? [{ source: 'wg', openRow: row, closeRow: row + 1 }] : []));
      return { alerts, unscoredAlerts: 0 };
    },
  };

  it('always-alarm and random score below a reasonable detector on every NAB profile; the siren is not rewarded', () => {
    const d = openDataset(corpus);
    const e = evaluate(d, [windowedGaussian, byName.always!, byName.random!, byName.never!]);
    const s = e.detectors;
    for (const p of NAB_PROFILE_NAMES) {
      expect(s.always!.nab[p]).toBeLessThan(s.windowedGaussian!.nab[p]);
      expect(s.random!.nab[p]).toBeLessThan(s.windowedGaussian!.nab[p]);
    }
    // The evaluation's own scoring of the published detections gives NAB's published figure.
    expect(s.windowedGaussian!.nab.standard).toBeCloseTo(39.65, 1);
    expect(s.never!.nab.standard).toBe(0);
    // The siren alarms every normal point and is "precise" only by the share of anomalous points.
    expect(s.always!.points.far).toBe(1);
    expect(s.always!.points.precision).toBeLessThan(0.15);
    expect(e.windows).toBe(116);
  });

  it('file rows and windows line up with NAB', () => {
    const d = openDataset(corpus);
    const f = d.files.find((x) => x.key === 'realKnownCause/machine_temperature_system_failure.csv')!;
    const loaded = loadFile(d, f, deviceIds([f])[0]!);
    expect(loaded.table.timestamps).toHaveLength(22695);
    expect(windowRows(loaded.table.timestamps, f.windows)).toEqual(loaded.windows);
    expect(loaded.windows).toHaveLength(4);
  });
});
