/**
 * `npx tsx load-tests/bench/overload-timeline.ts [overload seconds] [× max]`: what happens, second
 * by second, when more is offered than the platform stores. Starts Mosquitto (shipped
 * configuration) and influxd, the built platform, finds its 10-sample closed-loop maximum (12 s,
 * 200 devices), then offers `×` (default 2) times that for `overload seconds` (default 30) and
 * prints, every second: samples the broker acknowledged and the platform stored, messages held
 * (the window), lines queued for storage, writes finished and their mean latency, and CPU (% of
 * one core) of the platform, Mosquitto, influxd and the harness, with Mosquitto's RSS (its queue
 * for the platform's session lives there).
 *
 * Environment: PP_* variables are passed to the platform (e.g. PP_WRITE_CONCURRENCY=1);
 * MOSQUITTO_EXTRA appends lines to the broker's configuration (e.g. "autosave_interval 0");
 * MOSQUITTO_ENV adds space-separated NAME=value pairs to the broker's environment (e.g.
 * "GLIBC_TUNABLES=glibc.malloc.hugetlb=1": its allocator asks for transparent huge pages);
 * NODE_ARGS adds node flags to the platform (e.g. "--cpu-prof --cpu-prof-dir=.tmp/prof").
 * Every phase ends with where the platform's memory was at its peak RSS (memory-split.ts: V8
 * heap by space, array buffers, other anonymous memory), sampled inside it every 100 ms.
 */
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { Fleet } from './fleet.js';
import { buildPlatform, scrape, spawnBuiltPlatform } from './platform-process.js';
import { StoredCounter } from './platform-phases.js';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { cpuSeconds, machineJiffies, RssSampler, rssMiB, UsageWindow } from './proc-stats.js';
import { Workload } from './workload.js';
import { atPeak, describe, memorySplitArgs, readMajorGcs, readMemorySplit } from './memory-split.js';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cores = cpus().length;
const say = (s: string) => process.stdout.write(`${s}\n`);
const overloadS = Number(process.argv[2] ?? 30);
const times = Number(process.argv[3] ?? 2);
if (!(overloadS > 0) || !(times > 0)) throw new Error('usage: overload-timeline.ts [overload seconds > 0] [multiple of the maximum > 0]');

/** "A=1 B=x=y" → { A: '1', B: 'x=y' }. */
function envPairs(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(' ')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`MOSQUITTO_ENV: "${pair}" is not NAME=value`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}
const ppEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => (e[0].startsWith('PP_') || e[0].startsWith('MALLOC_')) && e[1] !== undefined));
const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto(process.env.MOSQUITTO_EXTRA ?? '', { env: envPairs(process.env.MOSQUITTO_ENV ?? '') }), buildPlatform(say)]);
const tmp = fileURLToPath(new URL('../../.tmp/', import.meta.url));
mkdirSync(tmp, { recursive: true });
const memoryFile = `${tmp}overload-memory-${process.pid}.jsonl`;
const platform = await spawnBuiltPlatform({
  env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'timeline', PP_AUTH: 'off', PP_MQTT_CLIENT_ID: 'pp-timeline', ...ppEnv },
  nodeArgs: [...memorySplitArgs(memoryFile), ...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean)],
});
const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: Number(process.env.SAMPLES_PER_MESSAGE ?? 10) }), mosquitto.url, 'timeline');
const stored = new StoredCounter(platform.url);
/**
 * Share of 20 ms probes in which a process had a thread in uninterruptible sleep (state D:
 * waiting for the disk, e.g. an fsync): a process that waits without using CPU shows here.
 */
