/**
 * Backpressure and memory, this tree side by side with an earlier revision (`--baseline-rev`),
 * in the same run: each variant has its own Mosquitto (shipped configuration) and platform
 * process, on one influxd, and every phase runs for both, one after the other.
 *
 * - Closed-loop maximum with 10-sample and with 1-sample messages (200 devices): stored rate,
 *   the platform's CPU per sample, peak RSS, most messages in flight.
 * - Overload: twice the best 10-sample closed-loop rate offered for `overloadMs`: stored rate
 *   (against that rate), peak RSS, how long the backlog took to drain after, and every acknowledged sample
 *   stored.
 * - Backlog: the platform stopped, `backlogSamples` queued in Mosquitto for its persistent
 *   session, then restarted: catch-up rate, peak RSS, most in flight (counted in InfluxDB, not on
 *   the platform, which may not answer HTTP while it catches up).
 * - InfluxDB alone, at the platform's concurrency (one write of 5,000 lines in flight) and at
 *   its best here (several writers, larger batches).
 */
import { brokerDrops, drainedOrLost, OVERLOAD_DRAIN_TIMEOUT_MS, overloadVerdict } from './backpressure-report.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import type { InfluxdProcess } from '../../test/support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../../test/support/mosquitto.js';
import { Fleet } from './fleet.js';
import { measureInflux } from './limits.js';
import { buildRevision, scrape, shippedWindow, spawnBuiltPlatform, type PlatformProcess } from './platform-process.js';
import { drain, StoredCounter } from './platform-phases.js';
import { loadAverage, RssSampler, rssMiB, UsageWindow } from './proc-stats.js';
import { median } from './stats.js';
import { Workload, type WorkloadShape } from './workload.js';
import { atPeak, describe, memorySplitArgs, readMajorGcs, readMemorySplit, type MemorySample } from './memory-split.js';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BackpressureOptions {
  baselineRev: string;
  repetitions: number;
  closedLoopMs: number;
  warmupMs: number;
  overloadMs: number;
  backlogSamples: number;
  /** PP_MQTT_RECEIVE_MAXIMUM for both platforms; null: each runs its own tree's default (shippedWindow). */
  receiveMaximum: number | null;
  batchLines: number;
  /** Only the 10-sample closed loop and the overload (`--only-overload`). */
  onlyOverload: boolean;
  /** Environment for this tree's platform only (`--current-env`), e.g. a setting to compare against the baseline. */
  currentEnv: Record<string, string>;
}

export interface ClosedLoop {
  samplesPerS: number;
  cpuUsPerSample: number;
  peakRssMiB: number;
  peakInflight: number;
  loadAvg1: number;
  /** What limits the loop: CPU of each process (% of one core), the machine's (% of all cores), the platform's thread. */
  split: CpuSplit;
}

export interface CpuSplit {
  /** platform, mosquitto, influxd, generator (this harness: the fleet and its polls), % of one core. */
  cpuPct: Record<string, number>;
  /** The whole machine, % of all its cores (200 % = a 2-core machine fully busy); other work included. */
  machinePct: number;
  /** The named processes' sum, % of one core. */
  oursPct: number;
  /** The platform's JavaScript thread: busy share (event-loop utilisation, NaN for a revision without the metric), % of the time on a CPU, % runnable but waiting for a CPU. */
  loopBusyPct: number;
  threadRunPct: number;
  threadWaitPct: number;
}

const LOOP_ACTIVE = 'pp_process_event_loop_active_seconds_total';

/**
 * The platform's event-loop busy seconds and when they were read (the middle of the request: on a
 * loaded machine a scrape takes a while to answer, and either end alone would skew the share);
 * NaN when it does not export them.
 */
async function loopActive(url: string): Promise<{ s: number; at: number }> {
  const sent = performance.now();
  const m = await scrape(url, [LOOP_ACTIVE]).catch(() => null);
  const s = m?.[LOOP_ACTIVE] ?? 0;
  return { s: s > 0 ? s : Number.NaN, at: (sent + performance.now()) / 2 };
}

