import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes a multi-column evaluation folder (CSV files, windows.json, optional metrics.json) in a fresh temporary directory. */
export function writeEvalFolder(files: Record<string, string>, windows: Record<string, [string, string][]>, metrics?: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-eval-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'windows.json'), JSON.stringify(windows));
  if (metrics) writeFileSync(join(dir, 'metrics.json'), JSON.stringify(metrics));
  return dir;
}

/** CSV text: a header and rows, one minute apart from `start` (ISO, UTC), in NAB's `YYYY-MM-DD HH:MM:SS` form or ISO 8601. */
export function minuteRows(header: string, start: string, rows: (number | string)[][], iso = false): string {
  const t0 = Date.parse(start);
  const lines = rows.map((cells, i) => {
    const t = new Date(t0 + i * 60_000).toISOString();
    return [iso ? t : t.slice(0, 19).replace('T', ' '), ...cells].join(',');
  });
  return `${[header, ...lines].join('\n')}\n`;
}
