/**
 * `npx tsx load-tests/bench/influx-shapes.ts [--points 200000] [--rounds 3] [--only 'name;name'] [--per-message 1,10]`:
 * influxd's CPU per stored point for the write shapes the platform can produce. The same points
 * (the `telemetry` measurement of 200 simulated machines in 20 gateways, the backpressure bench's
 * fleet, 1-sample and 10-sample messages in the order they would arrive) are written in each shape
 * to a fresh influxd (its own data dir, so no shape pays for another's compactions) through the
 * platform's transport. influxd's CPU is read from /proc/<pid>/stat from the first write to one
 * second after the last answer (what the points cost it soon after, WAL and cache included), less
 * its idle CPU over as long (measured for a second before the first write). Shapes vary one thing
 * at a time from the platform's defaults (5,000-line batches, lines as they arrive, 2 writes at
 * once, no gzip, precision ms, the managed influxd's settings); some rewrite each line in another
 * spelling of the same point, some start influxd with other settings (its Go runtime's environment,
 * its `[data]` section). Besides the CPU until one second after the last answer, the table gives it
 * until influxd is idle again (the snapshots and compactions the points cost). Rounds alternate the order of
 * the shapes; the table gives the median of the rounds. Every shape's points are counted back in
 * influxd.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from '@influxdata/influxdb-client';
import { telemetryPoints } from '../../src/pipeline/index.js';
import { InfluxV1Sink, pointsToLineProtocol, queryInfluxQL, startManagedInfluxd } from '../../src/storage/index.js';
import { cpuSeconds, loadAverage, rssMiB } from './proc-stats.js';
import { median } from './stats.js';
import { Workload, type WorkloadShape } from './workload.js';
import { argOf } from './cli-args.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const argv = process.argv.slice(2);
const arg = argOf(argv);
const POINTS = Number(arg('--points', '200000'));
const ROUNDS = Number(arg('--rounds', '3'));
// Shape names hold commas (`batch 1,000`): `--only` takes them separated by semicolons.
const only = argv.includes('--only') ? new Set(arg('--only', '').split(';')) : null;
// `--per-message 10` runs one of the two fleets (1- and 10-sample messages) only.
const PER_MESSAGE = arg('--per-message', '1,10').split(',').map(Number);
const SETTLE_MS = 1000;
const DRAIN_MAX_MS = 30_000;

interface Shape {
  name: string;
  batchLines: number;
  grouped: boolean;
  concurrency: number;
  gzip: boolean;
  precision: 'ms' | 'ns';
  /** influxd's environment (the Go runtime's GOGC, GOMAXPROCS): CPU against memory, nothing stored changes. */
  env?: Record<string, string>;
  /** More `[data]` settings of the managed influxd (its cache, WAL, compactions). */
  data?: Record<string, string | number | boolean>;
  /** Another spelling of each line, the same points stored (tag or field order). */
  spelling?: (line: string) => string;
}
const BASE: Shape = { name: 'platform defaults', batchLines: 5000, grouped: false, concurrency: 2, gzip: false, precision: 'ms' };
const ALL_SHAPES: Shape[] = [
  BASE,
  { ...BASE, name: 'batch 1,000', batchLines: 1000 },
  { ...BASE, name: 'batch 2,000', batchLines: 2000 },
  { ...BASE, name: 'batch 10,000', batchLines: 10_000 },
  { ...BASE, name: 'grouped by series', grouped: true },
  { ...BASE, name: 'batch 1,000 grouped', batchLines: 1000, grouped: true },
  { ...BASE, name: 'batch 2,000 grouped', batchLines: 2000, grouped: true },
  { ...BASE, name: 'concurrency 1', concurrency: 1 },
  { ...BASE, name: 'concurrency 4', concurrency: 4 },
  { ...BASE, name: 'gzip', gzip: true },
  { ...BASE, name: 'precision ns', precision: 'ns' as const },
  { ...BASE, name: 'tags unsorted', spelling: tagsUnsorted },
  { ...BASE, name: 'fields sorted', spelling: fieldsSorted },
  // The managed influxd's settings (INFLUXD_ENV, INFLUXD_DATA_SETTINGS) against influxd's own.
  { ...BASE, name: "influxd's defaults", env: { GOGC: '100' }, data: { 'cache-snapshot-memory-size': '25m' } },
  { ...BASE, name: 'GOGC=100', env: { GOGC: '100' } },
  { ...BASE, name: 'GOGC=300', env: { GOGC: '300' } },
  { ...BASE, name: 'cache-snapshot 25m', data: { 'cache-snapshot-memory-size': '25m' } },
  { ...BASE, name: 'cache-snapshot 5m', data: { 'cache-snapshot-memory-size': '5m' } },
  // Tried and not kept (docs/performance.md, "What influxd pays per point").
  { ...BASE, name: 'GOMAXPROCS=1', env: { GOMAXPROCS: '1' } },
  { ...BASE, name: 'asyncpreemptoff', env: { GODEBUG: 'asyncpreemptoff=1' } },
  { ...BASE, name: 'wal-fsync-delay 10ms', data: { 'wal-fsync-delay': '10ms' } },
  { ...BASE, name: 'cache-snapshot 100m', data: { 'cache-snapshot-memory-size': '100m' } },
];
const SHAPES = ALL_SHAPES.filter((s) => !only || only.has(s.name));

