import { readFileSync } from 'node:fs';
import type { DetectorInput } from '../../src/analytics/types.js';
import type { LabelWindow } from './score.js';

/**
 * Reading NAB files: series CSVs (`timestamp,value`, `YYYY-MM-DD HH:MM:SS`, no zone: read as UTC,
 * labels too, so only differences matter) and the label files `combined_windows.json` /
 * `combined_labels.json` (keys `<category>/<file>.csv`).
 */

/** `2013-12-10 06:25:00` or `2013-12-10 06:25:00.000000` → epoch ms (UTC). */
export function parseNabTime(s: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(s.trim());
  if (!m) throw new Error(`unreadable timestamp ${JSON.stringify(s)}`);
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(ms)) throw new Error(`unreadable timestamp ${JSON.stringify(s)}`);
  return ms;
}

export interface Series {
  samples: DetectorInput[];
  rows: number;
  /** Rows dropped because their timestamp did not increase (the platform drops out-of-order data). */
  dropped: number;
}

export function readSeries(path: string): Series {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift()?.trim();
  if (header !== 'timestamp,value') throw new Error(`${path}: expected header "timestamp,value", got ${JSON.stringify(header)}`);
  const samples: DetectorInput[] = [];
  let dropped = 0;
  lines.forEach((line, i) => {
    const [t, v] = line.split(',');
    const ts = parseNabTime(t ?? '');
    const value = Number(v);
    if (!Number.isFinite(value)) throw new Error(`${path}:${i + 2}: value ${JSON.stringify(v)} is not a number`);
    const last = samples.at(-1);
    if (last && ts <= last.ts) dropped++;
    else samples.push({ ts, value });
  });
  return { samples, rows: lines.length, dropped };
}

/** The windows (with their labels, when the labels file has them) of the entry whose key ends with `/<file>`. */
export function windowsFor(file: string, windowsJson: unknown, labelsJson: unknown): { key: string; windows: LabelWindow[] } | undefined {
  const windows = windowsJson as Record<string, [string, string][]>;
  const labels = (labelsJson ?? {}) as Record<string, string[]>;
  const key = Object.keys(windows).find((k) => k === file || k.endsWith(`/${file}`));
  if (key === undefined) return undefined;
  const points = (labels[key] ?? []).map(parseNabTime);
  return {
    key,
    windows: (windows[key] ?? []).map(([a, b]) => {
      const start = parseNabTime(a);
      const end = parseNabTime(b);
      const label = points.find((p) => p >= start && p <= end);
      return label === undefined ? { start, end } : { start, end, label };
    }),
  };
}
