/**
 * `npx tsx load-tests/bench/fleet-memory.ts --baseline-rev <rev> [--seconds 40] [--rate 20000] [--rounds 2]`:
 * the platform's peak RSS with the full bench's fleet (`npm run bench`: 20 gateways of 5,000
 * simulated machines, 10 samples per message), this tree beside a revision. Per round and tree,
 * in alternating order: a fresh Mosquitto and a fresh platform (each tree's own npm start flags),
 * the same open-loop rate of samples for `seconds` (every machine sends a message every few
 * seconds, so every one of them is tracked by the analytics engine and holds its rules' state),
 * then everything drained. Prints per run the peak RSS (VmHWM), the RSS and V8 heap at the end,
 * and the samples stored; then the medians per tree. One influxd serves all runs (a database per
 * run). The same rate for both trees: RSS then differs by what each keeps, not by how fast it is.
 */
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { argOf } from './cli-args.js';
import { Fleet } from './fleet.js';
import { buildPlatform, buildRevision, scrape, spawnBuiltPlatform } from './platform-process.js';
import { drain, StoredCounter } from './platform-phases.js';
import { loadAverage, rssMiB } from './proc-stats.js';
import { Workload } from './workload.js';

const arg = argOf(process.argv.slice(2));
const baselineRev = arg('--baseline-rev');
if (!baselineRev) throw new Error('usage: fleet-memory.ts --baseline-rev <rev> [--seconds 40] [--rate 20000] [--rounds 2]');
const seconds = Number(arg('--seconds', '40'));
const rate = Number(arg('--rate', '20000'));
const rounds = Number(arg('--rounds', '2'));
const say = (s: string) => process.stdout.write(`${s}\n`);

interface RunResult {
  peakRss: number;
  endRss: number;
  heapUsed: number;
  stored: number;
  load: number;
}

const [influx, base] = await Promise.all([startInfluxd(), buildRevision(baselineRev, say), buildPlatform(say)]).then(([i, b]) => [i, b] as const);
const trees = [
  { name: 'this tree', dist: undefined as string | undefined },
  { name: base.sha, dist: base.dist },
];
const results = new Map<string, RunResult[]>(trees.map((t) => [t.name, []]));

async function runOnce(tree: (typeof trees)[number], round: number): Promise<RunResult> {
  const mosquitto = await startMosquitto();
  const db = `fleetmem_${round}_${tree.dist ? 'base' : 'this'}`;
  const platform = await spawnBuiltPlatform({ dist: tree.dist, env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: db, PP_AUTH: 'off', PP_MQTT_CLIENT_ID: `pp-${db}` } });
  // The full bench's fleet (options.ts, full mode).
  const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 25, samplesPerMessage: 10 }), mosquitto.url, db);
  const stored = new StoredCounter(platform.url);
  try {
    await fleet.connect();
    await fleet.run({ kind: 'rate', samplesPerS: rate }, seconds * 1000);
    if ((await drain(stored, fleet, 120_000)) < 0) throw new Error(`${tree.name}: not drained within 120 s`);
    const m = await scrape(platform.url, ['pp_process_nodejs_heap_size_used_bytes']);
    const { rss, peak } = rssMiB(platform.pid);
    return { peakRss: peak, endRss: rss, heapUsed: m.pp_process_nodejs_heap_size_used_bytes! / 2 ** 20, stored: stored.value, load: loadAverage() };
  } finally {
    stored.stop();
    await fleet.stop().catch(() => undefined);
    await platform.stop();
    await mosquitto.stop();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  for (let round = 0; round < rounds; round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      const r = await runOnce(tree, round);
      results.get(tree.name)!.push(r);
      say(`round ${round + 1} ${tree.name}: peak RSS ${r.peakRss.toFixed(0)} MiB, at the end RSS ${r.endRss.toFixed(0)} MiB, heap used ${r.heapUsed.toFixed(0)} MiB; ${r.stored.toLocaleString('en')} samples stored; load ${r.load.toFixed(1)}`);
    }
  }
} finally {
  await influx.stop();
}
for (const [name, rs] of results) say(`${name}: median peak RSS ${median(rs.map((r) => r.peakRss)).toFixed(0)} MiB, heap used at the end ${median(rs.map((r) => r.heapUsed)).toFixed(0)} MiB (${rs.length} runs)`);
process.exit(0);