export interface Overload {
  offeredSamplesPerS: number;
  storedSamplesPerS: number;
  /** Stored rate ÷ this variant's best 10-sample closed-loop rate. */
  ofMaximum: number;
  peakRssMiB: number;
  peakInflight: number;
  /** CPU over the overload, % of one core: platform, its Mosquitto, influxd, the harness (fleet). */
  cpuPct: Record<string, number>;
  drainMs: number;
  published: number;
  /** Samples stored by the platform's own count (pp_samples_stored_total): a redelivered sample stored again counts twice. */
  stored: number;
  /** New samples in InfluxDB over the offer and drain (a sample stored twice is one point): what `lost` is judged on. */
  inInfluxDb: number;
  /** Over the offer: the platform's storage writes (count, mean latency, mean lines) and retries. */
  writes: { count: number; meanMs: number; meanLines: number; retries: number };
  /** Samples the fleet handed to the broker per second during the offer (what was offered is not always what could be sent). */
  publishedSamplesPerS: number;
  /** The variant's Mosquitto: its highest RSS over the offer (its queue for the platform's session lives there). */
  brokerPeakRssMiB: number;
  /** Messages the broker dropped over the offer and drain (its queue limit), as the platform reports them (`pp_broker_dropped_messages`, from Mosquitto's $SYS, up to sys_interval old); NaN for a tree without that metric. */
  brokerDropped: number;
  /** Where the platform's memory was at its highest RSS over the offer and drain (memory-split.ts), and what full collections left. */
  memoryAtPeak: MemorySample | null;
  survivedFullGcMiB: number[];
}

export interface Backlog {
  samples: number;
  catchUpS: number;
  samplesPerS: number;
  peakRssMiB: number;
  stored: number;
  /** Empty when the platform survived; else how it ended. */
  failure: string;
}

export interface VariantResult {
  label: string;
  rev: string;
  /** RSS of the platform process right after it is ready, before any load. */
  idleRssMiB: number;
  /** Its MQTT window in messages; the closed loop's fleet stays three of them ahead. */
  window: number;
  closed10: ClosedLoop[];
  closed1: ClosedLoop[];
  overload: Overload | null;
  backlog: Backlog | null;
}

export interface BackpressureResult {
  options: BackpressureOptions;
  current: VariantResult;
  baseline: VariantResult;
  /** current ÷ baseline, medians. */
  speedup: { closed10: number; closed1: number };
  influx: { platformConcurrency: { samplesPerS: number; batchLines: number; writers: number }; best: { samplesPerS: number; batchLines: number; writers: number } };
  loadAvg: { start: number; end: number };
}

const SHAPE10: WorkloadShape = { sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 };
const SHAPE1: WorkloadShape = { ...SHAPE10, samplesPerMessage: 1 };

interface Variant {
  label: string;
  rev: string;
  dist?: string;
  /** The platform samples its memory here (memory-split.ts). */
  memoryFile: string;
  mosquitto: MosquittoProcess;
  platform: PlatformProcess | null;
  fleets: { f10: Fleet; f1: Fleet };
  result: VariantResult;
}

/** A variant's MQTT window: --current-env's for this tree, else the one both are given, else its tree's default. */
function windowOf(label: string, baseSha: string, opts: BackpressureOptions): number {
  const set = label === 'current' ? (opts.currentEnv.PP_MQTT_RECEIVE_MAXIMUM ?? opts.receiveMaximum) : opts.receiveMaximum;
  return set !== null && set !== undefined ? Number(set) : shippedWindow(label === 'current' ? undefined : baseSha);
}