const unknown = [...(only ?? [])].filter((name) => !SHAPES.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(`--only: no shape named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the shapes are:\n${ALL_SHAPES.map((s) => `  ${s.name}`).join('\n')}\n`);
  process.exit(2);
}

/** The tags in the platform's object order (site, line, device), not sorted: influxd sorts them itself. */
function tagsUnsorted(line: string): string {
  const space = line.indexOf(' ');
  const [measurement, ...tags] = line.slice(0, space).split(',');
  return `${[measurement, ...tags.reverse()].join(',')}${line.slice(space)}`;
}

/** The fields sorted by key (the platform writes them in the message's order). */
function fieldsSorted(line: string): string {
  const [key, fields, ts] = line.split(' ');
  return `${key} ${fields!.split(',').sort().join(',')} ${ts}`;
}

/** Lines of `POINTS` samples in arrival order: each device's messages in turn, as a fleet publishes them. */
function arrivalLines(samplesPerMessage: number): string[] {
  const shape: WorkloadShape = { sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage };
  const start = Date.now() - 24 * 3_600_000;
  const workload = new Workload(shape, start);
  const lines: string[] = [];
  for (let m = 0; lines.length < POINTS; m++) {
    const i = m % workload.size;
    const d = workload.devices[i]!;
    // Sampled at 1 Hz: every round of the fleet is one message interval later.
    const now = start + Math.floor(m / workload.size) * samplesPerMessage * 1000;
    lines.push(...pointsToLineProtocol(telemetryPoints({ ...d, seq: m, samples: workload.nextSamples(i, now) })).split('\n'));
  }
  return lines.slice(0, POINTS);
}

/** The batch's lines grouped by series key (the text before the first space), each series in time order. */
function grouped(lines: string[]): string[] {
  const bySeries = new Map<string, string[]>();
  for (const l of lines) {
    const key = l.slice(0, l.indexOf(' '));
    const run = bySeries.get(key);
    if (run) run.push(l);
    else bySeries.set(key, [l]);
  }
  return [...bySeries.values()].flat();
}

/**
 * influxd's CPU seconds once the writes' follow-up work (cache snapshots, compactions) is over: when
 * a second passes at its idle rate (two clock ticks of slack), or after DRAIN_MAX_MS.
 */
async function untilIdle(pid: number, idlePerMs: number): Promise<number> {
  const deadline = performance.now() + DRAIN_MAX_MS;
  let last = cpuSeconds(pid);
  for (;;) {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const now = cpuSeconds(pid);
    if (now - last <= idlePerMs * SETTLE_MS + 0.02 || performance.now() > deadline) return now;
    last = now;
  }
}

/** Samples RssAnon of /proc/<pid>/status until stop(), which returns the largest, MiB. */
function peakAnonMiB(pid: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      const kb = Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      /* gone */
    }
  };
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

interface Result {
  influxUsPerPoint: number;
  /** Including what followed until influxd was idle again. */
  drainedUsPerPoint: number;
  oursUsPerPoint: number;
  pointsPerS: number;
  requests: number;
  /** influxd's peak resident memory over its life (VmHWM), MiB. */
  influxPeakMiB: number;
  /** influxd's peak anonymous resident memory (its heap, without the TSM files it maps), sampled every 100 ms, MiB. */
  influxPeakAnonMiB: number;
}

