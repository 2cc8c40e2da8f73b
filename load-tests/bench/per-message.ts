/**
 * `npx tsx load-tests/bench/per-message.ts --baseline-rev <rev> [--seconds 12] [--rate1 3000]
 * [--rate10 10000] [--rounds 1] [--lead 6000] [--phases idle,closed1,closed10,rate1,rate10] [--profile DIR [--alloc]]
 * [--current-env PP_X=v ...] [--current-node-arg --flag=v ...]`: what a message costs, this tree beside an earlier
 * revision in the same run. Each variant has its own Mosquitto (shipped configuration) and built
 * platform process on one influxd (200 devices in 20 gateways, the backpressure bench's fleet),
 * and each phase runs for both, one after the other (rounds alternate the order):
 *
 * - the closed-loop maximum with 1-sample messages, as the backpressure bench measures it (at
 *   most three windows of samples ahead of what is stored, or `--lead` samples: a window larger
 *   than the default needs a larger lead to show): rate, CPU per sample, platform CPU;
 * - the same with 10-sample messages (`closed10`, three windows of them ahead);
 * - the same offered rate for both (open loop, `--rate1` samples/s of 1-sample messages and
 *   `--rate10` of 10-sample ones): CPU per stored sample under identical work, which is what to
 *   compare when the machine is shared and rates move.
 *
 * Each phase reports the CPU of all four processes that share the machine (`/proc/<pid>/stat`): the
 * platform, its Mosquitto, influxd (one for both variants, each phase its own variant's alone) and
 * the generator (this process: the fleet and its polls), as µs per stored sample, and their sum.
 *
 * With `--profile DIR` each variant's platform runs with the inspector on, and its CPU is
 * profiled during each phase after its warm-up (not start-up), written to
 * DIR/<variant>-<phase>.cpuprofile (read them with `profile-summary.ts [--by-stage]`). With
 * `--alloc` as well, V8's sampling heap profiler runs alongside: DIR/<variant>-<phase>.heapprofile
 * holds what was allocated, by function (`profile-summary.ts --alloc` charges it to stages),
 * which is what drives garbage collection and the heap's swing between collections.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../../test/support/mosquitto.js';
import { freePort } from '../../test/support/ports.js';
import { Fleet } from './fleet.js';
import { buildPlatform, buildRevision, shippedWindow, spawnBuiltPlatform, startFlagsOf, type PlatformProcess } from './platform-process.js';
import { drain, StoredCounter } from './platform-phases.js';
import { loadAverage, RssSampler, UsageWindow } from './proc-stats.js';
import { median } from './stats.js';
import { Workload, type WorkloadShape } from './workload.js';
import { argOf } from './cli-args.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const argv = process.argv.slice(2);
const arg = argOf(argv);
const baselineRev = arg('--baseline-rev');
if (!baselineRev) throw new Error('usage: per-message.ts --baseline-rev <rev> [--seconds 12] [--rate1 3000] [--rate10 10000] [--rounds 1] [--profile DIR]');
const seconds = Number(arg('--seconds', '12'));
const rate1 = Number(arg('--rate1', '3000'));
const rate10 = Number(arg('--rate10', '10000'));
const rounds = Number(arg('--rounds', '1'));
const profileDir = arg('--profile');
const alloc = argv.includes('--alloc');
/** `--current-env PP_X=v` (repeatable): settings for this tree's platform only, e.g. a larger window. */
const currentEnv = Object.fromEntries(argv.flatMap((a, i) => (a === '--current-env' ? [argv[i + 1]!.split(/=(.*)/s).slice(0, 2)] : [])));
/** `--current-node-arg --flag=v` (repeatable): node flags for this tree's platform only, after its start flags (a later V8 flag wins). */
const currentNodeArgs = argv.flatMap((a, i) => (a === '--current-node-arg' ? [argv[i + 1]!] : []));
/**
 * How far the closed loop's fleet may be ahead of what is stored, in 1-sample messages (×10 samples
 * with 10-sample ones): three of the larger window of the two platforms, each of which runs with its
 * own tree's default window unless `--current-env PP_MQTT_RECEIVE_MAXIMUM=…` sets this tree's.
 */
const leadArg = arg('--lead');
const WARMUP_MS = 3000;