export async function measureBackpressure(influx: InfluxdProcess, opts: BackpressureOptions, say: (s: string) => void): Promise<BackpressureResult> {
  const loadStart = loadAverage();
  say(`backpressure: building ${opts.baselineRev} for the side-by-side runs`);
  const base = await buildRevision(opts.baselineRev, say);
  const env = (v: string, db: string, url: string) => ({ PP_MQTT_URL: url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: db, PP_MQTT_CLIENT_ID: `pp-bp-${v}`, PP_AUTH: 'off', PP_WRITE_BATCH_LINES: String(opts.batchLines), ...(opts.receiveMaximum !== null ? { PP_MQTT_RECEIVE_MAXIMUM: String(opts.receiveMaximum) } : {}), ...(v === 'current' ? opts.currentEnv : {}) });
  const tmp = fileURLToPath(new URL('../../.tmp/', import.meta.url));
  mkdirSync(tmp, { recursive: true });
  const variants: Variant[] = [];
  for (const [label, rev, dist] of [
    ['current', 'working tree', undefined],
    ['baseline', base.sha, base.dist],
  ] as const) {
    const mosquitto = await startMosquitto();
    const memoryFile = `${tmp}bp-memory-${label}-${process.pid}.jsonl`;
    const platform = await spawnBuiltPlatform({ env: env(label, `bp_${label}`, mosquitto.url), dist, nodeArgs: memorySplitArgs(memoryFile, 250) });
    const fleets = { f10: new Fleet(new Workload(SHAPE10), mosquitto.url, `bp-${label}-10`), f1: new Fleet(new Workload(SHAPE1), mosquitto.url, `bp-${label}-1`) };
    await Promise.all([fleets.f10.connect(), fleets.f1.connect()]);
    const idleRssMiB = Math.round(rssMiB(platform.pid).rss);
    variants.push({ label, rev, dist, memoryFile, mosquitto, platform, fleets, result: { label, rev, idleRssMiB, window: windowOf(label, base.sha, opts), closed10: [], closed1: [], overload: null, backlog: null } });
  }
  try {
    // Closed loop, interleaved: the two variants of a repetition run back to back.
    for (let r = 0; r < opts.repetitions; r++) {
      for (const shape of opts.onlyOverload ? (['closed10'] as const) : (['closed10', 'closed1'] as const)) {
        const order = r % 2 === 0 ? variants : [...variants].reverse();
        for (const v of order) {
          const fleet = shape === 'closed10' ? v.fleets.f10 : v.fleets.f1;
          const got = await closedLoop(v, fleet, opts, influx);
          v.result[shape].push(got);
          const c = got.split;
          say(`  ${v.label} ${shape === 'closed10' ? '10' : '1'}-sample messages, closed loop: ${got.samplesPerS.toLocaleString('en')} samples/s, ${got.cpuUsPerSample} µs CPU/sample, peak RSS ${got.peakRssMiB} MiB, in flight ≤ ${got.peakInflight}, load ${got.loadAvg1}; CPU platform ${c.cpuPct.platform} % / Mosquitto ${c.cpuPct.mosquitto} % / influxd ${c.cpuPct.influxd} % / generator ${c.cpuPct.generator} % (sum ${c.oursPct} %), machine ${c.machinePct} % of 200 %; platform thread busy ${Number.isFinite(c.loopBusyPct) ? `${c.loopBusyPct} %` : '– (no such metric)'}, on a CPU ${c.threadRunPct} %, waiting for one ${c.threadWaitPct} %`);
        }
      }
    }
    for (const v of variants) {
      // Twice the best closed-loop rate: on a shared machine a median of two can be a bad minute.
      const max = Math.max(...v.result.closed10.map((c) => c.samplesPerS));
      v.result.overload = await overload(v, max, opts, say, () => telemetryCount(influx.url, `bp_${v.label}`), () => influx.pid());
      const o = v.result.overload;
      say(`  ${v.label} overload (${o.offeredSamplesPerS.toLocaleString('en')} samples/s offered): stored ${o.storedSamplesPerS.toLocaleString('en')} samples/s (${overloadVerdict(o.ofMaximum)}), peak RSS ${o.peakRssMiB} MiB, in flight ≤ ${o.peakInflight}, ${o.writes.count} writes of ${o.writes.meanLines} lines in ${o.writes.meanMs} ms on average, ${o.writes.retries} retried, the fleet sent ${o.publishedSamplesPerS.toLocaleString('en')} samples/s, Mosquitto's RSS ≤ ${o.brokerPeakRssMiB} MiB, ${brokerDrops(o.brokerDropped)}, ${drainedOrLost(o)}, published ${o.published.toLocaleString('en')}, stored ${o.stored.toLocaleString('en')} (${o.inInfluxDb.toLocaleString('en')} new in InfluxDB)`);
      if (o.memoryAtPeak) say(`    at its peak: ${describe(o.memoryAtPeak)}; full collections left ${o.survivedFullGcMiB.join(' ')} MiB`);
    }
    for (const v of opts.onlyOverload ? [] : variants) {
      v.result.backlog = await backlog(v, influx, env(v.label, `bp_backlog_${v.label}`, v.mosquitto.url), opts, say);
      const b = v.result.backlog;
      say(`  ${v.label} backlog of ${b.samples.toLocaleString('en')} samples: ${b.failure || `caught up in ${b.catchUpS} s (${b.samplesPerS.toLocaleString('en')} samples/s)`}, peak RSS ${b.peakRssMiB} MiB, stored ${b.stored.toLocaleString('en')}`);
    }
  } finally {
    for (const v of variants) {
      await Promise.all([v.fleets.f10.stop(), v.fleets.f1.stop()]).catch(() => undefined);
      await v.platform?.stop().catch(() => undefined);
      await v.mosquitto.stop();
    }
  }
  // The platform's own concurrency: PP_WRITE_CONCURRENCY's default, batches of PP_WRITE_BATCH_LINES.
  const platformWriters = 2;
  const [cur, bl] = variants.map((v) => v.result) as [VariantResult, VariantResult];
  const speed = (k: 'closed10' | 'closed1') => Number((median(cur[k].map((c) => c.samplesPerS)) / median(bl[k].map((c) => c.samplesPerS))).toFixed(2));
  if (opts.onlyOverload) {
    const none = { samplesPerS: Number.NaN, batchLines: opts.batchLines, writers: platformWriters };
    return { options: opts, current: cur, baseline: bl, speedup: { closed10: speed('closed10'), closed1: Number.NaN }, influx: { platformConcurrency: none, best: none }, loadAvg: { start: loadStart, end: loadAverage() } };
  }
  say('backpressure: InfluxDB alone at the platform\'s concurrency and at its best');
  const atPlatform = await measureInflux(influx, 'bp_limit_platform', SHAPE10, { durationMs: opts.closedLoopMs, batchLines: opts.batchLines, concurrency: platformWriters, progress: () => undefined });
  // Its best: the fastest of a few writer counts and batch sizes (more is not always faster on 2 cores).
  let best = { samplesPerS: atPlatform.samplesPerS, batchLines: opts.batchLines, writers: platformWriters };
  for (const [writers, batchLines] of [
    [1, 5_000],
    [2, 10_000],
    [4, 20_000],
  ] as const) {
    const got = await measureInflux(influx, `bp_limit_${writers}`, SHAPE10, { durationMs: opts.closedLoopMs, batchLines, concurrency: writers, progress: () => undefined });
    say(`  InfluxDB alone, ${writers} writers, ${batchLines}-line batches: ${got.samplesPerS.toLocaleString('en')} samples/s`);
    if (got.samplesPerS > best.samplesPerS) best = { samplesPerS: got.samplesPerS, batchLines, writers };
  }
  return {
    options: opts,
    current: cur,
    baseline: bl,
    speedup: { closed10: speed('closed10'), closed1: speed('closed1') },
    influx: { platformConcurrency: { samplesPerS: atPlatform.samplesPerS, batchLines: opts.batchLines, writers: platformWriters }, best },
    loadAvg: { start: loadStart, end: loadAverage() },
  };
}

