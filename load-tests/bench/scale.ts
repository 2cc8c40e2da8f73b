/**
 * Horizontal scale: 1, 2 or 3 platform instances on one MQTT 5 shared subscription
 * (`PP_MQTT_SHARED_GROUP`, so the broker hands each message to one of them), each with its own
 * client id, data dir and HTTP port, all writing to the same InfluxDB, measured interleaved
 * (repetition r runs the instance counts in a rotated order, so drift of the machine's other
 * load spreads over all of them alike).
 *
 * One measurement: a fresh Mosquitto (sessions and retained messages of the previous one cannot
 * leak into it: a stopped instance's persistent shared-subscription session would keep taking
 * its share of messages into a queue nobody reads), N freshly spawned instances writing to a
 * database of their own, the bench fleet warmed up (every device once), then
 * - a fixed offered load (open loop, the same rate for every N): the cost of the same work
 *   spread over more processes, and whether they keep up;
 * - closed loop at the instances' summed maximum (the fleet stays at most `aheadSamples` × N
 *   ahead of what they stored together): the sustained maximum of N instances;
 * and then the reconciliation (scale-checks.ts): every sample the broker acknowledged is counted
 * in InfluxDB (`count(power_kw)` of that database: one point per series and timestamp, and the
 * workload's timestamps are unique per device), and the instances together stored no more
 * samples than there are points (more would be duplicates, overwritten in InfluxDB).
 *
 * Per repetition, InfluxDB alone is measured with one writer (one platform's batch writer) and
 * with as many writers as the largest instance count, in the same batch size: the InfluxDB limit
 * each configuration writes against.
 */
import { randomBytes } from 'node:crypto';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { waitFor } from '../../test/support/ports.js';
import { Fleet } from './fleet.js';
import { measureInflux } from './limits.js';
import { scrape, spawnBuiltPlatform } from './platform-process.js';
import { drain, StoredCounter, type DurableCount } from './platform-phases.js';
import { UsageWindow, type WindowUsage } from './proc-stats.js';
import { bottleneck, reconcile } from './scale-checks.js';
import { median } from './stats.js';
import { Workload, type WorkloadShape } from './workload.js';

export interface ScaleOptions {
  fleet: WorkloadShape;
  /** Instance counts, e.g. [1, 2, 3]. */
  instances: number[];
  repetitions: number;
  /** Fixed offered load, samples/s (open loop, the same for every instance count); 0: skipped. */
  fixedSamplesPerS: number;
  fixedMs: number;
  /** Closed loop (maximum): its length, and its start left out of the rate. */
  durationMs: number;
  warmupMs: number;
  /** Per instance; the closed loop allows N times this ahead. */
  aheadSamples: number;
  batchLines: number;
  receiveMaximum: number;
}

/** The fixed offered load phase of one measurement. Kept up: as a ramp step (≥ 95 % stored during it, drained within 2 s). */
export interface FixedLoad {
  offeredSamplesPerS: number;
  publishedSamplesPerS: number;
  storedSamplesPerS: number;
  keptUp: boolean;
  /** After the phase, until everything published was stored (ms); -1: not within 30 s. */
  drainMs: number;
  platformsCpuPct: number;
  usage: WindowUsage;
}

export interface ScaleMeasure {
  instances: number;
  repetition: number;
  /** Position in its repetition (1 = first). */
  order: number;
  samplesPerS: number;
  messagesPerS: number;
  seconds: number;
  /** Per instance: its share of the stored rate, its CPU (% of one core), its mean write batch. */
  perInstance: { samplesPerS: number; cpuPct: number; meanBatchLines: number }[];
  /** Sum of the instances' CPU, % of one core. */
  platformsCpuPct: number;
  usage: WindowUsage;
  /** Every sample the broker acknowledged in this measurement (warm-up included) vs counted in its database. */
  acked: number;
  storedInInflux: number;
  lost: number;
  /** Samples the instances stored together (their `pp_samples_stored_total`), warm-up included. */
  written: number;
  /** Stored beyond the distinct points in InfluxDB (the same sample written twice). */
  duplicates: number;
  /** Points in InfluxDB that the broker never acknowledged to the fleet. */
  unexpected: number;
  fixed: FixedLoad | null;
  spawnMs: number;
}

