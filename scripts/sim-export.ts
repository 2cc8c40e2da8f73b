/**
 * npm run sim:export -- --out DIR [--machines 60] [--hours 24] [--seed 1] [--faults all|none|kind,...] [--interval-s 10]
 *
 * Runs the simulated factory with labelled faults (one per machine, see
 * edge-agent/simulator/fault-schedule.ts) and writes it in the multi-column format: one CSV per
 * device, windows.json with the label windows (scheduled faults and the machines' own trips) and
 * faults.json with their kinds. The same options give the same files. Summary on stdout,
 * progress on stderr.
 */
import { parseArgs } from 'node:util';
import { Simulation, parseFaultKinds } from '../edge-agent/simulator/index.js';
import { positiveNumber, SIM_START_TS } from './eval-fleet/cli-numbers.js';
import { MultiColumnWriter } from './sim-export/multi-column.js';

const USAGE = 'usage: npm run sim:export -- --out DIR [--machines 60] [--hours 24] [--seed 1] [--faults all|none|kind,...] [--interval-s 10]';

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      machines: { type: 'string', default: '60' },
      hours: { type: 'string', default: '24' },
      seed: { type: 'string', default: '1' },
      faults: { type: 'string', default: 'all' },
      'interval-s': { type: 'string', default: '10' },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  const machines = positiveNumber('--machines', values.machines, true);
  const hours = positiveNumber('--hours', values.hours);
  const seed = positiveNumber('--seed', values.seed, true, 0);
  const intervalS = positiveNumber('--interval-s', values['interval-s'], true);
  const faults = parseFaultKinds(values.faults);

  const sim = new Simulation({ machines, seed, startTs: SIM_START_TS, hours, intervalMs: intervalS * 1000, faults });
  const writer = new MultiColumnWriter(values.out);
  let step = 0;
  for (const { ts, samples } of sim.steps()) {
    for (const { machine, sample } of samples) writer.row(`${machine.ref.site}/${machine.ref.line}/${machine.ref.device}`, ts, sample.m);
    if (++step % 360 === 0) process.stderr.write(`\r${((step / sim.stepCount) * 100).toFixed(0)} %`);
  }
  const labels = sim.labels();
  const rows = writer.finish(labels);
  process.stderr.write('\n');
  const byKind = new Map<string, number>();
  for (const l of labels) byKind.set(l.kind, (byKind.get(l.kind) ?? 0) + 1);
  const total = [...rows.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(
    [
      `${values.out}: ${rows.size} device files, ${total} rows (one per ${intervalS} s over ${hours} h), seed ${seed}`,
      `label windows: ${labels.length} (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}) in windows.json, kinds in faults.json`,
      '',
    ].join('\n'),
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