async function closedLoop(v: Variant, fleet: Fleet, opts: BackpressureOptions, influx: InfluxdProcess): Promise<ClosedLoop> {
  const platform = v.platform!;
  const lead = 3 * v.result.window * fleet.workload.samplesPerMessage;
  const stored = new StoredCounter(platform.url, { leadSamples: lead });
  const rss = new RssSampler(() => platform.pid);
  const usage = new UsageWindow(() => ({ platform: platform.pid, mosquitto: v.mosquitto.pid(), influxd: influx.pid(), generator: process.pid }));
  let loop0: Promise<{ s: number; at: number }> | null = null;
  let t0 = 0;
  let from = { value: 0, at: 0 };
  try {
    await stored.poll();
    // The fleet counts from what this platform has stored so far (earlier phases included).
    const base = stored.value - fleet.published;
    await fleet.run({ kind: 'window', consumed: () => stored.value - base, aheadSamples: lead }, opts.closedLoopMs, (elapsed) => {
      if (t0 === 0 && elapsed >= opts.warmupMs) {
        t0 = performance.now();
        from = stored.last;
        usage.start();
        loop0 = loopActive(platform.url);
        rss.reset();
      }
    });
    const u = usage.stop();
    // The rate between two polls, by when each was read (a poll may be up to 500 ms old).
    await stored.poll();
    const seconds = (stored.last.at - from.at) / 1000;
    const samples = stored.last.value - from.value;
    const [l0, l1] = await Promise.all([loop0!, loopActive(platform.url)]);
    const oursPct = Object.values(u.cpuPct).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    const split: CpuSplit = {
      cpuPct: u.cpuPct,
      machinePct: u.machinePct,
      oursPct: Number(oursPct.toFixed(1)),
      loopBusyPct: Number((((l1.s - l0.s) * 1000) / (l1.at - l0.at) * 100).toFixed(1)),
      threadRunPct: u.mainThread.platform!.runPct,
      threadWaitPct: u.mainThread.platform!.waitPct,
    };
    await drain({ value: stored.value - base, poll: async () => (await stored.poll()) - base }, fleet, 60_000);
    const rate = samples / seconds;
    return { samplesPerS: Math.round(rate), cpuUsPerSample: Number(((u.cpuPct.platform! / 100) * 1e6 / rate).toFixed(1)), peakRssMiB: Math.round(rss.peak), peakInflight: stored.peakInflight, loadAvg1: u.loadAvg1, split };
  } finally {
    stored.stop();
    rss.stop();
  }
}

