/**
 * Scoring alert intervals against labelled anomaly windows (NAB-style windows, event-level
 * counting, the way a plant manager experiences alerts: one alert is one interruption).
 *
 * - An alert is an interval [open, close] of one rule. Alerts that open inside the probationary
 *   period (the first 15 % of the series, when a learning detector is still warming up) are
 *   ignored: they count neither for nor against.
 * - precision = scored alerts overlapping a window / scored alerts.
 * - recall = windows overlapped by ≥ 1 scored alert / scored windows. A window that ends inside the
 *   probationary period cannot be overlapped by a scored alert, so it is not scored (and said so).
 * - F1 = harmonic mean of the two.
 * - delay = open time of the first scored alert overlapping a window − the window's start (and −
 *   the window's label, the known anomaly time, when given); negative when the alert was already
 *   open. Reported as the median over detected windows.
 */

export interface AlertInterval {
  rule: string;
  open: number;
  close: number;
}

export interface LabelWindow {
  start: number;
  end: number;
  /** The labelled anomaly instant inside the window, if known. */
  label?: number;
}

export interface Score {
  alerts: number;
  alertsInProbation: number;
  truePositives: number;
  windows: number;
  windowsInProbation: number;
  windowsDetected: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Per detected window, ms. */
  delaysMs: number[];
  delaysFromLabelMs: number[];
  medianDelayMs: number | null;
  medianDelayFromLabelMs: number | null;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function overlaps(a: AlertInterval, w: LabelWindow): boolean {
  return a.open <= w.end && a.close >= w.start;
}

function f1Of(precision: number | null, recall: number | null): number | null {
  if (precision === null || recall === null) return null;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

function finishScore(counts: Omit<Score, 'precision' | 'recall' | 'f1' | 'medianDelayMs' | 'medianDelayFromLabelMs'>): Score {
  const precision = counts.alerts === 0 ? null : counts.truePositives / counts.alerts;
  const recall = counts.windows === 0 ? null : counts.windowsDetected / counts.windows;
  return {
    ...counts,
    precision,
    recall,
    f1: f1Of(precision, recall),
    medianDelayMs: median(counts.delaysMs),
    medianDelayFromLabelMs: median(counts.delaysFromLabelMs),
  };
}

export function scoreSeries(alerts: readonly AlertInterval[], windows: readonly LabelWindow[], probationEnd: number): Score {
  const scored = alerts.filter((a) => a.open >= probationEnd);
  const scoredWindows = windows.filter((w) => w.end >= probationEnd);
  const delaysMs: number[] = [];
  const delaysFromLabelMs: number[] = [];
  let windowsDetected = 0;
  for (const w of scoredWindows) {
    const hits = scored.filter((a) => overlaps(a, w));
    if (hits.length === 0) continue;
    windowsDetected++;
    const first = Math.min(...hits.map((a) => a.open));
    delaysMs.push(first - w.start);
    if (w.label !== undefined) delaysFromLabelMs.push(first - w.label);
  }
  return finishScore({
    alerts: scored.length,
    alertsInProbation: alerts.length - scored.length,
    truePositives: scored.filter((a) => windows.some((w) => overlaps(a, w))).length,
    windows: scoredWindows.length,
    windowsInProbation: windows.length - scoredWindows.length,
    windowsDetected,
    delaysMs,
    delaysFromLabelMs,
  });
}

/** Pooled over series (counts summed, delays pooled), not an average of per-series ratios. */
export function combineScores(scores: readonly Score[]): Score {
  const sum = (f: (s: Score) => number): number => scores.reduce((acc, s) => acc + f(s), 0);
  return finishScore({
    alerts: sum((s) => s.alerts),
    alertsInProbation: sum((s) => s.alertsInProbation),
    truePositives: sum((s) => s.truePositives),
    windows: sum((s) => s.windows),
    windowsInProbation: sum((s) => s.windowsInProbation),
    windowsDetected: sum((s) => s.windowsDetected),
    delaysMs: scores.flatMap((s) => s.delaysMs),
    delaysFromLabelMs: scores.flatMap((s) => s.delaysFromLabelMs),
  });
}
