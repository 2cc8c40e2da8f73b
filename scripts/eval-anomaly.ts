/**
 * npm run eval:anomaly -- --data DIR [--json] [--rules FILE]
 *
 * Replays every labelled file of DIR through the platform's analytics engine (the built-in rules,
 * or an analytics/rules file) and through reference baselines, and scores them alike: NAB's
 * score (three profiles), point-wise precision/recall/F1/FAR/MAR, alerts, windows detected and
 * delays. DIR is NAB's repository layout, NAB's flat layout, or the multi-column layout (see
 * src/evaluation/dataset.ts). The data stay where they are: nothing is copied.
 */
import { parseArgs } from 'node:util';
import { AnalyticsConfigError, loadAnalyticsConfig } from '../src/analytics/config.js';
import { baselineDetectors } from '../src/evaluation/baselines.js';
import { openDataset } from '../src/evaluation/dataset.js';
import { EvaluationInputError } from '../src/evaluation/errors.js';
import { evaluate } from '../src/evaluation/evaluate.js';
import { engineDetector } from '../src/evaluation/replay.js';
import { renderTables } from '../src/evaluation/report.js';

const USAGE = 'usage: npm run eval:anomaly -- --data DIR [--json] [--rules FILE]';

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function options(): { data: string; json: boolean; rules: string | undefined } {
  let values: { data?: string; json?: boolean; rules?: string };
  try {
    ({ values } = parseArgs({ options: { data: { type: 'string' }, json: { type: 'boolean', default: false }, rules: { type: 'string' } } }));
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (!values.data) return fail(`--data DIR is required\n${USAGE}`, 2);
  return { data: values.data, json: values.json ?? false, rules: values.rules };
}

function main(): void {
  const opts = options();
  const config = loadAnalyticsConfig(opts.rules);
  const dataset = openDataset(opts.data);
  const started = Date.now();
  const result = evaluate(dataset, [engineDetector('plantpulse', config), ...baselineDetectors()], (i, n, name) => process.stderr.write(`file ${i}/${n} ${name}\n`));
  process.stderr.write(`evaluated ${result.files} files, ${result.rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${renderTables(result)}\n`);
}

try {
  main();
} catch (err) {
  // Input and configuration problems name their file and place; anything else is a bug: keep its stack.
  if (err instanceof EvaluationInputError || err instanceof AnalyticsConfigError) fail(err.message, 1);
  throw err;
}