const WRITE_METRICS = ['pp_write_duration_seconds_sum', 'pp_write_duration_seconds_count', 'pp_write_batch_lines_sum', 'pp_write_retries_total'];

async function overload(v: Variant, maximum: number, opts: BackpressureOptions, say: (s: string) => void, inInfluxDb: () => Promise<number>, influxdPid: () => number | null): Promise<Overload> {
  const platform = v.platform!;
  const fleet = v.fleets.f10;
  // The offer is paced by its rate, not by this count: polled only for the window's peak, as often as that needs.
  const stored = new StoredCounter(platform.url, { everyMs: 500 });
  const rss = new RssSampler(() => platform.pid);
  const brokerRss = new RssSampler(() => v.mosquitto.pid());
  const offered = Math.round(2 * maximum);
  say(`  ${v.label} overload: ${offered.toLocaleString('en')} samples/s offered for ${opts.overloadMs / 1000} s`);
  try {
    const s0 = await stored.poll();
    const c0 = await inInfluxDb();
    const p0 = fleet.acked.samples;
    const w0 = await scrape(platform.url, WRITE_METRICS);
    const baseDiff = s0 - fleet.published;
    rss.reset();
    brokerRss.reset();
    const dropped0 = (await scrape(platform.url, ['pp_broker_dropped_messages'], Number.NaN)).pp_broker_dropped_messages!;
    const memoryFrom = readMemorySplit(v.memoryFile).at(-1)?.t ?? 0;
    const usage = new UsageWindow(() => ({ platform: platform.pid, mosquitto: v.mosquitto.pid(), influxd: influxdPid(), harness: process.pid })).start();
    const t0 = performance.now();
    await fleet.run({ kind: 'rate', samplesPerS: offered }, opts.overloadMs);
    const seconds = (performance.now() - t0) / 1000;
    const cpuPct = usage.stop().cpuPct;
    const brokerPeakRssMiB = Math.round(brokerRss.peak);
    brokerRss.stop();
    const s1 = await stored.poll();
    const w1 = await scrape(platform.url, WRITE_METRICS);
    const publishedDuring = fleet.acked.samples - p0;
    const count = w1.pp_write_duration_seconds_count! - w0.pp_write_duration_seconds_count!;
    // Drained when the platform's count says so (cheap to poll), confirmed by InfluxDB's own count:
    // a platform that counts redelivered messages twice (081e86a did) would otherwise end it early.
    let drainMs = await drain({ value: stored.value - baseDiff, poll: async () => (await stored.poll()) - baseDiff }, fleet, OVERLOAD_DRAIN_TIMEOUT_MS);
    if (drainMs >= 0) {
      // InfluxDB's count, from where the offer started (the fleet had published p0 then): a
      // query over millions of points, so once a second.
      const confirmed = await drain({ value: 0, poll: async () => (await inInfluxDb()) - c0 + p0 }, fleet, OVERLOAD_DRAIN_TIMEOUT_MS - drainMs, 1000);
      drainMs = confirmed < 0 ? -1 : drainMs + confirmed;
    }
    const storedRate = (s1 - s0) / seconds;
    return {
      offeredSamplesPerS: offered,
      storedSamplesPerS: Math.round(storedRate),
      ofMaximum: Number((storedRate / maximum).toFixed(3)),
      peakRssMiB: Math.round(rss.peak),
      peakInflight: stored.peakInflight,
      cpuPct,
      drainMs,
      published: fleet.acked.samples - p0,
      stored: (await stored.poll()) - s0,
      inInfluxDb: (await inInfluxDb()) - c0,
      writes: {
        count,
        meanMs: Math.round(((w1.pp_write_duration_seconds_sum! - w0.pp_write_duration_seconds_sum!) / Math.max(1, count)) * 1000),
        meanLines: Math.round((w1.pp_write_batch_lines_sum! - w0.pp_write_batch_lines_sum!) / Math.max(1, count)),
        retries: w1.pp_write_retries_total! - w0.pp_write_retries_total!,
      },
      publishedSamplesPerS: Math.round(publishedDuring / seconds),
      brokerPeakRssMiB,
      brokerDropped: (await scrape(platform.url, ['pp_broker_dropped_messages'], Number.NaN)).pp_broker_dropped_messages! - dropped0,
      memoryAtPeak: atPeak(readMemorySplit(v.memoryFile), memoryFrom),
      survivedFullGcMiB: readMajorGcs(v.memoryFile)
        .filter((g) => g.t >= memoryFrom)
        .map((g) => Math.round(g.oldUsed + g.largeUsed)),
    };
  } finally {
    stored.stop();
    rss.stop();
    brokerRss.stop();
  }
}

