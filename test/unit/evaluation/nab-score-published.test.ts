import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NAB_PROFILE_NAMES, NAB_PROFILES, nabFileScore, nabNormalised, windowRows } from '../../../src/evaluation/nab-score.js';
import { parseTimestamp } from '../../../src/evaluation/timestamps.js';
import { sharedDataDir } from '../../support/shared-data.js';

/**
 * The proof of the NAB scorer: NAB's published outputs of two detectors, scored here with the
 * threshold NAB used, give every file's published raw score and the published normalised scores.
 */
const CORPUS = join(sharedDataDir(), 'nab-corpus');
const windowsJson = JSON.parse(readFileSync(join(CORPUS, 'labels/combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
const finalResults = JSON.parse(readFileSync(join(CORPUS, 'results/final_results.json'), 'utf8')) as Record<string, Record<string, number>>;

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '')
    .map((l) => l.split(','));
}

function time(s: string): number {
  const t = parseTimestamp(s);
  if (t === null) throw new Error(`bad time ${s}`);
  return t;
}

interface Published {
  file: string;
  threshold: number;
  score: number;
  tp: number;
  fp: number;
}

function published(detector: string, profile: string): { files: Published[]; total: number } {
  const rows = csvRows(join(CORPUS, 'results', detector, `${detector}_${profile}_scores.csv`)).slice(1);
  const total = Number(rows.find((r) => r[0] === 'Totals')?.[4]);
  const files = rows
    .filter((r) => r[0] !== 'Totals')
    .map((r) => ({ file: r[2]!, threshold: Number(r[3]), score: Number(r[4]), tp: Number(r[5]), fp: Number(r[7]) }));
  return { files, total };
}

describe.each(['windowedGaussian', 'twitterADVec'])('NAB scorer on the published %s outputs', (detector) => {
  // One read of each output file, shared by the three profiles.
  const outputs = new Map<string, { times: number[]; scores: number[] }>();
  function output(file: string): { times: number[]; scores: number[] } {
    let o = outputs.get(file);
    if (!o) {
      const [category, name] = file.split('/');
      const rows = csvRows(join(CORPUS, 'results', detector, category!, `${detector}_${name}`)).slice(1);
      o = { times: rows.map((r) => time(r[0]!)), scores: rows.map((r) => Number(r[2])) };
      outputs.set(file, o);
    }
    return o;
  }

  it.each(NAB_PROFILE_NAMES)('%s: every file raw score to 1e-6, the corpus normalised score within 0.01', (profile) => {
    const cost = NAB_PROFILES[profile];
    const { files, total } = published(detector, profile);
    expect(files).toHaveLength(58);
    let raw = 0;
    let windows = 0;
    for (const p of files) {
      const { times, scores } = output(p.file);
      const rows = windowRows(
        times,
        (windowsJson[p.file] ?? []).map(([a, b]) => ({ start: time(a), end: time(b) })),
      );
      const detections = scores.flatMap((s, i) => (s >= p.threshold ? [i] : []));
      const r = nabFileScore(times.length, rows, detections, cost);
      expect({ file: p.file, score: r.score, tp: r.tp, fp: r.fp }).toEqual({ file: p.file, score: expect.closeTo(p.score, 6), tp: p.tp, fp: p.fp });
      raw += r.score;
      windows += r.windows;
    }
    expect(windows).toBe(116);
    expect(raw).toBeCloseTo(total, 6);
    const expected = finalResults[detector]?.[profile];
    expect(expected).toBeTypeOf('number');
    expect(Math.abs(nabNormalised(raw, windows, cost) - expected!)).toBeLessThan(0.01);
  });
});

describe('NAB profiles', () => {
  it('are the cost matrices of the corpus config/profiles.json', () => {
    const file = JSON.parse(readFileSync(join(CORPUS, 'config/profiles.json'), 'utf8')) as Record<string, { CostMatrix: Record<string, number> }>;
    for (const name of NAB_PROFILE_NAMES) {
      const { tpWeight, fpWeight, fnWeight } = file[name]!.CostMatrix;
      expect(NAB_PROFILES[name]).toEqual({ tpWeight, fpWeight, fnWeight });
    }
  });
});
