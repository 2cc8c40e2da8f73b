import type { Alert } from './alerts.js';
import type { RowWindow } from './nab-score.js';

/**
 * Point-wise counts: every scored row (after probation) is anomalous (inside a window) or normal,
 * and alarmed (inside an alert, from its opening row to the row before its clear) or not.
 */
export interface PointCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface PointMetrics {
  /** Alarmed rows that are anomalous; null with no alarmed row. */
  precision: number | null;
  /** Anomalous rows alarmed; null with no anomalous row. */
  recall: number | null;
  f1: number | null;
  /** False alarm rate: normal rows alarmed. */
  far: number | null;
  /** Missed alarm rate: anomalous rows not alarmed (1 − recall). */
  mar: number | null;
}

export const NO_POINTS: PointCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };

/** Marks rows from..to−1 in a coverage array, by differences (alerts can be long). */
function coverage(rows: number, spans: Iterable<[number, number]>): Uint8Array {
  const delta = new Int32Array(rows + 1);
  for (const [from, to] of spans) {
    const a = Math.max(0, Math.min(rows, from));
    const b = Math.max(a, Math.min(rows, to));
    delta[a]!++;
    delta[b]!--;
  }
  const out = new Uint8Array(rows);
  let depth = 0;
  for (let i = 0; i < rows; i++) {
    depth += delta[i]!;
    out[i] = depth > 0 ? 1 : 0;
  }
  return out;
}

export function pointCounts(rows: number, fromRow: number, windows: readonly RowWindow[], alerts: readonly Alert[]): PointCounts {
  const anomalous = coverage(rows, windows.map((w): [number, number] => [w.first, w.last + 1]));
  const alarmed = coverage(rows, alerts.map((a): [number, number] => [a.openRow, a.closeRow]));
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = Math.max(0, fromRow); i < rows; i++) {
    if (anomalous[i]) {
      if (alarmed[i]) c.tp++;
      else c.fn++;
    } else if (alarmed[i]) c.fp++;
    else c.tn++;
  }
  return c;
}

export function addPoints(a: PointCounts, b: PointCounts): PointCounts {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

function ratio(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

export function pointMetrics(c: PointCounts): PointMetrics {
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, far: ratio(c.fp, c.fp + c.tn), mar: ratio(c.fn, c.tp + c.fn) };
}
