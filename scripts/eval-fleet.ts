/**
 * npm run eval:fleet -- [--machines 500] [--hours 24] [--seed 1] [--faults none|all|kind,...]
 *                       [--interval-s 10] [--grace-min 60] [--rules FILE] [--classes factory|all|class,...] [--json]
 *
 * Runs a simulated fleet through the analytics engine with the default rules (or an analytics
 * file, as PP_ANALYTICS_FILE takes: rules and energy settings)
 * and scores the alerts it opens against the simulator's labels: false alerts per rule per
 * machine-day (and the share of machines raising each rule), and per fault kind the recall and
 * the median delay from onset. `--faults none` (the default) is the healthy fleet: only the
 * natural trips the machines develop by themselves are labelled. `--classes` picks the machine
 * classes rotating along each line (default the factory's five; `pump` adds the pump faults). Progress on stderr.
 */
import { parseArgs } from 'node:util';
import { Simulation, parseClasses, parseFaultKinds } from '../edge-agent/simulator/index.js';
import { loadAnalyticsConfig } from '../src/analytics/config.js';
import { fleetReport } from './eval-fleet/fleet-report.js';
import { scoreFleet } from './eval-fleet/fleet-score.js';
import { runFleet } from './eval-fleet/run-fleet.js';
import { positiveNumber, SIM_START_TS } from './eval-fleet/cli-numbers.js';

const USAGE = 'usage: npm run eval:fleet -- [--machines 500] [--hours 24] [--seed 1] [--faults none|all|kind,...] [--interval-s 10] [--grace-min 60] [--rules FILE] [--classes factory|all|class,...] [--json]';

function main(): void {
  const { values } = parseArgs({
    options: {
      machines: { type: 'string', default: '500' },
      hours: { type: 'string', default: '24' },
      seed: { type: 'string', default: '1' },
      faults: { type: 'string', default: 'none' },
      'interval-s': { type: 'string', default: '10' },
      'grace-min': { type: 'string', default: '60' },
      rules: { type: 'string' },
      classes: { type: 'string', default: 'factory' },
      json: { type: 'boolean', default: false },
    },
  });
  const machines = positiveNumber('--machines', values.machines, true);
  const hours = positiveNumber('--hours', values.hours);
  const seed = positiveNumber('--seed', values.seed, true, 0);
  const intervalS = positiveNumber('--interval-s', values['interval-s'], true);
  const graceMin = positiveNumber('--grace-min', values['grace-min'], false, 0);
  const classes = parseClasses(values.classes);
  const faults = parseFaultKinds(values.faults, classes);
  const config = loadAnalyticsConfig(values.rules);

  const sim = new Simulation({ machines, seed, startTs: SIM_START_TS, hours, intervalMs: intervalS * 1000, faults, classes });
  const started = Date.now();
  const run = runFleet(sim, config, (step, steps) => {
    process.stderr.write(`\r${((step / steps) * 100).toFixed(0)} % of ${hours} simulated h, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  process.stderr.write(`\n${run.samples} samples in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const score = scoreFleet(run.openings, sim.labels(), machines, hours, graceMin * 60_000);
  const what = `${faults.length === 0 ? 'healthy fleet' : `faults: ${faults.join(', ')}`}${values.classes === 'factory' ? '' : `, classes ${values.classes}`}`;
  const title = `Fleet: ${machines} machines × ${hours} h, seed ${seed}, one sample per ${intervalS} s, ${what}${values.rules ? `, rules ${values.rules}` : ', default rules'}`;
  if (values.json) process.stdout.write(`${JSON.stringify({ hours, seed, intervalS, graceMin, faults, samples: run.samples, ...score }, null, 2)}\n`);
  else process.stdout.write(`${fleetReport(score, title)}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
