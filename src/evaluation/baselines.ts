import { mean, sampleStandardDeviation } from 'simple-statistics';
import { AlertTracker } from './alerts.js';
import type { Detector, LoadedFile } from './evaluate.js';

/**
 * Reference detectors, run in the same evaluation so every figure has something to compare with.
 * Each is a streaming detector per column (it sees one value at a time, never the future) that
 * says, per row, "alarm" or not; runs of alarmed rows become alerts. An empty cell is no
 * evidence: the state stays as it was.
 * - never: no alert (NAB's null detector: normalised score 0).
 * - always: alarmed from the first row to the last (one alert per column that never closes).
 * - random: each row alarmed with probability RANDOM_RATE, from a fixed seed (the same streams on
 *   every run and in any file order).
 * - sigma3: a value more than 3 standard deviations from the mean of its column's previous
 *   SIGMA_WINDOW values (judged once the window is full).
 */
export const RANDOM_RATE = 0.01;
export const RANDOM_SEED = 20_140_101;
export const SIGMA_WINDOW = 60;
const SIGMA_Z = 3;

type RowJudge = (value: number) => boolean;

function baseline(name: string, judge: (f: LoadedFile, column: number) => RowJudge): Detector {
  return {
    name,
    run(f: LoadedFile) {
      const tracker = new AlertTracker();
      const rows = f.table.timestamps.length;
      f.table.values.forEach((values, c) => {
        const source = f.metrics[c]!;
        const alarmed = judge(f, c);
        for (let r = 0; r < rows; r++) {
          const v = values[r]!;
          if (Number.isNaN(v)) continue;
          if (alarmed(v)) tracker.raise(source, r);
          else tracker.clear(source, r);
        }
      });
      return { alerts: tracker.finish(rows), unscoredAlerts: 0 };
    },
  };
}

/** mulberry32: a small, well-mixed 32-bit generator; enough for a reproducible coin. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a of a string: the stream's seed from the file and column, not from the order of the run. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function sigma3(): RowJudge {
  const window: number[] = [];
  return (v) => {
    let alarm = false;
    if (window.length === SIGMA_WINDOW) {
      const m = mean(window);
      const sd = sampleStandardDeviation(window);
      // A constant window: any change is infinitely many σ away.
      alarm = sd === 0 ? v !== m : Math.abs(v - m) > SIGMA_Z * sd;
      window.shift();
    }
    window.push(v);
    return alarm;
  };
}

export function baselineDetectors(): Detector[] {
  return [
    baseline('never', () => () => false),
    baseline('always', () => () => true),
    baseline('random', (f, c) => {
      const next = mulberry32(hash(`${RANDOM_SEED}/${f.file.key}/${f.table.columns[c]}`));
      return () => next() < RANDOM_RATE;
    }),
    baseline('sigma3', () => sigma3()),
  ];
}