export interface ScaleResult {
  options: ScaleOptions;
  measures: ScaleMeasure[];
  /** InfluxDB alone per repetition: one writer, and as many as the most instances. */
  influxAlone: { repetition: number; writers: number; samplesPerS: number; usage: WindowUsage }[];
  /** Medians per instance count over the repetitions (lost, duplicates: summed). */
  summary: {
    instances: number;
    samplesPerS: number;
    vsOne: number;
    platformsCpuPct: number;
    influxdCpuPct: number;
    mosquittoCpuPct: number;
    harnessCpuPct: number;
    machinePct: number;
    otherPct: number;
    loadAvg1: number;
    acked: number;
    lost: number;
    duplicates: number;
    unexpected: number;
    ratioPerRepetition: number[];
    /** At the fixed offered load: stored rate and CPU (medians), kept up in how many repetitions. */
    fixed: { offeredSamplesPerS: number; storedSamplesPerS: number; platformsCpuPct: number; influxdCpuPct: number; machinePct: number; keptUp: number; of: number } | null;
    /** What limited the maximum, from the medians (scale-checks.ts). */
    bottleneck: { limit: string; why: string };
  }[];
  influxAloneMedian: { writers: number; samplesPerS: number }[];
  lost: number;
  duplicates: number;
  unexpected: number;
}

/** Summed durable count of several instances, polled from each one's /metrics. */
class SummedCounter implements DurableCount {
  readonly counters: StoredCounter[];
  constructor(urls: string[]) {
    this.counters = urls.map((u) => new StoredCounter(u));
  }
  get value(): number {
    return this.counters.reduce((a, c) => a + c.value, 0);
  }
  async poll(): Promise<number> {
    await Promise.all(this.counters.map((c) => c.poll()));
    return this.value;
  }
  stop(): void {
    for (const c of this.counters) c.stop();
  }
}

const BATCH_METRICS = ['pp_write_batch_lines_sum', 'pp_write_batch_lines_count'] as const;

