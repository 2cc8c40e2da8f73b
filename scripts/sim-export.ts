/**
 * npm run sim:export -- --out DIR [--machines 60] [--hours 24] [--seed 1] [--faults all|none|kind,...]
 *                       [--interval-s 10] [--classes factory|all|class,...]
 * npm run sim:export -- --out DIR --bench [--units 40] [--rows 3000] [--stretch 20-50] [--seed 1] [--interval-s 1]
 *
 * Runs the simulated factory with labelled faults (one per machine, see
 * edge-agent/simulator/fault-schedule.ts) and writes it in the multi-column format: one CSV per
 * device, windows.json with the label windows (scheduled faults and the machines' own trips) and
 * faults.json with their kinds. `--bench` writes pump test-bench runs instead
 * (edge-agent/simulator/bench.ts): one CSV per unit, eight channels in the bench's own names and
 * units (no metrics.json: none is a catalogue metric), no machine state, and one pump fault per
 * run lasting `--stretch` percent of its rows. The same options give the same files. Summary on
 * stdout, progress on stderr.
 */
import { parseArgs } from 'node:util';
import { benchRuns, parseClasses, parseFaultKinds, PUMP_FAULTS, Simulation, type FaultLabel } from '../edge-agent/simulator/index.js';
import { positiveNumber, SIM_START_TS } from './eval-fleet/cli-numbers.js';
import { MultiColumnWriter } from './sim-export/multi-column.js';

const USAGE = [
  'usage: npm run sim:export -- --out DIR [--machines 60] [--hours 24] [--seed 1] [--faults all|none|kind,...] [--interval-s 10] [--classes factory|all|class,...]',
  '       npm run sim:export -- --out DIR --bench [--units 40] [--rows 3000] [--stretch 20-50] [--seed 1] [--interval-s 1] [--faults all|kind,...]',
].join('\n');

/** `--stretch 20-50`: percent of a run's rows, as fractions. */
function stretchOf(value: string): [number, number] {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(value.trim());
  if (!m) throw new Error(`--stretch must be a percentage or a range of them like 20-50, got ${JSON.stringify(value)}`);
  const lo = Number(m[1]) / 100;
  const hi = m[2] === undefined ? lo : Number(m[2]) / 100;
  if (!(lo > 0 && lo <= hi && hi < 0.75)) throw new Error(`--stretch must lie within (0, 75) percent, low first, got ${JSON.stringify(value)}`);
  return [lo, hi];
}

function summary(out: string, rows: Map<string, number>, labels: readonly FaultLabel[], what: string, seed: number): string {
  const byKind = new Map<string, number>();
  for (const l of labels) byKind.set(l.kind, (byKind.get(l.kind) ?? 0) + 1);
  const total = [...rows.values()].reduce((a, b) => a + b, 0);
  return [
    `${out}: ${rows.size} device files, ${total} rows (${what}), seed ${seed}`,
    `label windows: ${labels.length} (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}) in windows.json, kinds in faults.json`,
    '',
  ].join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      machines: { type: 'string', default: '60' },
      hours: { type: 'string', default: '24' },
      seed: { type: 'string', default: '1' },
      faults: { type: 'string', default: 'all' },
      'interval-s': { type: 'string' },
      classes: { type: 'string', default: 'factory' },
      bench: { type: 'boolean', default: false },
      units: { type: 'string', default: '40' },
      rows: { type: 'string', default: '3000' },
      stretch: { type: 'string', default: '20-50' },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  const seed = positiveNumber('--seed', values.seed, true, 0);
  const intervalS = positiveNumber('--interval-s', values['interval-s'] ?? (values.bench ? '1' : '10'), true);
  const writer = new MultiColumnWriter(values.out);

  if (values.bench) {
    const kinds = values.faults === 'all' ? PUMP_FAULTS : parseFaultKinds(values.faults);
    const runs = benchRuns({
      units: positiveNumber('--units', values.units, true),
      rows: positiveNumber('--rows', values.rows, true),
      intervalMs: intervalS * 1000,
      seed,
      startTs: SIM_START_TS,
      stretch: stretchOf(values.stretch),
      kinds,
    });
    runs.forEach((run, i) => {
      for (const { ts, m } of run.readings()) writer.row(run.unit, ts, m);
      process.stderr.write(`\r${i + 1}/${runs.length} units`);
    });
    const labels = runs.map((r) => r.label);
    const rows = writer.finish(labels);
    process.stderr.write('\n');
    process.stdout.write(summary(values.out, rows, labels, `pump bench runs, one per ${intervalS} s, fault stretch ${values.stretch} % of each run`, seed));
    return;
  }

  const machines = positiveNumber('--machines', values.machines, true);
  const hours = positiveNumber('--hours', values.hours);
  const classes = parseClasses(values.classes);
  const faults = parseFaultKinds(values.faults, classes);
  const sim = new Simulation({ machines, seed, startTs: SIM_START_TS, hours, intervalMs: intervalS * 1000, faults, classes });
  let step = 0;
  for (const { ts, samples } of sim.steps()) {
    for (const { machine, sample } of samples) writer.row(`${machine.ref.site}/${machine.ref.line}/${machine.ref.device}`, ts, sample.m);
    if (++step % 360 === 0) process.stderr.write(`\r${((step / sim.stepCount) * 100).toFixed(0)} %`);
  }
  const labels = sim.labels();
  const rows = writer.finish(labels);
  process.stderr.write('\n');
  process.stdout.write(summary(values.out, rows, labels, `one per ${intervalS} s over ${hours} h`, seed));
}

try {
  main();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