/** Samples in `db`'s telemetry (every simulated sample has power_kw); 0 while InfluxDB does not answer. */
async function telemetryCount(url: string, db: string): Promise<number> {
  return Number((await queryInfluxQL(url, db, 'SELECT count(power_kw) FROM telemetry').catch(() => []))[0]?.count ?? 0);
}

async function backlog(v: Variant, influx: InfluxdProcess, env: Record<string, string>, opts: BackpressureOptions, say: (s: string) => void): Promise<Backlog> {
  const db = env.PP_INFLUX_DATABASE!;
  const count = () => telemetryCount(influx.url, db);
  // Stopped cleanly, the platform's persistent session (its client id) stays with Mosquitto.
  await v.platform?.stop();
  v.platform = null;
  const fleet = new Fleet(new Workload(SHAPE10), v.mosquitto.url, `bp-${v.label}-backlog`);
  await fleet.connect();
  say(`  ${v.label} backlog: queueing ${opts.backlogSamples.toLocaleString('en')} samples in Mosquitto while the platform is down`);
  while (fleet.acked.samples < opts.backlogSamples) {
    const left = opts.backlogSamples - fleet.published;
    if (left <= 0) await fleet.run({ kind: 'rate', samplesPerS: 1 }, 100);
    else await fleet.run({ kind: 'rate', samplesPerS: 400_000 }, Math.max(100, (left / 400_000) * 1000));
  }
  const samples = fleet.acked.samples;
  await fleet.stop();
  const t0 = performance.now();
  const platform = await spawnBuiltPlatform({ env, dist: v.dist, waitReady: false });
  v.platform = platform;
  const rss = new RssSampler(() => platform.pid, 100);
  let stored = 0;
  let failure = '';
  try {
    while (stored < samples) {
      if (platform.child.exitCode !== null || platform.child.signalCode !== null) {
        failure = `the platform died (exit ${platform.child.exitCode ?? platform.child.signalCode}): ${platform.output().slice(-300).replace(/\s+/g, ' ')}`;
        break;
      }
      if (performance.now() - t0 > 300_000) {
        failure = 'not caught up within 300 s';
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
      stored = await count();
    }
  } finally {
    rss.stop();
  }
  const catchUpS = (performance.now() - t0) / 1000;
  return { samples, catchUpS: Number(catchUpS.toFixed(1)), samplesPerS: Math.round(stored / catchUpS), peakRssMiB: Math.round(rss.peak), stored: await count(), failure };
}
