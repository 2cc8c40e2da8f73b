/**
 * npx tsx load-tests/bench/analytics-events-diff.ts --baseline DIR DATA_DIR...
 *
 * Whether this checkout's analytics engine raises exactly the events of another checkout's (DIR,
 * e.g. made with `git worktree add`, with its node_modules): every file of each data set (the
 * evaluator's layouts: a NAB corpus, or `npm run sim:export`'s multi-column files) is replayed
 * through both engines as `npm run eval:anomaly` replays it (a clock tick, then the row as one
 * live sample), and the two event streams are compared event by event (kind, time, value,
 * message, everything), and so are the two streams of energy points (the closed windows, field by
 * field: a data set with counters, such as `npm run sim:export`'s, closes windows). Prints the
 * first difference of each file that differs, then a summary line; exits 1 if any file differs.
 * For optimisations that must not change detection or energy accounting.
 */
import { parseArgs } from 'node:util';
import { loadCheckout, type Checkout } from './analytics-checkout.js';
import { openDataset } from '../../src/evaluation/dataset.js';
import { deviceIds, loadFile, type LoadedFile } from '../../src/evaluation/evaluate.js';

const { values: args, positionals } = parseArgs({ options: { baseline: { type: 'string' } }, allowPositionals: true });
if (!args.baseline || positionals.length === 0) {
  process.stderr.write('usage: npx tsx load-tests/bench/analytics-events-diff.ts --baseline DIR DATA_DIR...\n');
  process.exit(2);
}

/** Every event and every energy point of one file's replay, serialised. */
function replay(e: Checkout, f: LoadedFile): { events: string[]; points: string[] } {
  const engine = new e.Engine(e.config.rules, e.config.energy);
  const out: string[] = [];
  const points: string[] = [];
  const { timestamps, values } = f.table;
  for (let row = 0; row < timestamps.length; row++) {
    const ts = timestamps[row]!;
    for (const ev of engine.tick(ts)) out.push(JSON.stringify(ev));
    const m: Record<string, number> = {};
    for (let c = 0; c < f.metrics.length; c++) {
      const v = values[c]![row]!;
      if (!Number.isNaN(v)) m[f.metrics[c]!] = v;
    }
    const r = engine.process({ ...f.ref, seq: row, samples: [{ ts, m }] }, ts);
    for (const ev of r.events) out.push(JSON.stringify(ev));
    for (const p of r.points) points.push(JSON.stringify(p));
  }
  return { events: out, points };
}

/** Where two streams first differ (-1: nowhere). */
function firstDifference(cur: readonly string[], base: readonly string[]): number {
  const common = Math.min(cur.length, base.length);
  const at = cur.findIndex((x, j) => j < common && x !== base[j]);
  return at < 0 && cur.length !== base.length ? common : at;
}

const engines = [await loadCheckout(process.cwd()), await loadCheckout(args.baseline)] as const;
let files = 0;
let events = 0;
let points = 0;
let differing = 0;
for (const dir of positionals) {
  const dataset = openDataset(dir);
  const ids = deviceIds(dataset.files);
  dataset.files.forEach((file, i) => {
    const f = loadFile(dataset, file, ids[i]!);
    const [cur, base] = [replay(engines[0], f), replay(engines[1], f)];
    files++;
    events += base.events.length;
    points += base.points.length;
    let differs = false;
    for (const what of ['events', 'points'] as const) {
      const at = firstDifference(cur[what], base[what]);
      if (at < 0) continue;
      differs = true;
      process.stdout.write(`${f.name}: ${cur[what].length} ${what} here, ${base[what].length} there; first difference at ${at}:\n  here  ${cur[what][at] ?? '(none)'}\n  there ${base[what][at] ?? '(none)'}\n`);
    }
    if (differs) differing++;
  });
}
process.stdout.write(`${JSON.stringify({ files, baselineEvents: events, baselinePoints: points, filesDiffering: differing })}\n`);
process.exitCode = differing > 0 ? 1 : 0;
