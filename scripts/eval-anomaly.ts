/**
 * npm run eval:anomaly -- --data DIR [--metric temperature_c] [--rules rules.yaml] [--probation 0.15] [--json]
 *
 * Replays every `*.csv` (timestamp,value) in DIR through the rules the platform would apply to
 * that metric (the built-in defaults, or a rules file) and scores the alerts against the NAB label
 * windows in DIR/combined_windows.json (and labels in combined_labels.json): precision, recall,
 * F1 and detection delay per file and overall. See eval-anomaly/score.ts for the exact definitions.
 * The data stay where they are: nothing is copied.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRulesConfig, parseRulesConfig, resolveRules, type ResolvedRule } from '../src/analytics/rules/index.js';
import { EACH_METRIC } from '../src/analytics/rules/schema.js';
import { readSeries, windowsFor } from './eval-anomaly/nab.js';
import { replayAlerts } from './eval-anomaly/replay.js';
import { combineScores, scoreSeries, type Score } from './eval-anomaly/score.js';

interface FileResult {
  file: string;
  key: string;
  rows: number;
  dropped: number;
  /** Samples replayed, with the dropped count: "22683 (12)". */
  samplesText: string;
  probationEnd: string;
  score: Score;
  /** Scored alerts per rule, and how many of them overlapped a window. */
  byRule: Record<string, { alerts: number; truePositives: number }>;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run eval:anomaly -- --data DIR [--metric temperature_c] [--rules FILE] [--probation 0.15] [--json]\n`);
  process.exit(2);
}

/** A device id from a file name: the platform's id alphabet, at most 64 characters. */
function asId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'x';
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)} %`;
}

function hours(ms: number | null): string {
  return ms === null ? '–' : `${(ms / 3_600_000).toFixed(1)} h`;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function markdown(metric: string, rules: readonly ResolvedRule[], results: FileResult[], overall: Score): string {
  const out: string[] = [];
  out.push(`Metric \`${metric}\`; rules: ${rules.map((r) => `\`${r.id}\``).join(', ')}`, '');
  out.push(row(['file', 'samples (dropped)', 'alerts', 'TP alerts', 'precision', 'windows', 'detected', 'recall', 'F1', 'median delay from window start', 'median delay from label']));
  out.push(row(Array(11).fill('---')));
  const line = (name: string, rows: string, s: Score): string =>
    row([
      name,
      rows,
      `${s.alerts}${s.alertsInProbation ? ` (+${s.alertsInProbation} in probation)` : ''}`,
      s.truePositives,
      pct(s.precision),
      `${s.windows}${s.windowsInProbation ? ` (+${s.windowsInProbation} in probation)` : ''}`,
      s.windowsDetected,
      pct(s.recall),
      s.f1 === null ? '–' : s.f1.toFixed(3),
      hours(s.medianDelayMs),
      hours(s.medianDelayFromLabelMs),
    ]);
  for (const r of results) out.push(line(r.file, r.samplesText, r.score));
  out.push(line('**overall**', `${results.reduce((a, r) => a + r.rows - r.dropped, 0)}`, overall));
  out.push('', 'Alerts by rule (scored / overlapping a window):', '');
  out.push(row(['file', ...rules.map((r) => r.id)]), row(Array(rules.length + 1).fill('---')));
  for (const r of results) out.push(row([r.file, ...rules.map((rule) => `${r.byRule[rule.id]?.alerts ?? 0} / ${r.byRule[rule.id]?.truePositives ?? 0}`)]));
  out.push('', 'Probationary period ends: ' + results.map((r) => `${r.file} ${r.probationEnd}`).join('; '));
  return out.join('\n');
}

function args(): ReturnType<typeof parseOptions> {
  try {
    return parseOptions();
  } catch (err) {
    return usage((err as Error).message);
  }
}

function parseOptions() {
  return parseArgs({
    options: {
      data: { type: 'string' },
      metric: { type: 'string', default: 'temperature_c' },
      rules: { type: 'string' },
      probation: { type: 'string', default: '0.15' },
      json: { type: 'boolean', default: false },
    },
  });
}

function main(): void {
  const { values } = args();
  if (!values.data) usage('--data DIR is required');
  const dir = values.data;
  const metric = values.metric;
  const probation = Number(values.probation);
  if (!(probation >= 0 && probation < 1)) usage('--probation must be a fraction in [0, 1)');
  const windowsPath = join(dir, 'combined_windows.json');
  if (!existsSync(windowsPath)) usage(`${windowsPath} not found`);
  const windowsJson: unknown = JSON.parse(readFileSync(windowsPath, 'utf8'));
  const labelsPath = join(dir, 'combined_labels.json');
  const labelsJson: unknown = existsSync(labelsPath) ? JSON.parse(readFileSync(labelsPath, 'utf8')) : undefined;
  const config = values.rules ? loadRulesConfig(values.rules) : parseRulesConfig({}, 'built-in defaults');

  const results: FileResult[] = [];
  let shownRules: ResolvedRule[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.csv')).sort()) {
    const labelled = windowsFor(file, windowsJson, labelsJson);
    if (!labelled) {
      process.stderr.write(`skipping ${file}: no entry in combined_windows.json\n`);
      continue;
    }
    const category = labelled.key.includes('/') ? labelled.key.split('/')[0] ?? 'nab' : 'nab';
    // The platform keys devices "site/line/device"; the replay is one device of an unclassified plant.
    const deviceKey = `nab/${asId(category)}/${asId(basename(file, '.csv'))}`;
    // Rules on every metric (`+`) judge this one too, with the metric's name in their params.
    const rules = resolveRules(config, deviceKey)
      .filter((r) => r.metric === metric || r.metric === EACH_METRIC)
      .map((r) => (r.metric === EACH_METRIC ? ({ ...r, params: { ...r.params, metric } } as ResolvedRule) : r));
    if (rules.length === 0) process.stderr.write(`${file}: no rule watches ${metric}\n`);
    if (rules.length > shownRules.length) shownRules = rules;
    const series = readSeries(join(dir, file));
    if (series.samples.length === 0) continue;
    const probationEnd = (series.samples[Math.floor(probation * series.samples.length)] ?? series.samples[0])?.ts ?? 0;
    const alerts = replayAlerts(rules, series.samples);
    const score = scoreSeries(alerts, labelled.windows, probationEnd);
    const byRule: FileResult['byRule'] = {};
    for (const a of alerts.filter((x) => x.open >= probationEnd)) {
      const entry = (byRule[a.rule] ??= { alerts: 0, truePositives: 0 });
      entry.alerts++;
      if (labelled.windows.some((w) => a.open <= w.end && a.close >= w.start)) entry.truePositives++;
    }
    results.push({
      file,
      key: labelled.key,
      rows: series.rows,
      dropped: series.dropped,
      samplesText: `${series.samples.length} (${series.dropped})`,
      probationEnd: new Date(probationEnd).toISOString().replace('T', ' ').slice(0, 16),
      score,
      byRule,
    });
  }
  if (results.length === 0) usage(`no labelled *.csv files in ${dir}`);
  const overall = combineScores(results.map((r) => r.score));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ metric, rules: shownRules.map((r) => ({ id: r.id, detector: r.detector, params: r.params })), files: results, overall }, null, 2)}\n`);
  } else {
    process.stdout.write(`${markdown(metric, shownRules, results, overall)}\n`);
  }
}

try {
  main();
} catch (err) {
  // Rules file and data problems: the message names the file and the place; no stack trace.
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