async function measureOnce(influx: { url: string; pid(): number | null }, workload: Workload, n: number, rep: number, order: number, opts: ScaleOptions, say: (s: string) => void): Promise<ScaleMeasure> {
  const broker = await startMosquitto();
  const database = `scale_r${rep}_n${n}`;
  const token = `ppt_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const t0Spawn = performance.now();
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      spawnBuiltPlatform({
        env: {
          PP_MQTT_URL: broker.url,
          PP_MQTT_SHARED_GROUP: 'pp-bench',
          PP_MQTT_CLIENT_ID: `pp-scale-${i + 1}`,
          PP_INFLUX_URL: influx.url,
          PP_INFLUX_DATABASE: database,
          PP_WRITE_BATCH_LINES: String(opts.batchLines),
          PP_MQTT_RECEIVE_MAXIMUM: String(opts.receiveMaximum),
          PP_BOOTSTRAP_ADMIN_TOKEN: token,
        },
      }),
    ),
  );
  const platforms = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = async () => {
    await Promise.all(platforms.map((p) => p.stop().catch(() => undefined)));
    await broker.stop();
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason as Error;
  }
  const spawnMs = Math.round(performance.now() - t0Spawn);
  const stored = new SummedCounter(platforms.map((p) => p.url));
  const fleet = new Fleet(workload, broker.url, `scale-gw-${rep}-${n}`);
  const per = workload.samplesPerMessage;
  try {
    await fleet.connect();
    const ahead = opts.aheadSamples * n;
    // Warm-up: every device reports about once (rules resolved, state created on whichever instance got it).
    await fleet.run({ kind: 'window', consumed: () => stored.value, aheadSamples: ahead }, 3000 + ((workload.size * per) / 20_000) * 1000);
    await drain(stored, fleet, 60_000);
    const pids = () => ({ ...Object.fromEntries(platforms.map((p, i) => [`platform-${i + 1}`, p.pid])), mosquitto: broker.pid(), influxd: influx.pid(), harness: process.pid });
    const platformsCpu = (u: WindowUsage) => Number(platforms.reduce((a, _, i) => a + (u.cpuPct[`platform-${i + 1}`] ?? 0), 0).toFixed(1));
    let fixed: FixedLoad | null = null;
    if (opts.fixedSamplesPerS > 0) {
      const fu = new UsageWindow(pids).start();
      const f0 = await stored.poll();
      const p0 = fleet.acked.samples;
      const tf = performance.now();
      const fTicker = setInterval(() => say(`${n} instance${n > 1 ? 's' : ''}, ${opts.fixedSamplesPerS.toLocaleString('en')} samples/s offered: ${(stored.value - f0).toLocaleString('en')} stored`), 2000);
      try {
        await fleet.run({ kind: 'rate', samplesPerS: opts.fixedSamplesPerS }, opts.fixedMs);
      } finally {
        clearInterval(fTicker);
      }
      const fs = (performance.now() - tf) / 1000;
      const f1 = await stored.poll();
      const fPublished = fleet.acked.samples - p0;
      const fUsage = fu.stop();
      const drainMs = await drain(stored, fleet, 30_000);
      fixed = {
        offeredSamplesPerS: opts.fixedSamplesPerS,
        publishedSamplesPerS: Math.round(fPublished / fs),
        storedSamplesPerS: Math.round((f1 - f0) / fs),
        keptUp: f1 - f0 >= 0.95 * fPublished && drainMs >= 0 && drainMs <= 2000,
        drainMs,
        platformsCpuPct: platformsCpu(fUsage),
        usage: fUsage,
      };
      say(`  fixed load: ${fixed.storedSamplesPerS.toLocaleString('en')} of ${fixed.offeredSamplesPerS.toLocaleString('en')} samples/s stored, kept up: ${fixed.keptUp}, platforms CPU ${fixed.platformsCpuPct.toFixed(0)} %`);
    }
    const usage = new UsageWindow(pids);
    let t0 = 0;
    let s0: number[] = [];
    let b0: Record<string, number>[] = [];
    const ticker = setInterval(() => say(`${n} instance${n > 1 ? 's' : ''}: ${stored.value.toLocaleString('en')} samples stored`), 2000);
    try {
      await fleet.run({ kind: 'window', consumed: () => stored.value, aheadSamples: ahead }, opts.durationMs, (elapsed) => {
        if (t0 === 0 && elapsed >= opts.warmupMs) {
          t0 = performance.now();
          s0 = stored.counters.map((c) => c.value);
          usage.start();
          void Promise.all(platforms.map((p) => scrape(p.url, BATCH_METRICS))).then((b) => (b0 = b));
        }
      });
    } finally {
      clearInterval(ticker);
    }
    const seconds = (performance.now() - t0) / 1000;
    const u = usage.stop();
    const s1 = stored.counters.map((c) => c.value);
    const b1 = await Promise.all(platforms.map((p) => scrape(p.url, BATCH_METRICS)));
    await drain(stored, fleet, 60_000);
    const acked = fleet.acked.samples;
    let inInflux = 0;
    await waitFor(async () => {
      inInflux = Number((await queryInfluxQL(influx.url, database, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
      return inInflux >= acked;
    }, 60_000, `every sample of ${database} in InfluxDB`, 500).catch((err: Error) => say(`  zero-loss check: ${err.message}`));
    // Read after the count: a late duplicate write would have been stored by now.
    const check = reconcile(acked, await stored.poll(), inInflux);
    const samples = s1.reduce((a, v, i) => a + v - s0[i]!, 0);
    const perInstance = platforms.map((_, i) => {
      const lines = b1[i]!.pp_write_batch_lines_sum! - (b0[i]?.pp_write_batch_lines_sum ?? 0);
      const batches = b1[i]!.pp_write_batch_lines_count! - (b0[i]?.pp_write_batch_lines_count ?? 0);
      return { samplesPerS: Math.round((s1[i]! - s0[i]!) / seconds), cpuPct: u.cpuPct[`platform-${i + 1}`]!, meanBatchLines: Math.round(lines / Math.max(1, batches)) };
    });
    return {
      instances: n,
      repetition: rep,
      order,
      samplesPerS: Math.round(samples / seconds),
      messagesPerS: Math.round(samples / per / seconds),
      seconds: Number(seconds.toFixed(1)),
      perInstance,
      platformsCpuPct: platformsCpu(u),
      usage: u,
      acked,
      storedInInflux: inInflux,
      lost: check.lost,
      written: check.written,
      duplicates: check.duplicates,
      unexpected: check.unexpected,
      fixed,
      spawnMs,
    };
  } finally {
    stored.stop();
    await fleet.stop().catch(() => undefined);
    await stopAll();
  }
}

/** Rotate the instance counts per repetition: r=1 → 1,2,3; r=2 → 2,3,1; r=3 → 3,1,2. */
export function interleave(counts: number[], rep: number): number[] {
  const k = (rep - 1) % counts.length;
  return [...counts.slice(k), ...counts.slice(0, k)];
}

export async function measureScale(influx: { url: string; pid(): number | null }, opts: ScaleOptions, say: (s: string) => void, cores = 2): Promise<ScaleResult> {
  const workload = new Workload(opts.fleet);
  const measures: ScaleMeasure[] = [];
  const influxAlone: ScaleResult['influxAlone'] = [];
  const most = Math.max(...opts.instances);
  for (let rep = 1; rep <= opts.repetitions; rep++) {
    const order = interleave(opts.instances, rep);
    for (const [k, n] of order.entries()) {
      say(`scale ${rep}/${opts.repetitions}: ${n} instance${n > 1 ? 's' : ''} on $share/pp-bench (fresh Mosquitto, database scale_r${rep}_n${n})`);
      const m = await measureOnce(influx, workload, n, rep, k + 1, opts, say);
      say(`  ${n} instance${n > 1 ? 's' : ''} at max: ${m.samplesPerS.toLocaleString('en')} samples/s (${m.perInstance.map((p) => p.samplesPerS.toLocaleString('en')).join(' + ')}), platforms CPU ${m.platformsCpuPct.toFixed(0)} %, influxd ${m.usage.cpuPct.influxd!.toFixed(0)} %, mosquitto ${m.usage.cpuPct.mosquitto!.toFixed(0)} %, machine ${m.usage.machinePct.toFixed(0)} % of ${cores * 100} %; acked ${m.acked.toLocaleString('en')}, in InfluxDB ${m.storedInInflux.toLocaleString('en')}, lost ${m.lost}, duplicates ${m.duplicates}`);
      measures.push(m);
    }
    for (const writers of most > 1 ? [1, most] : [1]) {
      const inf = await measureInflux(influx, `scale_limit_r${rep}_w${writers}`, opts.fleet, { durationMs: opts.durationMs - opts.warmupMs, batchLines: opts.batchLines, concurrency: writers, progress: () => undefined });
      say(`  InfluxDB alone, ${writers} writer${writers > 1 ? 's' : ''}: ${inf.samplesPerS.toLocaleString('en')} samples/s`);
      influxAlone.push({ repetition: rep, writers, samplesPerS: inf.samplesPerS, usage: inf.usage });
    }
  }
  const writersList = [...new Set(influxAlone.map((x) => x.writers))].sort((a, b) => a - b);
  const influxAloneMedian = writersList.map((w) => ({ writers: w, samplesPerS: median(influxAlone.filter((x) => x.writers === w).map((x) => x.samplesPerS)) }));
  const summary = opts.instances.map((n) => {
    const ms = measures.filter((m) => m.instances === n);
    const fx = ms.flatMap((m) => (m.fixed ? [m.fixed] : []));
    const ratios = ms.map((m) => {
      const one = measures.find((x) => x.repetition === m.repetition && x.instances === Math.min(...opts.instances));
      return one ? Number((m.samplesPerS / one.samplesPerS).toFixed(3)) : Number.NaN;
    });
    const med = (f: (m: ScaleMeasure) => number) => Number(median(ms.map(f)).toFixed(1));
    const fmed = (f: (x: FixedLoad) => number) => Number(median(fx.map(f)).toFixed(1));
    const row = {
      instances: n,
      samplesPerS: med((m) => m.samplesPerS),
      vsOne: Number(median(ratios).toFixed(3)),
      platformsCpuPct: med((m) => m.platformsCpuPct),
      influxdCpuPct: med((m) => m.usage.cpuPct.influxd!),
      mosquittoCpuPct: med((m) => m.usage.cpuPct.mosquitto!),
      harnessCpuPct: med((m) => m.usage.cpuPct.harness!),
      machinePct: med((m) => m.usage.machinePct),
      otherPct: med((m) => m.usage.otherPct),
      loadAvg1: med((m) => m.usage.loadAvg1),
      acked: ms.reduce((a, m) => a + m.acked, 0),
      lost: ms.reduce((a, m) => a + m.lost, 0),
      duplicates: ms.reduce((a, m) => a + m.duplicates, 0),
      unexpected: ms.reduce((a, m) => a + m.unexpected, 0),
      ratioPerRepetition: ratios,
      fixed: fx.length ? { offeredSamplesPerS: opts.fixedSamplesPerS, storedSamplesPerS: fmed((x) => x.storedSamplesPerS), platformsCpuPct: fmed((x) => x.platformsCpuPct), influxdCpuPct: fmed((x) => x.usage.cpuPct.influxd!), machinePct: fmed((x) => x.usage.machinePct), keptUp: fx.filter((x) => x.keptUp).length, of: fx.length } : null,
    };
    // InfluxDB's limit for n writers: the measurement with the fewest writers ≥ n (never understates what InfluxDB takes).
    const ref = influxAloneMedian.find((w) => w.writers >= n) ?? influxAloneMedian.at(-1);
    const b = bottleneck({
      cores,
      machinePct: row.machinePct,
      cpuPct: { platforms: row.platformsCpuPct, influxd: row.influxdCpuPct, mosquitto: row.mosquittoCpuPct, harness: row.harnessCpuPct },
      otherPct: row.otherPct,
      busiestInstanceCpuPct: Number(median(ms.map((m) => Math.max(...m.perInstance.map((p) => p.cpuPct)))).toFixed(1)),
      samplesPerS: row.samplesPerS,
      influxAloneSamplesPerS: ref?.samplesPerS ?? Number.NaN,
    });
    return { ...row, bottleneck: { limit: b.limit, why: b.why } };
  });
  return {
    options: opts,
    measures,
    influxAlone,
    summary,
    influxAloneMedian,
    lost: measures.reduce((a, m) => a + m.lost, 0),
    duplicates: measures.reduce((a, m) => a + m.duplicates, 0),
    unexpected: measures.reduce((a, m) => a + m.unexpected, 0),
  };
}
