import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import { isKnownMetric, METRIC_CATALOGUE } from '../contract/metrics.js';
import { METRIC_NAME_PATTERN, RESERVED_METRIC_NAMES } from '../contract/payload.js';
import { EvaluationInputError } from './errors.js';
import { parseTimestamp } from './timestamps.js';

/**
 * The three layouts a labelled data set may have:
 * - `nab`: NAB's repository layout, `data/<category>/*.csv` and `labels/combined_windows.json`
 *   (keys `<category>/<file>.csv`).
 * - `nab-flat`: the CSV files and `combined_windows.json` in one folder (keys still carry the category).
 * - `multi-column`: one folder of CSV files `timestamp,<column>,...`, one device each, with
 *   `windows.json` (`{ "<file>.csv": [["start", "end"], ...] }`, bounds inclusive) and optionally
 *   `metrics.json` (`{ "<column>": "<catalogue metric>" }`).
 * A NAB file is a one-column file whose column is `value`: it is read the same way.
 */
export type Layout = 'nab' | 'nab-flat' | 'multi-column';

export interface Window {
  start: number;
  end: number;
}

export interface DatasetFile {
  /** The file's key in the windows file, e.g. `realKnownCause/nyc_taxi.csv` or `press-3.csv`. */
  key: string;
  path: string;
  /** NAB category (empty in the multi-column layout). */
  group: string;
  windows: Window[];
}

export interface Dataset {
  dir: string;
  layout: Layout;
  files: DatasetFile[];
  /** Column → catalogue metric (multi-column `metrics.json`); other columns keep their own name. */
  metricOf: Readonly<Record<string, string>>;
}

const windowsSchema = z.record(z.string(), z.array(z.tuple([z.string(), z.string()])));
const metricsSchema = z.record(z.string(), z.string());

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EvaluationInputError(`${path}: cannot read as JSON: ${(err as Error).message}`);
  }
}

function readWindows(path: string): Record<string, Window[]> {
  const parsed = windowsSchema.safeParse(readJson(path));
  if (!parsed.success) throw new EvaluationInputError(`${path}: expected { "<file>.csv": [["start", "end"], ...] }: ${parsed.error.issues[0]?.message ?? ''} at ${parsed.error.issues[0]?.path.join('.') ?? ''}`);
  const out: Record<string, Window[]> = {};
  for (const [key, list] of Object.entries(parsed.data)) {
    out[key] = list
      .map(([a, b], i) => {
        const start = parseTimestamp(a);
        const end = parseTimestamp(b);
        if (start === null || end === null) throw new EvaluationInputError(`${path}: ${key}[${i}]: unreadable timestamp in ${JSON.stringify([a, b])}`);
        if (end < start) throw new EvaluationInputError(`${path}: ${key}[${i}]: window ends before it starts`);
        return { start, end };
      })
      .sort((x, y) => x.start - y.start);
  }
  return out;
}

function readMetrics(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const parsed = metricsSchema.safeParse(readJson(path));
  if (!parsed.success) throw new EvaluationInputError(`${path}: expected { "<column>": "<catalogue metric>" }`);
  for (const [column, metric] of Object.entries(parsed.data)) {
    if (!isKnownMetric(metric)) throw new EvaluationInputError(`${path}: ${column}: ${JSON.stringify(metric)} is not a catalogue metric (${Object.keys(METRIC_CATALOGUE).join(', ')})`);
  }
  return parsed.data;
}

function csvFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.csv'))
    .sort();
}

/** Every CSV needs an entry (an empty list says "no anomalies"): a file scored without its labels would count every alert as false. */
function withWindows(path: string, key: string, windowsPath: string, windows: Record<string, Window[]>, group: string): DatasetFile {
  const w = windows[key];
  if (!w) throw new EvaluationInputError(`${path}: no entry ${JSON.stringify(key)} in ${windowsPath} (use [] for a file without anomalies)`);
  return { key, path, group, windows: w };
}

export function openDataset(dir: string): Dataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new EvaluationInputError(`${dir}: no such folder`);
  const nabWindows = join(dir, 'labels', 'combined_windows.json');
  if (existsSync(nabWindows) && existsSync(join(dir, 'data'))) {
    const windows = readWindows(nabWindows);
    const files: DatasetFile[] = [];
    const dataDir = join(dir, 'data');
    for (const group of readdirSync(dataDir).sort()) {
      if (!statSync(join(dataDir, group)).isDirectory()) continue;
      for (const f of csvFiles(join(dataDir, group))) files.push(withWindows(join(dataDir, group, f), `${group}/${f}`, nabWindows, windows, group));
    }
    return finish({ dir, layout: 'nab', files, metricOf: {} });
  }
  const flatWindows = join(dir, 'combined_windows.json');
  if (existsSync(flatWindows)) {
    const windows = readWindows(flatWindows);
    const files = csvFiles(dir).map((f) => {
      const key = Object.keys(windows).find((k) => k === f || k.endsWith(`/${f}`)) ?? f;
      return withWindows(join(dir, f), key, flatWindows, windows, key.includes('/') ? key.split('/')[0]! : '');
    });
    return finish({ dir, layout: 'nab-flat', files, metricOf: {} });
  }
  const multiWindows = join(dir, 'windows.json');
  if (existsSync(multiWindows)) {
    const windows = readWindows(multiWindows);
    const files = csvFiles(dir).map((f) => withWindows(join(dir, f), f, multiWindows, windows, ''));
    return finish({ dir, layout: 'multi-column', files, metricOf: readMetrics(join(dir, 'metrics.json')) });
  }
  throw new EvaluationInputError(`${dir}: no windows file (windows.json, combined_windows.json or labels/combined_windows.json)`);
}

function finish(d: Dataset): Dataset {
  if (d.files.length === 0) throw new EvaluationInputError(`${d.dir}: no CSV files`);
  return d;
}

/**
 * The metric a column is sent as: its catalogue metric from `metrics.json`, else its own name made
 * a valid metric name (invalid characters become `_`, a leading non-letter gets `m_`, reserved
 * names get `_value`). Unmapped columns are metrics of unknown unit, as live data would be.
 */
export function metricName(column: string, metricOf: Readonly<Record<string, string>>): string {
  const mapped = metricOf[column];
  if (mapped !== undefined) return mapped;
  let name = column.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z]/.test(name)) name = `m_${name}`;
  name = name.slice(0, 64);
  if (RESERVED_METRIC_NAMES.has(name)) name = `${name}_value`;
  if (!METRIC_NAME_PATTERN.test(name)) throw new EvaluationInputError(`column ${JSON.stringify(column)}: no valid metric name for it`);
  return name;
}

/** A short name for progress and tables. */
export function displayName(d: Dataset, f: DatasetFile): string {
  return d.layout === 'nab' ? f.key : relative(d.dir, f.path) || basename(f.path);
}
