/**
 * `npx tsx load-tests/bench/heap-flags.ts [seconds] [repetitions] [samples per message]`: the
 * built platform at its closed-loop maximum under different V8 heap flags, side by side on one
 * Mosquitto and one influxd: stored samples/s, CPU per sample, peak RSS. Each variant is its own
 * platform process (its own MQTT session and database); the variants run one after the other,
 * rotated per repetition, so a busy minute on the shared machine does not fall on one variant.
 *
 * VARIANTS overrides the flag sets: variants separated by `;`, flags within one by spaces
 * (`none` for no flags), e.g. VARIANTS="none;--max-semi-space-size=32". A `NAME=value` in a
 * variant is an environment variable of its platform instead, e.g.
 * VARIANTS="PP_HEAP_GROWTH_PERCENT=0;PP_HEAP_GROWTH_PERCENT=50" (the platform sets V8's heap
 * growth itself at start, from that variable: a node flag for it would be overridden).
 */
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { Fleet } from './fleet.js';
import { buildPlatform, spawnBuiltPlatform, type PlatformProcess } from './platform-process.js';
import { drain, StoredCounter } from './platform-phases.js';
import { cpuSeconds, loadAverage, RssSampler } from './proc-stats.js';
import { median } from './stats.js';
import { Workload } from './workload.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const seconds = Number(process.argv[2] ?? 14);
const repetitions = Number(process.argv[3] ?? 2);
const perMessage = Number(process.argv[4] ?? 10);
const WARMUP_S = 4;
const variants = (process.env.VARIANTS ?? 'none;--max-semi-space-size=16;--max-semi-space-size=32;--max-semi-space-size=64').split(';').map((v) => (v.trim() === 'none' ? [] : v.trim().split(/\s+/)));
const isEnv = (flag: string) => /^[A-Z][A-Z0-9_]*=/.test(flag);
const envOf = (flags: string[]) => Object.fromEntries(flags.filter(isEnv).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));

interface Run {
  samplesPerS: number;
  cpuUsPerSample: number;
  peakRssMiB: number;
}

const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto(), buildPlatform(say)]);
const procs: { flags: string[]; platform: PlatformProcess; fleet: Fleet; runs: Run[] }[] = [];
try {
  for (const [i, flags] of variants.entries()) {
    const platform = await spawnBuiltPlatform({ env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: `flags${i}`, PP_AUTH: 'off', PP_MQTT_CLIENT_ID: `pp-flags-${i}`, ...envOf(flags) }, nodeArgs: flags.filter((f) => !isEnv(f)) });
    const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: perMessage }), mosquitto.url, `flags${i}`);
    await fleet.connect();
    procs.push({ flags, platform, fleet, runs: [] });
  }
  for (let r = 0; r < repetitions; r++) {
    for (let k = 0; k < procs.length; k++) {
      const v = procs[(k + r) % procs.length]!;
      const stored = new StoredCounter(v.platform.url);
      const rss = new RssSampler(() => v.platform.pid, 100);
      let t0 = 0;
      let s0 = 0;
      let c0 = 0;
      await stored.poll();
      const base = stored.value - v.fleet.published;
      await v.fleet.run({ kind: 'window', consumed: () => stored.value - base, aheadSamples: 60_000 }, seconds * 1000, (elapsed) => {
        if (t0 === 0 && elapsed >= WARMUP_S * 1000) {
          t0 = performance.now();
          s0 = stored.value;
          c0 = cpuSeconds(v.platform.pid);
          rss.reset();
        }
      });
      const samples = stored.value - s0;
      const run = { samplesPerS: Math.round(samples / ((performance.now() - t0) / 1000)), cpuUsPerSample: Number((((cpuSeconds(v.platform.pid) - c0) / samples) * 1e6).toFixed(1)), peakRssMiB: Math.round(rss.peak) };
      rss.stop();
      await drain({ value: stored.value - base, poll: async () => (await stored.poll()) - base }, v.fleet, 60_000);
      stored.stop();
      v.runs.push(run);
      say(`${v.flags.join(' ') || '(no flags)'}: ${run.samplesPerS.toLocaleString('en')} samples/s, ${run.cpuUsPerSample} µs CPU/sample, peak RSS ${run.peakRssMiB} MiB (load ${loadAverage()})`);
    }
  }
  say(`\nmedians of ${repetitions}, ${perMessage} samples per message, ${seconds - WARMUP_S} s each:`);
  say('| node flags | samples/s | µs CPU per sample | peak RSS MiB |\n|---|---:|---:|---:|');
  for (const v of procs) say(`| ${v.flags.join(' ') || '(none)'} | ${median(v.runs.map((x) => x.samplesPerS)).toLocaleString('en')} | ${median(v.runs.map((x) => x.cpuUsPerSample))} | ${median(v.runs.map((x) => x.peakRssMiB))} |`);
} finally {
  for (const v of procs) {
    await v.fleet.stop().catch(() => undefined);
    await v.platform.stop();
  }
  await Promise.all([mosquitto.stop(), influx.stop()]);
}
process.exit(0);