class DiskWait {
  private probes = 0;
  private hits: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: Record<string, number>) {
    this.timer = setInterval(() => this.probe(), 20);
  }
  private probe(): void {
    this.probes++;
    for (const [name, pid] of Object.entries(this.pids)) {
      try {
        const waiting = readdirSync(`/proc/${pid}/task`).some((t) => readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.startsWith('D'));
        if (waiting) this.hits[name] = (this.hits[name] ?? 0) + 1;
      } catch {
        // the process or thread is gone
      }
    }
  }
  /** % of probes since the last take, per process, and restart counting. */
  take(): string {
    const out = Object.keys(this.pids).map((k) => `${k} ${Math.round(((this.hits[k] ?? 0) / Math.max(1, this.probes)) * 100)}`).join(' ');
    this.probes = 0;
    this.hits = {};
    return out;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

const names = ['pp_process_nodejs_eventloop_lag_p99_seconds', 'pp_mqtt_inflight_messages', 'pp_write_queue_lines', 'pp_write_duration_seconds_sum', 'pp_write_duration_seconds_count', 'pp_write_batch_lines_sum', 'pp_process_nodejs_heap_size_used_bytes'];

/** One line a second until stopped. */
function timeline(label: string): () => void {
  const pids = { platform: platform.pid, mosquitto: mosquitto.pid()!, influxd: influx.pid()!, harness: process.pid };
  let machine = machineJiffies();
  let prev = { t: performance.now(), acked: fleet.acked.samples, stored: stored.value, cpu: Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)])), w: { sum: 0, count: 0, lines: 0 } };
  const disk = new DiskWait({ platform: platform.pid, mosquitto: mosquitto.pid()!, influxd: influx.pid()! });
  const memoryFrom = readMemorySplit(memoryFile).at(-1)?.t ?? 0;
  void scrape(platform.url, names).then((m) => (prev.w = { sum: m.pp_write_duration_seconds_sum!, count: m.pp_write_duration_seconds_count!, lines: m.pp_write_batch_lines_sum! }));
  const timer = setInterval(() => {
    void scrape(platform.url, names).then((m) => {
      const t = performance.now();
      const s = (t - prev.t) / 1000;
      const cpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
      const pct = (k: string) => Math.round(((cpu[k]! - prev.cpu[k]!) / s) * 100);
      const mNow = machineJiffies();
      const machinePct = Math.round(((mNow.busy - machine.busy) / Math.max(1, mNow.total - machine.total)) * 100 * cores);
      machine = mNow;
      const writes = m.pp_write_duration_seconds_count! - prev.w.count;
      const latency = writes > 0 ? Math.round(((m.pp_write_duration_seconds_sum! - prev.w.sum) / writes) * 1000) : 0;
      say(
        `${label} ${((t - t0) / 1000).toFixed(0).padStart(3)} s: broker acked ${Math.round((fleet.acked.samples - prev.acked) / s).toLocaleString('en').padStart(7)}/s, stored ${Math.round((stored.value - prev.stored) / s).toLocaleString('en').padStart(7)}/s, held ${String(m.pp_mqtt_inflight_messages).padStart(5)}, lines queued ${String(m.pp_write_queue_lines).padStart(6)}, writes ${writes} (${latency} ms, ${writes > 0 ? Math.round((m.pp_write_batch_lines_sum! - prev.w.lines) / writes) : 0} lines), loop lag p99 ${Math.round(m.pp_process_nodejs_eventloop_lag_p99_seconds! * 1000)} ms, heap ${Math.round(m.pp_process_nodejs_heap_size_used_bytes! / 2 ** 20)} MiB, array buffers ${Math.round(readMemorySplit(memoryFile).at(-1)?.arrayBuffers ?? NaN)} MiB, disk wait % ${disk.take()}, CPU % platform ${pct('platform')} mosquitto ${pct('mosquitto')} influxd ${pct('influxd')} harness ${pct('harness')} machine ${machinePct}, mosquitto RSS ${Math.round(rssMiB(pids.mosquitto).rss)} MiB, platform RSS ${Math.round(rssMiB(platform.pid).rss)} MiB`,
      );
      prev = { t, acked: fleet.acked.samples, stored: stored.value, cpu, w: { sum: m.pp_write_duration_seconds_sum!, count: m.pp_write_duration_seconds_count!, lines: m.pp_write_batch_lines_sum! } };
    }, () => undefined);
  }, 1000);
  return () => {
    clearInterval(timer);
    disk.stop();
    const peak = atPeak(readMemorySplit(memoryFile), memoryFrom);
    if (peak) say(`${label} peak: ${describe(peak)}`);
    const gcs = readMajorGcs(memoryFile).filter((g) => g.t >= memoryFrom);
    if (gcs.length > 0) say(`${label}: ${gcs.length} full collections; survived (old space + large objects, MiB): ${gcs.map((g) => Math.round(g.oldUsed + g.largeUsed)).join(' ')}`);
  };
}

