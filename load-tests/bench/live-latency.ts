/**
 * The full bench's half-rate latency phase alone, this tree beside a revision, and where the time
 * goes: `npx tsx load-tests/bench/live-latency.ts --baseline-rev <rev> [--rate 27747] [--seconds 15]
 * [--rounds 3] [--current-env PP_X=v,...]`.
 *
 * Each round runs each tree in turn (order alternated per round), each with a fresh Mosquitto and
 * its own database on one influxd: the full bench's fleet (5,000 simulated machines, 20 gateways,
 * 10-sample messages, QoS 1), a live-dashboard WebSocket client subscribed to everything, a
 * warm-up (every device reports), then an open-loop offer at `--rate` samples/s. Latency is what
 * the full bench measures: a message's newest sample timestamp (stamped by the gateway) to its
 * update arriving on the WebSocket. Beside it, from the platform's /metrics over the same window,
 * what each storage write cost: lines per write, how long its oldest line waited for the write to
 * start (`pp_write_wait_seconds`, batch fill; trees without it show none), how long InfluxDB took
 * to answer (`pp_write_duration_seconds`), and how many live updates the per-device throttle
 * merged; plus the platform's CPU per stored sample, and the harness's own event-loop delay (the
 * fleet and the WebSocket client share its thread, so a late timer there reads as latency).
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { argOf } from './cli-args.js';
import { Fleet } from './fleet.js';
import { buildPlatform, buildRevision, spawnBuiltPlatform } from './platform-process.js';
import { drain, StoredCounter } from './platform-phases.js';
import { cpuSeconds, loadAverage, rssMiB } from './proc-stats.js';
import { median, percentiles, type Percentiles } from './stats.js';
import { LiveWatcher } from './watchers.js';
import { Workload } from './workload.js';

const arg = argOf(process.argv.slice(2));
const rate = Number(arg('--rate', '27747'));
const seconds = Number(arg('--seconds', '15'));
const rounds = Number(arg('--rounds', '3'));
const baselineRev = arg('--baseline-rev');
const currentEnv = Object.fromEntries((arg('--current-env') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
if (!(rate > 0) || !(seconds > 0) || !(rounds >= 1)) throw new Error('--rate, --seconds and --rounds must be positive');
for (const k of Object.keys(currentEnv)) if (!k.startsWith('PP_')) throw new Error(`--current-env takes PP_NAME=value pairs, got ${k}`);
const SHAPE = { sites: 20, linesPerSite: 10, machinesPerLine: 25, samplesPerMessage: 10 };

const t0 = Date.now();
const say = (s: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

interface Hist {
  sum: number;
  count: number;
  /** Cumulative counts by upper bound (le), ascending. */
  buckets: [number, number][];
}

/** A histogram's sum, count and buckets from Prometheus text (summed over label sets). */
function histogram(text: string, name: string): Hist {
  const h: Hist = { sum: 0, count: 0, buckets: [] };
  const byLe = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_sum`)) h.sum += value;
    else if (line.startsWith(`${name}_count`)) h.count += value;
    else if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le !== undefined) byLe.set(Number(le), (byLe.get(Number(le)) ?? 0) + value);
    }
  }
  h.buckets = [...byLe].sort((a, b) => a[0] - b[0]);
  return h;
}

function delta(a: Hist, b: Hist): Hist {
  const before = new Map(a.buckets);
  return { sum: b.sum - a.sum, count: b.count - a.count, buckets: b.buckets.map(([le, n]) => [le, n - (before.get(le) ?? 0)]) };
}

/** The upper bound of the bucket holding quantile q (a histogram's resolution). */
function bucketQuantile(h: Hist, q: number): number {
  for (const [le, n] of h.buckets) if (n >= q * h.count) return le;
  return Number.NaN;
}

interface Run {
  tree: string;
  round: number;
  latencyMs: Percentiles;
  /** The same clock to the broker's delivery to a plain subscriber of one site (a twentieth of the traffic): what precedes the platform. */
  toBrokerMs: Percentiles;
  storedSamplesPerS: number;
  meanBatchLines: number;
  writes: number;
  /** Batch fill: mean and the p99 bucket's upper bound (ms); NaN where the tree has no such metric. */
  waitMs: { mean: number; p99le: number };
  writeMs: { mean: number; p99le: number };
  liveSent: number;
  liveCoalesced: number;
  platformCpuUsPerSample: number;
  /** The platform's event-loop delay over the window (prom-client's monitor, reset by each scrape): p99 and max, ms. */
  platformLoopDelayMs: { p99: number; max: number };
  /** The platform's major (mark-compact) collections in the window: count, and the longest bucket bound, ms. */
  platformMajorGc: { count: number; p99le: number };
  harnessLoopDelayP99Ms: number;
  /** The platform's peak RSS (VmHWM, MiB) over its whole run: the closed-loop warm-up at the maximum included. */
  platformPeakRssMiB: number;
  loadAvg: number;
}

async function metricsText(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${url}/metrics: HTTP ${res.status}`);
  return res.text();
}

