import { basename } from 'node:path';
import { median } from 'simple-statistics';
import type { DeviceRef } from '../contract/index.js';
import type { Alert } from './alerts.js';
import { readCsvTable, type CsvTable } from './csv-table.js';
import { displayName, metricName, type Dataset, type DatasetFile, type Layout } from './dataset.js';
import { EvaluationInputError } from './errors.js';
import { NAB_PROFILE_NAMES, NAB_PROFILES, nabFileScore, nabNormalised, probationRows, windowRows, type NabProfile, type RowWindow } from './nab-score.js';
import { addPoints, NO_POINTS, pointCounts, pointMetrics, type PointCounts, type PointMetrics } from './point-metrics.js';

/** One data file, read and placed: its rows, the metric of each column, its windows as rows. */
export interface LoadedFile {
  name: string;
  file: DatasetFile;
  table: CsvTable;
  /** Parallel to table.columns. */
  metrics: string[];
  ref: DeviceRef;
  windows: RowWindow[];
  probation: number;
}

export interface DetectorRun {
  alerts: Alert[];
  /** Alerts counted but not scored (see replay.ts). */
  unscoredAlerts: number;
}

/** Anything that turns a file into alerts: the platform's engine or a baseline. */
export interface Detector {
  name: string;
  run(file: LoadedFile): DetectorRun;
}

export interface FileResult {
  name: string;
  rows: number;
  /** Windows with a row after probation. */
  windows: number;
  /** Raw NAB score per profile. */
  nab: Record<NabProfile, number>;
  points: PointCounts;
  /** Alerts opened after probation (scored), and during it (not scored). */
  alerts: number;
  alertsInProbation: number;
  unscoredAlerts: number;
  windowsDetected: number;
  /** Scored alerts per source (rule id, or a baseline's column). */
  bySource: Record<string, number>;
  /** Scored alerts opened outside every window (NAB's false positives), in all and per source. */
  falseAlerts: number;
  falseBySource: Record<string, number>;
  /** Per detected window: where its first alert opened, as a fraction of the window (0 its first row, 1 past its last). */
  positions: number[];
  /** Per detected window: its first alert's opening − the window's first row, ms. */
  delaysMs: number[];
}

export interface DetectorSummary {
  nab: Record<NabProfile, number>;
  points: PointMetrics;
  events: { alerts: number; windowsDetected: number; medianDelayS: number | null; alertsInProbation: number; unscoredAlerts: number };
}

export interface Evaluation {
  dataset: string;
  layout: Layout;
  files: number;
  rows: number;
  windows: number;
  detectors: Record<string, DetectorSummary>;
  /** Per file, per detector. */
  perFile: Record<string, FileResult[]>;
}

/** A platform id from a file or folder name: the id alphabet, at most 64 characters. */
function asId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'x';
}

export function loadFile(dataset: Dataset, file: DatasetFile, device: string): LoadedFile {
  const table = readCsvTable(file.path);
  const metrics = table.columns.map((c) => {
    try {
      return metricName(c, dataset.metricOf);
    } catch (err) {
      throw new EvaluationInputError(`${file.path}:1: ${(err as Error).message}`);
    }
  });
  metrics.forEach((m, i) => {
    const j = metrics.indexOf(m);
    if (j !== i) throw new EvaluationInputError(`${file.path}:1: columns ${JSON.stringify(table.columns[j])} and ${JSON.stringify(table.columns[i])} would both be metric ${m}`);
  });
  return {
    name: displayName(dataset, file),
    file,
    table,
    metrics,
    ref: { site: 'eval', line: asId(file.group || 'devices'), device },
    windows: windowRows(table.timestamps, file.windows),
    probation: probationRows(table.timestamps.length),
  };
}

/** Device ids for a data set's files: the file's base name, made unique. */
export function deviceIds(files: readonly DatasetFile[]): string[] {
  const seen = new Set<string>();
  return files.map((f) => {
    const base = asId(basename(f.path).replace(/\.csv$/i, '')).slice(0, 58);
    let id = base;
    for (let n = 2; seen.has(`${f.group}/${id}`); n++) id = `${base}-${n}`;
    seen.add(`${f.group}/${id}`);
    return id;
  });
}