let t0 = performance.now();
try {
  await fleet.connect();
  let stop = timeline('closed');
  let s0 = 0;
  let c0 = 0;
  let cpu0 = 0;
  const rss = new RssSampler(() => platform.pid, 100);
  const closedUsage = new UsageWindow(() => ({ platform: platform.pid, mosquitto: mosquitto.pid(), influxd: influx.pid(), harness: process.pid }));
  await fleet.run({ kind: 'window', consumed: () => stored.value, aheadSamples: 60_000 }, 12_000, (elapsed) => {
    if (c0 === 0 && elapsed >= 4000) {
      c0 = performance.now();
      s0 = stored.value;
      cpu0 = cpuSeconds(platform.pid);
      closedUsage.start();
      rss.reset();
    }
  });
  const max = (stored.value - s0) / ((performance.now() - c0) / 1000);
  const usPerSample = ((cpuSeconds(platform.pid) - cpu0) / (stored.value - s0)) * 1e6;
  const shareAtMax = ((cpuSeconds(platform.pid) - cpu0) / ((performance.now() - c0) / 1000)) * 100;
  rss.stop();
  stop();
  const cu = closedUsage.stop();
  say(`closed loop: ${Math.round(max).toLocaleString('en')} samples/s, ${usPerSample.toFixed(1)} µs CPU per sample, peak RSS ${Math.round(rss.peak)} MiB`);
  say(`  machine ${cu.machinePct} % of ${cores * 100} %: platform ${cu.cpuPct.platform} %, mosquitto ${cu.cpuPct.mosquitto} %, influxd ${cu.cpuPct.influxd} %, harness (fleet) ${cu.cpuPct.harness} %, other work ${cu.otherPct} %, load ${cu.loadAvg1}`);
  while ((await stored.poll()) < fleet.published) await new Promise((r) => setTimeout(r, 100));
  if (process.env.PRE1) {
    // As the backpressure bench does: a closed loop of 1-sample messages (the same devices, other gateways) before the overload.
    const f1 = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 1 }), mosquitto.url, 'timeline-1');
    await f1.connect();
    const base = await stored.poll(); // everything stored so far is the 10-sample fleet's
    stop = timeline('closed1');
    await f1.run({ kind: 'window', consumed: () => stored.value - base, aheadSamples: 6000 }, 12_000);
    stop();
    while ((await stored.poll()) - base < f1.published) await new Promise((r) => setTimeout(r, 100));
    await f1.stop();
    fleet.published += f1.published; // the drain checks below count the platform's total
  }
  say(`closed-loop maximum ${Math.round(max).toLocaleString('en')} samples/s; offering ${times}× for ${overloadS} s`);
  for (const decoy of process.env.DECOY ? [false, true, false, true] : [false]) {
    t0 = performance.now();
    stop = timeline('overload');
    const before = await stored.poll();
    const usage = new UsageWindow(() => ({ platform: platform.pid, mosquitto: mosquitto.pid(), influxd: influx.pid(), harness: process.pid })).start();
    await fleet.run({ kind: 'rate', samplesPerS: times * max }, overloadS * 1000);
    const during = ((await stored.poll()) - before) / ((performance.now() - t0) / 1000);
    const u = usage.stop();
    say(`overload: stored ${Math.round(during).toLocaleString('en')} samples/s = ${Math.round((during / max) * 100)} % of the maximum; draining${decoy ? ' while the same offer goes on to another broker nobody reads' : ''}`);
    // Stored rate = CPU share ÷ CPU per sample: which of the two fell, against the closed loop.
    const usOver = ((u.cpuPct.platform! / 100) * 1e6) / during;
    say(
      `  of which: platform CPU ${u.cpuPct.platform} % of a core (closed loop ${shareAtMax.toFixed(1)} %: ×${(u.cpuPct.platform! / shareAtMax).toFixed(2)}), ${usOver.toFixed(1)} µs per stored sample (closed loop ${usPerSample.toFixed(1)}: ×${(usPerSample / usOver).toFixed(2)} as a rate); ` +
        `machine ${u.machinePct} % of ${cores * 100} %: mosquitto ${u.cpuPct.mosquitto} %, influxd ${u.cpuPct.influxd} %, harness (fleet) ${u.cpuPct.harness} %, other work ${u.otherPct} %, load ${u.loadAvg1}`,
    );
    stop();
    // DECOY: the same offer goes on, to a second broker the platform does not read, while the
    // platform drains what it was offered: the harness and a broker cost the same CPU as during
    // the overload, but the platform's own broker no longer takes new messages for it.
    const other = decoy ? await startMosquitto() : null;
    const decoyFleet = other ? new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 }), other.url, 'decoy') : null;
    await decoyFleet?.connect();
    const d0 = performance.now();
    const s1 = await stored.poll();
    let decoyRun: Promise<unknown> = Promise.resolve();
    let decoyOn = true;
    if (decoyFleet) decoyRun = (async () => { while (decoyOn) await decoyFleet.run({ kind: 'rate', samplesPerS: times * max }, 1000); })();
    t0 = performance.now();
    stop = timeline(decoy ? 'drain+decoy' : 'drain');
    while ((await stored.poll()) < fleet.published) await new Promise((r) => setTimeout(r, 100));
    const drainRate = (stored.value - s1) / ((performance.now() - d0) / 1000);
    decoyOn = false;
    await decoyRun;
    stop();
    await decoyFleet?.stop();
    await other?.stop();
    say(`drained after ${((performance.now() - d0) / 1000).toFixed(1)} s at ${Math.round(drainRate).toLocaleString('en')} samples/s${decoy ? ' (offer going on elsewhere)' : ''}; published ${fleet.published} (with PRE1 the 1-sample closed loop's too), stored ${stored.value}`);
    // More stored than published is a redelivery counted twice: the platform's log says why.
    if (stored.value !== fleet.published) say(`  stored − published = ${stored.value - fleet.published}; the platform's warnings:\n${platform.output().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-20).join('\n')}`);
  }
} finally {
  stored.stop();
  await fleet.stop().catch(() => undefined);
  await platform.stop();
  await Promise.all([mosquitto.stop(), influx.stop()]);
}
process.exit(0);
