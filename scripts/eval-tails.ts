/**
 * npm run eval:tails -- --data DIR [--rules FILE]
 *
 * Replays DIR as npm run eval:anomaly does (the built-in rules, or an analytics file) and says,
 * per rule, where its alarmed rows fall: inside the labels, on normal rows after a label ended
 * while its alert stayed open (the tail), or on other normal rows. Alerts that stay open past a
 * fault and alerts that open without one cost the same point-wise FAR; this tells them apart.
 * Then, per rule, how many of the labelled windows it found (an alert of it opened inside one after
 * probation), and how many only it found: which rules a data set's detections rest on.
 */
import { parseArgs } from 'node:util';
import { AnalyticsConfigError, loadAnalyticsConfig } from '../src/analytics/config.js';
import { alarmTails, windowsFound, type AlarmRows } from '../src/evaluation/alarm-tails.js';
import { openDataset } from '../src/evaluation/dataset.js';
import { EvaluationInputError } from '../src/evaluation/errors.js';
import { deviceIds, loadFile } from '../src/evaluation/evaluate.js';
import { engineDetector } from '../src/evaluation/replay.js';

const USAGE = 'usage: npm run eval:tails -- --data DIR [--rules FILE]';

function main(): void {
  const { values } = parseArgs({ options: { data: { type: 'string' }, rules: { type: 'string' } } });
  if (!values.data) throw new EvaluationInputError(`--data DIR is required\n${USAGE}`);
  const dataset = openDataset(values.data);
  const engine = engineDetector('plantpulse', loadAnalyticsConfig(values.rules));
  const ids = deviceIds(dataset.files);
  const total: Record<string, AlarmRows> = {};
  let normal = 0;
  let windowCount = 0;
  // Per rule: windows found, and windows no other rule found.
  const found: Record<string, { found: number; alone: number }> = {};
  let foundAny = 0;
  dataset.files.forEach((file, i) => {
    const f = loadFile(dataset, file, ids[i]!);
    const rows = f.table.timestamps.length;
    const labelled = f.windows.reduce((n, w) => n + Math.max(0, Math.min(w.last, rows - 1) - Math.max(w.first, f.probation) + 1), 0);
    normal += rows - f.probation - labelled;
    const alerts = engine.run(f).alerts;
    windowCount += f.windows.length;
    const byRule = windowsFound(f.windows, f.probation, alerts);
    f.windows.forEach((_, w) => {
      const rules = [...byRule].filter(([, ws]) => ws.has(w)).map(([rule]) => rule);
      if (rules.length > 0) foundAny++;
      for (const rule of rules) {
        const t = (found[rule] ??= { found: 0, alone: 0 });
        t.found++;
        if (rules.length === 1) t.alone++;
      }
    });
    for (const [source, r] of Object.entries(alarmTails(rows, f.windows, f.probation, alerts))) {
      const t = (total[source] ??= { alerts: 0, inWindow: 0, afterWindow: 0, outside: 0 });
      t.alerts += r.alerts;
      t.inWindow += r.inWindow;
      t.afterWindow += r.afterWindow;
      t.outside += r.outside;
    }
  });
  const share = (n: number): string => `${n} (${((100 * n) / Math.max(1, normal)).toFixed(1)} %)`;
  const lines = [
    `${dataset.files.length} files, ${normal} normal rows after probation; a rule's normal rows alarmed, as a share of them:`,
    '',
    '| rule | alerts | rows in windows | normal rows after a window (tail) | other normal rows |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...Object.entries(total)
      .sort((a, b) => b[1].afterWindow + b[1].outside - (a[1].afterWindow + a[1].outside))
      .map(([source, r]) => `| ${source} | ${r.alerts} | ${r.inWindow} | ${share(r.afterWindow)} | ${share(r.outside)} |`),
    '',
    `${foundAny} of ${windowCount} windows found by some rule; per rule:`,
    '',
    '| rule | windows found | found by it alone |',
    '| --- | ---: | ---: |',
    ...Object.entries(found)
      .sort((a, b) => b[1].found - a[1].found || a[0].localeCompare(b[0]))
      .map(([rule, r]) => `| ${rule} | ${r.found} | ${r.alone} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  main();
} catch (err) {
  if (err instanceof EvaluationInputError || err instanceof AnalyticsConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