async function measure(shape: Shape, lines: string[]): Promise<Result> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-influx-shapes-'));
  const influxd = await startManagedInfluxd({ dataDir, env: shape.env, dataSettings: shape.data });
  try {
    const db = 'shapes';
    await new InfluxV1Sink({ url: influxd.url, database: db }).connect();
    const transport = new InfluxDB({ url: influxd.url, timeout: 60_000 }).transport;
    const path = `/write?db=${db}&precision=${shape.precision}`;
    // Bodies are built before the clock starts; `ours` is what building and sending them costs.
    const spelled = shape.spelling ? lines.map(shape.spelling) : lines;
    const batches: string[][] = [];
    for (let i = 0; i < spelled.length; i += shape.batchLines) batches.push(spelled.slice(i, i + shape.batchLines));
    const pid = influxd.process.pid!;
    const anon = peakAnonMiB(pid);
    const idle0 = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const idlePerMs = (cpuSeconds(pid) - idle0) / SETTLE_MS;
    const cpu0 = cpuSeconds(pid);
    const ours0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const writer = async () => {
      while (next < batches.length) {
        let batch = batches[next++]!;
        if (shape.grouped) batch = grouped(batch);
        let body = batch.join('\n');
        if (shape.precision === 'ns') body = body.replace(/ (\d+)$/gm, ' $1000000');
        // With gzip the transport compresses the body (zlib, off the JavaScript thread) and says so.
        await transport.request(path, body, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, ...(shape.gzip ? { gzipThreshold: 0 } : {}) });
      }
    };
    await Promise.all(Array.from({ length: shape.concurrency }, writer));
    const seconds = (performance.now() - t0) / 1000;
    const ours = process.cpuUsage(ours0);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const influxCpu = cpuSeconds(pid) - cpu0 - idlePerMs * (performance.now() - t0);
    const drainedCpu = (await untilIdle(pid, idlePerMs)) - cpu0 - idlePerMs * (performance.now() - t0);
    const counted = Number((await queryInfluxQL(influxd.url, db, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
    if (counted !== lines.length) throw new Error(`${shape.name}: ${counted} points stored of ${lines.length} written`);
    return {
      influxUsPerPoint: (influxCpu * 1e6) / lines.length,
      drainedUsPerPoint: (drainedCpu * 1e6) / lines.length,
      oursUsPerPoint: (ours.user + ours.system) / lines.length,
      pointsPerS: lines.length / seconds,
      requests: batches.length,
      influxPeakMiB: rssMiB(pid).peak,
      influxPeakAnonMiB: anon.stop(),
    };
  } finally {
    await influxd.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  say(`influxd CPU per point by write shape: ${POINTS.toLocaleString('en')} points per shape, ${ROUNDS} rounds, load average ${loadAverage()}`);
  for (const perMessage of PER_MESSAGE) {
    const lines = arrivalLines(perMessage);
    const results = new Map<string, Result[]>(SHAPES.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? SHAPES : [...SHAPES].reverse();
      for (const shape of order) {
        const r = await measure(shape, lines);
        results.get(shape.name)!.push(r);
        say(`  ${perMessage}-sample messages, round ${round + 1}, ${shape.name}: influxd ${r.influxUsPerPoint.toFixed(2)} µs/point, ours ${r.oursUsPerPoint.toFixed(2)} µs/point, ${Math.round(r.pointsPerS).toLocaleString('en')} points/s`);
      }
    }
    say(`\n${perMessage}-sample messages (lines as they arrive: ${perMessage === 1 ? 'one line per device in turn' : 'runs of 10 lines of one device'}), load average ${loadAverage()}:\n`);
    say('| shape | requests | influxd µs CPU per point (median; rounds) | × defaults | until idle: µs per point, × defaults | writer µs per point | points/s | influxd peak RSS, MiB | of which anonymous (heap), MiB |');
    say('|---|---:|---|---:|---:|---:|---:|---:|---:|');
    const drainedBase = median(results.get(BASE.name)?.map((r) => r.drainedUsPerPoint) ?? [Number.NaN]);
    const base = median(results.get(BASE.name)?.map((r) => r.influxUsPerPoint) ?? [Number.NaN]);
    for (const shape of SHAPES) {
      const rs = results.get(shape.name)!;
      const m = median(rs.map((r) => r.influxUsPerPoint));
      say(`| ${shape.name} | ${rs[0]!.requests} | ${m.toFixed(2)} (${rs.map((r) => r.influxUsPerPoint.toFixed(2)).join(' / ')}) | ×${(m / base).toFixed(2)} | ${median(rs.map((r) => r.drainedUsPerPoint)).toFixed(2)}, ×${(median(rs.map((r) => r.drainedUsPerPoint)) / drainedBase).toFixed(2)} | ${median(rs.map((r) => r.oursUsPerPoint)).toFixed(2)} | ${Math.round(median(rs.map((r) => r.pointsPerS))).toLocaleString('en')} | ${Math.round(median(rs.map((r) => r.influxPeakMiB)))} | ${Math.round(median(rs.map((r) => r.influxPeakAnonMiB)))} |`);
    }
    say('');
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