const SHAPE10: WorkloadShape = { sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 };
const SHAPE1: WorkloadShape = { ...SHAPE10, samplesPerMessage: 1 };

/** Start and stop the V8 profiler of a process started with --inspect, over the DevTools protocol. */
class Inspector {
  private id = 0;
  private readonly waiting = new Map<number, (r: unknown) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const msg = JSON.parse(d.toString()) as { id?: number; result?: unknown };
      if (msg.id !== undefined) this.waiting.get(msg.id)?.(msg.result);
    });
  }
  static async connect(port: number): Promise<Inspector> {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const inspector = new Inspector(ws);
    await inspector.call('Profiler.enable');
    await inspector.call('Profiler.setSamplingInterval', { interval: 1000 });
    return inspector;
  }
  call(method: string, params: object = {}): Promise<unknown> {
    const id = ++this.id;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

interface Variant {
  label: string;
  mosquitto: MosquittoProcess;
  platform: PlatformProcess;
  inspector: Inspector | null;
  f1: Fleet;
  f10: Fleet;
  results: Record<string, Phase[]>;
}

/** The four processes of a phase, in the order reported. */
const PROCESSES = ['platform', 'influxd', 'mosquitto', 'generator'] as const;
type Process = (typeof PROCESSES)[number];

interface Phase {
  samplesPerS: number;
  cpuPct: number;
  /** CPU of this variant's Mosquitto, % of one core; the platform's thread runnable but waiting for a CPU, % of the phase (schedstat). */
  mosquittoPct: number;
  threadWaitPct: number;
  usPerSample: number;
  /** Each process's CPU per stored sample, µs, and the four together. */
  usOf: Record<Process | 'all', number>;
  peakRssMiB: number;
  load: number;
}

async function phase(v: Variant, fleet: Fleet, name: string, run: (consumed: () => number) => Promise<unknown>): Promise<Phase> {
  // Polled during its own phases only: the other variant's platform is not scraped meanwhile.
  const stored = new StoredCounter(v.platform.url);
  await stored.poll();
  const base = stored.value - fleet.published;
  const rss = new RssSampler(() => v.platform.pid);
  const usage = new UsageWindow(() => ({ platform: v.platform.pid, influxd: influx.pid(), mosquitto: v.mosquitto.pid(), generator: process.pid }));
  let s0 = 0;
  let t0 = 0;
  const timer = setTimeout(() => {
    t0 = performance.now();
    s0 = stored.value;
    usage.start();
    rss.reset();
    void v.inspector?.call('Profiler.start');
    // Every 32 KiB allocated on average: cheap enough to leave the CPU figures comparable.
    // Objects collected since count too: what was allocated, not only what is still alive.
    if (alloc) void v.inspector?.call('HeapProfiler.startSampling', { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }, WARMUP_MS);
  try {
    await run(() => stored.value - base);
    const secs = (performance.now() - t0) / 1000;
    await stored.poll();
    const u = usage.stop();
    const samples = stored.value - s0;
    if (v.inspector && profileDir) {
      const r = (await v.inspector.call('Profiler.stop')) as { profile: unknown };
      writeFileSync(join(profileDir, `${v.label}-${name}.cpuprofile`), JSON.stringify(r.profile));
      if (alloc) {
        const h = (await v.inspector.call('HeapProfiler.stopSampling')) as { profile: unknown };
        writeFileSync(join(profileDir, `${v.label}-${name}.heapprofile`), JSON.stringify({ ...(h.profile as object), storedSamples: samples }));
      }
    }
    await drain({ value: stored.value - base, poll: async () => (await stored.poll()) - base }, fleet, 60_000);
    const rate = samples / secs;
    const us = (pct: number) => Number((((pct / 100) * 1e6) / rate).toFixed(1));
    const usOf = Object.fromEntries(PROCESSES.map((k) => [k, us(u.cpuPct[k]!)])) as Record<Process, number>;
    const all = us(PROCESSES.reduce((a, k) => a + u.cpuPct[k]!, 0));
    return { samplesPerS: Math.round(rate), cpuPct: u.cpuPct.platform!, mosquittoPct: u.cpuPct.mosquitto!, threadWaitPct: u.mainThread.platform!.waitPct, usPerSample: usOf.platform, usOf: { ...usOf, all }, peakRssMiB: Math.round(rss.peak), load: u.loadAvg1 };
  } finally {
    clearTimeout(timer);
    rss.stop();
    stored.stop();
  }
}

const ALL_PHASES: { name: string; fleet: 'f1' | 'f10'; run: (f: Fleet, consumed: () => number) => Promise<unknown> }[] = [
  // Nothing offered: the platform's own timers and the bench's /metrics polls, to subtract.
  { name: 'idle', fleet: 'f1', run: () => new Promise((r) => setTimeout(r, seconds * 1000)) },
  { name: 'closed1', fleet: 'f1', run: (f, consumed) => f.run({ kind: 'window', consumed, aheadSamples: lead }, seconds * 1000) },
  // The same with 10-sample messages: the window is in messages, so three windows are ten times the samples.
  { name: 'closed10', fleet: 'f10', run: (f, consumed) => f.run({ kind: 'window', consumed, aheadSamples: lead * SHAPE10.samplesPerMessage }, seconds * 1000) },
  { name: 'rate1', fleet: 'f1', run: (f) => f.run({ kind: 'rate', samplesPerS: rate1 }, seconds * 1000) },
  { name: 'rate10', fleet: 'f10', run: (f) => f.run({ kind: 'rate', samplesPerS: rate10 }, seconds * 1000) },
];

/** `--phases a,b`: only those (idle is kept whenever another is run: the figures beyond idle need it). */
const wanted = arg('--phases')?.split(',');
const unknown = wanted?.filter((w) => !ALL_PHASES.some((p) => p.name === w)) ?? [];
if (unknown.length > 0) throw new Error(`--phases: unknown ${unknown.join(', ')} (of ${ALL_PHASES.map((p) => p.name).join(', ')})`);
const PHASES = wanted ? ALL_PHASES.filter((p) => p.name === 'idle' || wanted.includes(p.name)) : ALL_PHASES;

/** "platform 8.9 / influxd 8.4 / Mosquitto 1.4 / generator 1.6 = 20.3". */
function fourOf(us: Phase['usOf']): string {
  return `platform ${us.platform} / influxd ${us.influxd} / Mosquitto ${us.mosquitto} / generator ${us.generator} = ${us.all}`;
}

const loadStart = loadAverage();
if (profileDir) mkdirSync(profileDir, { recursive: true });
const [influx, base] = await Promise.all([startInfluxd(), buildRevision(baselineRev, say), buildPlatform(say)]).then(([i, b]) => [i, b] as const);
const windows = [Number(currentEnv.PP_MQTT_RECEIVE_MAXIMUM ?? shippedWindow()), shippedWindow(base.sha)];
const lead = leadArg !== undefined ? Number(leadArg) : 3 * Math.max(...windows);
say(`MQTT windows: this tree ${windows[0]}, baseline ${windows[1]} messages; the closed loops' fleets stay ${lead.toLocaleString('en')} messages ahead`);
// The baseline runs with its own revision's start flags (spawnBuiltPlatform, startFlagsOf).
const baseFlags = await startFlagsOf(base.dist);
say(`baseline ${base.sha} start flags: ${baseFlags.join(' ') || '(none)'}${currentNodeArgs.length > 0 ? `; this tree's platform also: ${currentNodeArgs.join(' ')}` : ''}`);
const variants: Variant[] = [];
try {
  for (const [label, dist] of [
    ['current', undefined],
    [`baseline-${base.sha}`, base.dist],
  ] as const) {
    const mosquitto = await startMosquitto();
    const inspectPort = profileDir ? await freePort() : 0;
    const platform = await spawnBuiltPlatform({
      env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: `pm_${variants.length}`, PP_MQTT_CLIENT_ID: `pp-pm-${variants.length}`, PP_AUTH: 'off', PP_WRITE_BATCH_LINES: '5000', ...(dist ? {} : currentEnv) },
      dist,
      nodeArgs: [...(dist ? [] : currentNodeArgs), ...(profileDir ? [`--inspect=127.0.0.1:${inspectPort}`] : [])],
    });
    const inspector = profileDir ? await Inspector.connect(inspectPort) : null;
    const f1 = new Fleet(new Workload(SHAPE1), mosquitto.url, `pm-${variants.length}-1`);
    const f10 = new Fleet(new Workload(SHAPE10), mosquitto.url, `pm-${variants.length}-10`);
    await Promise.all([f1.connect(), f10.connect()]);
    variants.push({ label, mosquitto, platform, inspector, f1, f10, results: {} });
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of PHASES) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
        const got = await phase(v, v[p.fleet], `${p.name}${rounds > 1 ? `-${r + 1}` : ''}`, (consumed) => p.run(v[p.fleet], consumed));
        (v.results[p.name] ??= []).push(got);
        if (p.name === 'idle') say(`${v.label.padEnd(17)} idle     platform ${got.cpuPct} % of a core, peak RSS ${got.peakRssMiB} MiB, load ${got.load}`);
        else say(`${v.label.padEnd(17)} ${p.name.padEnd(8)} ${got.samplesPerS.toLocaleString('en').padStart(7)} samples/s, platform ${got.cpuPct} % of a core (its thread waiting for a CPU ${got.threadWaitPct} %), Mosquitto ${got.mosquittoPct} %, ${got.usPerSample} µs CPU per sample; µs per sample ${fourOf(got.usOf)}; peak RSS ${got.peakRssMiB} MiB, load ${got.load}`);
      }
    }
  }
  say(`\nmedians over ${rounds} round(s), load average ${loadStart} at the start, ${loadAverage()} at the end:`);
  const m = (xs: Phase[], k: Exclude<keyof Phase, 'usOf'>) => median(xs.map((x) => x[k]));
  const idle = variants.map((v) => m(v.results.idle!, 'cpuPct'));
  say(`idle     current ${idle[0]} % of a core; baseline ${idle[1]} %`);
  for (const p of PHASES.filter((q) => q.name !== 'idle')) {
    const [cur, bl] = variants.map((v) => v.results[p.name]!);
    // Beyond idle: the CPU the samples themselves cost, without the timers and polls every second.
    const marginal = (xs: Phase[], i: number) => Number(median(xs.map((x) => ((x.cpuPct - idle[i]!) / 100) * 1e6 / x.samplesPerS)).toFixed(1));
    // Per round too: with two rounds the nearest-rank median is the lower one.
    const each = (xs: Phase[], k: Exclude<keyof Phase, 'usOf'>) => (xs.length > 1 ? ` [${xs.map((x) => x[k].toLocaleString('en')).join(' / ')}]` : '');
    const ratios = cur!.map((c, i) => (c.usPerSample / bl![i]!.usPerSample).toFixed(2));
    const fours = (xs: Phase[]) => fourOf(Object.fromEntries([...PROCESSES, 'all' as const].map((k) => [k, median(xs.map((x) => x.usOf[k]))])) as Phase['usOf']);
    say(`${p.name.padEnd(8)} all four, µs of CPU per stored sample (medians): current ${fours(cur!)}; baseline ${fours(bl!)}; all four ×${(median(cur!.map((x) => x.usOf.all)) / median(bl!.map((x) => x.usOf.all))).toFixed(2)}`);
    say(
      `${p.name.padEnd(8)} current ${m(cur!, 'samplesPerS').toLocaleString('en')}${each(cur!, 'samplesPerS')} samples/s, ${m(cur!, 'usPerSample')}${each(cur!, 'usPerSample')} µs (${marginal(cur!, 0)} beyond idle); ` +
        `baseline ${m(bl!, 'samplesPerS').toLocaleString('en')}${each(bl!, 'samplesPerS')} samples/s, ${m(bl!, 'usPerSample')}${each(bl!, 'usPerSample')} µs (${marginal(bl!, 1)}); ` +
        `rate ×${(m(cur!, 'samplesPerS') / m(bl!, 'samplesPerS')).toFixed(2)}, CPU per sample ×${(m(cur!, 'usPerSample') / m(bl!, 'usPerSample')).toFixed(2)} (per round ×${ratios.join(' / ×')}; beyond idle ×${(marginal(cur!, 0) / marginal(bl!, 1)).toFixed(2)})`,
    );
  }
} finally {
  for (const v of variants) {
    v.inspector?.close();
    await Promise.all([v.f1.stop(), v.f10.stop()]).catch(() => undefined);
    await v.platform.stop().catch(() => undefined);
    await v.mosquitto.stop();
  }
  await influx.stop();
}
process.exit(0);
