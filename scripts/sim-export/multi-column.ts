import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultLabel } from '../../edge-agent/simulator/index.js';
import { METRIC_CATALOGUE } from '../../src/contract/metrics.js';

/** ISO 8601 in UTC to the second: `2026-11-02T00:00:10Z`. */
export function isoSecond(ts: number): string {
  return `${new Date(ts).toISOString().slice(0, 19)}Z`;
}

/** The file of one device: `site-01_line-01_m-001.csv` (the key's slashes cannot be in a file name). */
export function fileOf(device: string): string {
  return `${device.replaceAll('/', '_')}.csv`;
}

const CATALOGUE_ORDER = Object.keys(METRIC_CATALOGUE);

/** A device's columns: the metrics it reports, in catalogue order (so every export reads the same way). */
export function columnsOf(metrics: Record<string, number>): string[] {
  return Object.keys(metrics).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function rank(metric: string): number {
  const i = CATALOGUE_ORDER.indexOf(metric);
  return i < 0 ? CATALOGUE_ORDER.length : i;
}

interface DeviceFile {
  fd: number;
  columns: string[];
  buffer: string[];
  rows: number;
}

/**
 * Writes a simulated run in the multi-column format the anomaly evaluator reads: one CSV per
 * device (`timestamp,<metric>,...`, catalogue metric names, so no metrics.json is needed),
 * `windows.json` with each file's label windows, and `faults.json` with the kind of each window
 * (for scoring per fault kind). Rows are buffered per device and written in chunks.
 */
export class MultiColumnWriter {
  private readonly files = new Map<string, DeviceFile>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  row(device: string, ts: number, metrics: Record<string, number>): void {
    let f = this.files.get(device);
    if (!f) {
      const columns = columnsOf(metrics);
      f = { fd: openSync(join(this.dir, fileOf(device)), 'w'), columns, buffer: [`timestamp,${columns.join(',')}\n`], rows: 0 };
      this.files.set(device, f);
    }
    // A metric the device did not report at this time is an empty cell, not a zero.
    f.buffer.push(`${isoSecond(ts)},${f.columns.map((c) => (metrics[c] === undefined ? '' : String(metrics[c]))).join(',')}\n`);
    f.rows++;
    if (f.buffer.length >= 512) this.flush(f);
  }

  /** Close every file and write the labels; returns rows per file. */
  finish(labels: readonly FaultLabel[]): Map<string, number> {
    const windows: Record<string, [string, string][]> = {};
    const kinds: Record<string, { kind: string; start: string; end: string }[]> = {};
    const rows = new Map<string, number>();
    for (const [device, f] of this.files) {
      this.flush(f);
      closeSync(f.fd);
      windows[fileOf(device)] = [];
      kinds[fileOf(device)] = [];
      rows.set(fileOf(device), f.rows);
    }
    for (const l of labels) {
      const file = fileOf(l.device);
      (windows[file] ??= []).push([isoSecond(l.start), isoSecond(l.end)]);
      (kinds[file] ??= []).push({ kind: l.kind, start: isoSecond(l.start), end: isoSecond(l.end) });
    }
    writeFileSync(join(this.dir, 'windows.json'), `${JSON.stringify(windows, null, 1)}\n`);
    writeFileSync(join(this.dir, 'faults.json'), `${JSON.stringify(kinds, null, 1)}\n`);
    return rows;
  }

  private flush(f: DeviceFile): void {
    if (f.buffer.length === 0) return;
    writeSync(f.fd, f.buffer.join(''));
    f.buffer = [];
  }
}