function countBySource(alerts: readonly Alert[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of alerts) out[a.source] = (out[a.source] ?? 0) + 1;
  return out;
}

export function scoreFile(f: LoadedFile, run: DetectorRun): FileResult {
  const rows = f.table.timestamps.length;
  const scored = run.alerts.filter((a) => a.openRow >= f.probation);
  const openings = scored.map((a) => a.openRow);
  const nab = {} as Record<NabProfile, number>;
  let windows = 0;
  for (const p of NAB_PROFILE_NAMES) {
    const s = nabFileScore(rows, f.windows, openings, NAB_PROFILES[p]);
    nab[p] = s.score;
    windows = s.windows;
  }
  const delaysMs: number[] = [];
  const positions: number[] = [];
  for (const w of f.windows) {
    if (w.last < f.probation) continue;
    const first = openings.filter((r) => r >= w.first && r <= w.last).sort((a, b) => a - b)[0];
    if (first === undefined) continue;
    delaysMs.push(f.table.timestamps[first]! - f.table.timestamps[w.first]!);
    positions.push((first - w.first) / (w.last - w.first + 1));
  }
  const outside = scored.filter((a) => !f.windows.some((w) => a.openRow >= w.first && a.openRow <= w.last));
  return {
    name: f.name,
    rows,
    windows,
    nab,
    points: pointCounts(rows, f.probation, f.windows, run.alerts),
    alerts: scored.length,
    alertsInProbation: run.alerts.length - scored.length,
    unscoredAlerts: run.unscoredAlerts,
    windowsDetected: delaysMs.length,
    bySource: countBySource(scored),
    falseAlerts: outside.length,
    falseBySource: countBySource(outside),
    positions,
    delaysMs,
  };
}

export function summarise(results: readonly FileResult[]): DetectorSummary {
  const windows = results.reduce((n, r) => n + r.windows, 0);
  const nab = {} as Record<NabProfile, number>;
  for (const p of NAB_PROFILE_NAMES) nab[p] = nabNormalised(results.reduce((s, r) => s + r.nab[p], 0), windows, NAB_PROFILES[p]);
  const delays = results.flatMap((r) => r.delaysMs);
  const sum = (f: (r: FileResult) => number): number => results.reduce((n, r) => n + f(r), 0);
  return {
    nab,
    points: pointMetrics(results.reduce((c, r) => addPoints(c, r.points), NO_POINTS)),
    events: {
      alerts: sum((r) => r.alerts),
      windowsDetected: sum((r) => r.windowsDetected),
      medianDelayS: delays.length === 0 ? null : median(delays) / 1000,
      alertsInProbation: sum((r) => r.alertsInProbation),
      unscoredAlerts: sum((r) => r.unscoredAlerts),
    },
  };
}

/**
 * Runs every detector over every file of the data set and scores them alike. Nothing depends on
 * the file beyond its rows and labels: no per-file or per-data-set setting exists.
 */
export function evaluate(dataset: Dataset, detectors: readonly Detector[], progress?: (i: number, n: number, name: string) => void): Evaluation {
  const ids = deviceIds(dataset.files);
  const perFile: Record<string, FileResult[]> = Object.fromEntries(detectors.map((d) => [d.name, []]));
  let rows = 0;
  dataset.files.forEach((file, i) => {
    const loaded = loadFile(dataset, file, ids[i]!);
    progress?.(i + 1, dataset.files.length, loaded.name);
    rows += loaded.table.timestamps.length;
    for (const d of detectors) perFile[d.name]!.push(scoreFile(loaded, d.run(loaded)));
  });
  const first = perFile[detectors[0]?.name ?? ''] ?? [];
  return {
    dataset: dataset.dir,
    layout: dataset.layout,
    files: dataset.files.length,
    rows,
    windows: first.reduce((n, r) => n + r.windows, 0),
    detectors: Object.fromEntries(detectors.map((d) => [d.name, summarise(perFile[d.name]!)])),
    perFile,
  };
}