const METRICS = ['pp_write_batch_lines', 'pp_write_wait_seconds', 'pp_write_duration_seconds'] as const;

async function measure(tree: string, dist: string | undefined, env: Record<string, string>, round: number, influxUrl: string): Promise<Run> {
  const mosquitto = await startMosquitto();
  const token = `ppt_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const platform = await spawnBuiltPlatform({
    env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influxUrl, PP_INFLUX_DATABASE: `lat_${tree.replace(/\W/g, '_')}_${round}`, PP_MQTT_CLIENT_ID: `pp-lat-${round}`, PP_WRITE_BATCH_LINES: '5000', PP_BOOTSTRAP_ADMIN_TOKEN: token, ...env },
    ...(dist ? { dist } : {}),
  });
  const workload = new Workload(SHAPE);
  const fleet = new Fleet(workload, mosquitto.url, `lat-gw-${round}`);
  const live = new LiveWatcher();
  const stored = new StoredCounter(platform.url);
  const viaBroker = await mqtt.connectAsync(mosquitto.url, { clientId: `lat-sub-${round}`, protocolVersion: 5, clean: true });
  let toBroker: number[] | null = null;
  viaBroker.on('message', (_topic, payload) => {
    if (!toBroker) return;
    const { samples } = JSON.parse(payload.toString()) as { samples: { ts: number }[] };
    toBroker.push(Date.now() - Math.max(...samples.map((x) => x.ts)));
  });
  try {
    await viaBroker.subscribeAsync(`pp/v1/${workload.devices[0]!.site}/+/+/metrics`, { qos: 0 });
    await Promise.all([fleet.connect(), live.connect(platform.url, token)]);
    await fleet.run({ kind: 'window', consumed: () => stored.value, aheadSamples: 60_000 }, 3000 + ((workload.size * SHAPE.samplesPerMessage) / 20_000) * 1000);
    await drain(stored, fleet, 60_000);
    await fleet.run({ kind: 'rate', samplesPerS: rate }, 3000); // settle at the rate, not measured
    const text0 = await metricsText(platform.url, token);
    const s0 = await stored.poll();
    const cpu0 = cpuSeconds(platform.pid);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    live.record();
    toBroker = [];
    const started = performance.now();
    await fleet.run({ kind: 'rate', samplesPerS: rate }, seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const s1 = await stored.poll();
    await drain(stored, fleet, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // the last live updates
    const latencies = live.pause();
    const brokerLatencies = toBroker;
    toBroker = null;
    loop.disable();
    const cpu1 = cpuSeconds(platform.pid);
    const peakRss = rssMiB(platform.pid).peak;
    const text1 = await metricsText(platform.url, token);
    const [lines, wait, write] = METRICS.map((m) => delta(histogram(text0, m), histogram(text1, m)));
    const counter = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(name)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const storedAll = (await stored.poll()) - s0;
    const gauge = (text: string, name: string) => Number(Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? Number.NaN).toFixed(4));
    const majorGc = delta(histogram(text0.split('\n').filter((l) => l.includes('kind="major"')).join('\n'), 'pp_process_nodejs_gc_duration_seconds'), histogram(text1.split('\n').filter((l) => l.includes('kind="major"')).join('\n'), 'pp_process_nodejs_gc_duration_seconds'));
    return {
      tree,
      round,
      latencyMs: percentiles(latencies),
      toBrokerMs: percentiles(brokerLatencies),
      storedSamplesPerS: Math.round((s1 - s0) / elapsed),
      meanBatchLines: Math.round(lines!.sum / Math.max(1, lines!.count)),
      writes: lines!.count,
      waitMs: { mean: wait!.count ? Number(((wait!.sum / wait!.count) * 1000).toFixed(1)) : Number.NaN, p99le: bucketQuantile(wait!, 0.99) * 1000 },
      writeMs: { mean: Number(((write!.sum / Math.max(1, write!.count)) * 1000).toFixed(1)), p99le: bucketQuantile(write!, 0.99) * 1000 },
      liveSent: counter(text1, 'pp_live_messages_sent_total{type="telemetry"') - counter(text0, 'pp_live_messages_sent_total{type="telemetry"'),
      liveCoalesced: counter(text1, 'pp_live_coalesced_total') - counter(text0, 'pp_live_coalesced_total'),
      platformLoopDelayMs: { p99: gauge(text1, 'pp_process_nodejs_eventloop_lag_p99_seconds') * 1000, max: gauge(text1, 'pp_process_nodejs_eventloop_lag_max_seconds') * 1000 },
      platformMajorGc: { count: majorGc.count, p99le: bucketQuantile(majorGc, 0.99) * 1000 },
      platformCpuUsPerSample: Number((((cpu1 - cpu0) * 1e6) / Math.max(1, storedAll)).toFixed(2)),
      harnessLoopDelayP99Ms: Number((loop.percentile(99) / 1e6).toFixed(1)),
      platformPeakRssMiB: Math.round(peakRss),
      loadAvg: loadAverage(),
    };
  } finally {
    stored.stop();
    live.close();
    await viaBroker.endAsync().catch(() => undefined);
    await fleet.stop().catch(() => undefined);
    await platform.stop().catch(() => undefined);
    await mosquitto.stop();
  }
}

async function main(): Promise<void> {
  say(`live latency at ${rate.toLocaleString('en')} samples/s, ${seconds} s × ${rounds} rounds; load average ${loadAverage()} on ${cpus().length} cores`);
  const [influx, , base] = await Promise.all([startInfluxd(), buildPlatform(say), baselineRev ? buildRevision(baselineRev, say) : Promise.resolve(null)]);
  const trees: { name: string; dist?: string; env: Record<string, string> }[] = [{ name: 'this tree', env: currentEnv }];
  if (base) trees.push({ name: base.sha, dist: base.dist, env: {} });
  const runs: Run[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? trees : [...trees].reverse();
      for (const t of order) {
        const r = await measure(t.name, t.dist, t.env, round, influx.url);
        runs.push(r);
        say(`round ${round}, ${t.name}: p50 ${r.latencyMs.p50} / p95 ${r.latencyMs.p95} / p99 ${r.latencyMs.p99} ms (n ${r.latencyMs.n}), of which to the broker p50 ${r.toBrokerMs.p50} / p99 ${r.toBrokerMs.p99} ms; ${r.storedSamplesPerS.toLocaleString('en')} samples/s stored; ${r.writes} writes of ${r.meanBatchLines} lines; fill wait mean ${r.waitMs.mean} ms (p99 ≤ ${r.waitMs.p99le}); write mean ${r.writeMs.mean} ms (p99 ≤ ${r.writeMs.p99le}); live sent ${r.liveSent}, merged ${r.liveCoalesced}; platform ${r.platformCpuUsPerSample} µs CPU per sample, loop delay p99 ${r.platformLoopDelayMs.p99} / max ${r.platformLoopDelayMs.max} ms, ${r.platformMajorGc.count} major GCs (p99 ≤ ${r.platformMajorGc.p99le} ms), peak RSS ${r.platformPeakRssMiB} MiB; harness loop delay p99 ${r.harnessLoopDelayP99Ms} ms; load ${r.loadAvg}`);
      }
    }
  } finally {
    await influx.stop();
  }
  process.stdout.write(`\n| tree | latency p50 / p95 / p99, ms (medians of ${rounds}) | p99 per round | to the broker p50 / p99, ms | lines per write | fill wait, mean ms | write, mean ms | platform µs CPU per sample | major GCs | peak RSS, MiB |\n|---|---|---|---|---|---|---|---|---|---|\n`);
  for (const t of trees) {
    const mine = runs.filter((r) => r.tree === t.name);
    const med = (f: (r: Run) => number) => median(mine.map(f));
    process.stdout.write(`| ${t.name}${Object.keys(t.env).length ? ` (${Object.entries(t.env).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''} | ${med((r) => r.latencyMs.p50)} / ${med((r) => r.latencyMs.p95)} / ${med((r) => r.latencyMs.p99)} | ${mine.map((r) => r.latencyMs.p99).join(', ')} | ${med((r) => r.toBrokerMs.p50)} / ${med((r) => r.toBrokerMs.p99)} | ${med((r) => r.meanBatchLines)} | ${med((r) => r.waitMs.mean)} | ${med((r) => r.writeMs.mean)} | ${med((r) => r.platformCpuUsPerSample)} | ${med((r) => r.platformMajorGc.count)} | ${med((r) => r.platformPeakRssMiB)} |\n`);
  }
  say(`done; load average ${loadAverage()}`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`live-latency failed: ${err.stack}\n`);
    process.exit(1);
  },
);
