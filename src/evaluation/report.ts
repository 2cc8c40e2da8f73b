import { median } from 'simple-statistics';
import { formatDuration } from '../analytics/detectors/index.js';
import type { Evaluation, FileResult } from './evaluate.js';
import { pointMetrics } from './point-metrics.js';

/** The evaluation as tables (Markdown), for people; `--json` prints the Evaluation object instead. */

function pct(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)} %`;
}

function delay(ms: number | null): string {
  return ms === null ? '–' : formatDuration(ms).en;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: string[], rows: (string | number)[][]): string[] {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)];
}

function fileRow(r: FileResult): (string | number)[] {
  const p = pointMetrics(r.points);
  const delays = [...r.delaysMs].sort((a, b) => a - b);
  const mid = delays.length === 0 ? null : delays.length % 2 ? delays[(delays.length - 1) / 2]! : (delays[delays.length / 2 - 1]! + delays[delays.length / 2]!) / 2;
  return [r.name, r.rows, r.alerts, `${r.windowsDetected}/${r.windows}`, r.nab.standard.toFixed(3), pct(p.precision), pct(p.recall), pct(p.far), delay(mid)];
}

/** A file's group: the folder part of its name (NAB's category), or `(top)`. */
function groupOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? '(top)' : name.slice(0, slash);
}

function groupRows(results: readonly FileResult[]): (string | number)[][] {
  const groups = new Map<string, FileResult[]>();
  for (const r of results) groups.set(groupOf(r.name), [...(groups.get(groupOf(r.name)) ?? []), r]);
  return [...groups].map(([g, rs]) => {
    const falseBy: Record<string, number> = {};
    for (const r of rs) for (const [k, n] of Object.entries(r.falseBySource)) falseBy[k] = (falseBy[k] ?? 0) + n;
    const positions = rs.flatMap((r) => r.positions);
    const pos = positions.length === 0 ? null : median(positions);
    return [
      g,
      rs.length,
      `${rs.reduce((n, r) => n + r.windowsDetected, 0)}/${rs.reduce((n, r) => n + r.windows, 0)}`,
      rs.reduce((n, r) => n + r.alerts, 0),
      rs.reduce((n, r) => n + r.falseAlerts, 0),
      Object.entries(falseBy)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || '–',
      pos === null ? '–' : pos.toFixed(2),
      rs.reduce((n, r) => n + r.nab.standard, 0).toFixed(2),
    ];
  });
}

export function renderTables(e: Evaluation, detail = 'plantpulse'): string {
  const out: string[] = [];
  out.push(`Data set ${e.dataset} (${e.layout} layout): ${e.files} files, ${e.rows} rows, ${e.windows} anomaly windows.`, '');
  out.push(
    ...table(
      ['detector', 'NAB standard', 'NAB low FP', 'NAB low FN', 'precision', 'recall', 'F1', 'FAR', 'MAR', 'alerts', 'windows detected', 'median delay'],
      Object.entries(e.detectors).map(([name, d]) => [
        name,
        d.nab.standard.toFixed(2),
        d.nab.reward_low_FP_rate.toFixed(2),
        d.nab.reward_low_FN_rate.toFixed(2),
        pct(d.points.precision),
        pct(d.points.recall),
        d.points.f1 === null ? '–' : d.points.f1.toFixed(3),
        pct(d.points.far),
        pct(d.points.mar),
        d.events.alertsInProbation ? `${d.events.alerts} (+${d.events.alertsInProbation} in probation)` : d.events.alerts,
        `${d.events.windowsDetected}/${e.windows}`,
        delay(d.events.medianDelayS === null ? null : d.events.medianDelayS * 1000),
      ]),
    ),
  );
  const pp = e.detectors[detail];
  out.push(
    '',
    'NAB: normalised scores (100 perfect, 0 never alarming) of the three NAB profiles; a detection is an alert opening.',
    "NAB's probation applies to every file of every layout: its first min(15 %, 750) rows are not scored (alerts opened there, windows and points there do not count).",
    'Points: every scored row is anomalous (in a window) or normal; an alert alarms the rows from its opening to its clear.',
    'Windows detected: an alert opened inside the window; delay: from the window start to that opening.',
  );
  if (pp) {
    out.push(`${detail}: ${pp.events.alertsInProbation} alerts opened in probation; ${pp.events.unscoredAlerts} alerts of category data (a device not reporting) counted, not scored.`);
    const bySource: Record<string, number> = {};
    for (const r of e.perFile[detail] ?? []) for (const [k, n] of Object.entries(r.bySource)) bySource[k] = (bySource[k] ?? 0) + n;
    const entries = Object.entries(bySource).sort((a, b) => b[1] - a[1]);
    out.push(`${detail} alerts by rule: ${entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ')}.`);
    out.push('', `Per group of files (${detail}; a group is a file's folder, NAB's category; false: alerts opened outside every window; position: where in a window its first alert opened, 0 its start, 1 its end):`, '');
    out.push(...table(['group', 'files', 'windows detected', 'alerts', 'false', 'false by rule', 'median position', 'NAB standard raw'], groupRows(e.perFile[detail] ?? [])));
    out.push('', `Per file (${detail}):`, '');
    out.push(...table(['file', 'rows', 'alerts', 'windows detected', 'NAB standard raw', 'precision', 'recall', 'FAR', 'median delay'], (e.perFile[detail] ?? []).map(fileRow)));
  }
  return out.join('\n');
}
