/**
 * `npx tsx --max-semi-space-size=8 load-tests/bench/batch-writer-cost.ts --baseline-rev <rev> [--rounds 5]`:
 * the batch writer's CPU per `write` call, this tree's src/storage/batch-writer.ts beside a
 * revision's, alternated round by round in one process. Each call is one one-sample message's point
 * (the shape of a 1-sample closed loop), written with 10,000, 20,000 and 40,000 calls pending, as
 * MQTT's window and HTTP ingest can leave them; the sink answers on the next turn of the event
 * loop, so what is measured is the writer (and its line protocol), not storage.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BatchWriter, Point, Sink } from '../../src/storage/index.js';
import { baselineSrc } from './micro.js';
import { loadAverage } from './proc-stats.js';
import { median } from './stats.js';
import { argOf } from './cli-args.js';

const argv = process.argv.slice(2);
const arg = argOf(argv);
const baselineRev = arg('--baseline-rev');
if (!baselineRev) throw new Error('usage: batch-writer-cost.ts --baseline-rev <rev> [--rounds 5]');
const rounds = Number(arg('--rounds', '5'));
const CALLS = 200_000;
const say = (s: string) => process.stdout.write(`${s}\n`);

type Writer = new (sink: Sink, opts: { maxBatchLines: number }) => BatchWriter;
const variants: [string, Writer][] = [
  ['current', (await import('../../src/storage/batch-writer.js')).BatchWriter],
  [baselineRev, ((await import(pathToFileURL(join(baselineSrc(baselineRev), 'storage', 'batch-writer.ts')).href)) as { BatchWriter: Writer }).BatchWriter],
];

const sink: Sink = {
  name: 'next turn',
  connect: async () => undefined,
  ping: async () => undefined,
  close: async () => undefined,
  write: (body) => new Promise((resolve, reject) => setImmediate(() => (body.length > 0 ? resolve() : reject(new Error('empty body'))))),
};

const point = (i: number): Point => ({ measurement: 'telemetry', tags: { site: `site-${i % 20}`, line: 'line-01', device: `m-${i % 10}` }, fields: { state: 2, power_kw: 19.31, energy_kwh: 474806.745, temperature_c: 52.59 }, ts: 1_700_000_000_000 + i });

/** CPU µs per write call with `pending` calls outstanding. */
async function run(Writer: Writer, pending: number): Promise<number> {
  const writer = new Writer(sink, { maxBatchLines: 5000 });
  const waiting: Promise<void>[] = [];
  let head = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    waiting.push(writer.write([point(i)]));
    if (waiting.length - head >= pending) await waiting[head++];
  }
  await Promise.all(waiting.slice(head));
  await writer.close();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / CALLS;
}

say(`batch writer, CPU per write call of one point, this tree vs ${baselineRev}, ${rounds} rounds, load average ${loadAverage()}`);
for (const pending of [10_000, 20_000, 40_000]) {
  const us = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, Writer] of r % 2 === 0 ? variants : [...variants].reverse()) us.get(name)!.push(await run(Writer, pending));
  }
  const [cur, base] = variants.map(([name]) => median(us.get(name)!));
  say(`${pending.toLocaleString('en')} pending: current ${cur!.toFixed(2)} µs per write [${us.get('current')!.map((x) => x.toFixed(2)).join(' ')}], ${baselineRev} ${base!.toFixed(2)} [${us.get(baselineRev)!.map((x) => x.toFixed(2)).join(' ')}]; ×${(cur! / base!).toFixed(2)}`);
}
