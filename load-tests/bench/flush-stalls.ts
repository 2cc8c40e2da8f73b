/**
 * `npx tsx load-tests/bench/flush-stalls.ts --baseline-rev <rev> [--seconds 150] [--rate 20000] [--rounds 1] [--cpu-prof DIR]`:
 * does the platform stop storing while its periodic work runs? With the full bench's fleet (20
 * gateways of 5,000 simulated machines, 10 samples per message) at a steady open-loop rate, the
 * completeness stage flushes every PP_QUALITY_FLUSH_S (60 s): every device's windows saved, every
 * device's hour and day rolled up. This tree beside a revision, alternated per round, each with a
 * fresh Mosquitto and platform (one influxd, a database per run).
 *
 * The platform's stored count is polled every 100 ms; a poll waits while the platform's thread is
 * busy, so the longest time between two increases of the count is the longest the platform stored
 * nothing (a stall, plus at most one poll period). Also per run: the slowest and the fastest
 * 1-s rate of storing (catching up after a stall) and the highest event-loop lag p99 the platform
 * reported (pp_process_nodejs_eventloop_lag_p99_seconds, scraped every second). The first 10 s
 * (start-up, the machines' first messages) are left out. `--cpu-prof DIR`: this tree's platform
 * runs under node --cpu-prof, its profiles written to DIR (`profile-summary.ts` reads them).
 */
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { argOf } from './cli-args.js';
import { Fleet } from './fleet.js';
import { buildPlatform, buildRevision, scrape, spawnBuiltPlatform } from './platform-process.js';
import { drain, StoredCounter } from './platform-phases.js';
import { loadAverage } from './proc-stats.js';
import { median } from './stats.js';
import { Workload } from './workload.js';

const arg = argOf(process.argv.slice(2));
const usage = 'usage: flush-stalls.ts --baseline-rev <rev> [--seconds 150] [--rate 20000] [--rounds 1] [--cpu-prof DIR]';
const profileDir = arg('--cpu-prof');
const baselineRev = arg('--baseline-rev');
if (!baselineRev) throw new Error(usage);
const seconds = Number(arg('--seconds', '150'));
const rate = Number(arg('--rate', '20000'));
const rounds = Number(arg('--rounds', '1'));
if (!(seconds > 10) || !(rate > 0) || !(Number.isInteger(rounds) && rounds >= 1)) throw new Error(usage);
const say = (s: string) => process.stdout.write(`${s}\n`);
const SKIP_MS = 10_000;

interface RunResult {
  longestGapMs: number;
  slowestPerS: number;
  fastestPerS: number;
  worstLagMs: number;
  stored: number;
}

const [influx, base] = await Promise.all([startInfluxd(), buildRevision(baselineRev, say), buildPlatform(say)]).then(([i, b]) => [i, b] as const);
const trees = [
  { name: 'this tree', dist: undefined as string | undefined },
  { name: base.sha, dist: base.dist },
];
const results: RunResult[][] = trees.map(() => []);

async function run(dist: string | undefined, label: string): Promise<RunResult> {
  const mosquitto = await startMosquitto();
  const platform = await spawnBuiltPlatform({
    env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: `stalls_${label}`, PP_AUTH: 'off', PP_MQTT_CLIENT_ID: `pp-stalls-${label}` },
    dist,
    nodeArgs: profileDir && dist === undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 25, samplesPerMessage: 10 }), mosquitto.url, `stalls-${label}`);
  const stored = new StoredCounter(platform.url, { everyMs: 3_600_000 }); // polled here, every 100 ms
  try {
    await fleet.connect();
    const t0 = performance.now();
    const result: RunResult = { longestGapMs: 0, slowestPerS: Infinity, fastestPerS: 0, worstLagMs: 0, stored: 0 };
    let polling = true;
    const polls = (async () => {
      let lastRise = performance.now();
      let last = await stored.poll();
      let second = { at: performance.now(), value: last };
      while (polling) {
        await new Promise((r) => setTimeout(r, 100));
        const value = await stored.poll();
        const t = performance.now();
        if (t - t0 < SKIP_MS) {
          lastRise = t;
          second = { at: t, value };
          last = value;
          continue;
        }
        if (value > last) {
          result.longestGapMs = Math.max(result.longestGapMs, t - lastRise);
          lastRise = t;
        }
        last = value;
        if (t - second.at >= 1000) {
          const perS = (value - second.value) / ((t - second.at) / 1000);
          result.slowestPerS = Math.min(result.slowestPerS, perS);
          result.fastestPerS = Math.max(result.fastestPerS, perS);
          second = { at: t, value };
        }
      }
    })();
    const lags = setInterval(() => {
      if (performance.now() - t0 < SKIP_MS) return;
      void scrape(platform.url, ['pp_process_nodejs_eventloop_lag_p99_seconds']).then(
        (m) => (result.worstLagMs = Math.max(result.worstLagMs, (m.pp_process_nodejs_eventloop_lag_p99_seconds ?? 0) * 1000)),
        () => undefined,
      );
    }, 1000);
    await fleet.run({ kind: 'rate', samplesPerS: rate }, seconds * 1000);
    polling = false;
    clearInterval(lags);
    await polls;
    if ((await drain(stored, fleet, 120_000)) < 0) throw new Error(`${label}: not drained within 120 s`);
    result.stored = stored.value;
    return result;
  } finally {
    stored.stop();
    await fleet.stop().catch(() => undefined);
    await platform.stop();
    await mosquitto.stop();
  }
}

say(`${rate.toLocaleString('en')} samples/s from 5,000 machines for ${seconds} s per run, ${rounds} round(s); load ${loadAverage()}`);
for (let r = 1; r <= rounds; r++) {
  const order = r % 2 === 1 ? [0, 1] : [1, 0];
  for (const k of order) {
    const tree = trees[k]!;
    const got = await run(tree.dist, `${k}_${r}`);
    results[k]!.push(got);
    say(
      `round ${r}, ${tree.name}: longest without storing ${Math.round(got.longestGapMs).toLocaleString('en')} ms, 1-s rates ${Math.round(got.slowestPerS).toLocaleString('en')} to ${Math.round(got.fastestPerS).toLocaleString('en')} samples/s, ` +
        `event-loop lag p99 up to ${Math.round(got.worstLagMs)} ms, ${got.stored.toLocaleString('en')} stored, load ${loadAverage()}`,
    );
  }
}
for (const [k, tree] of trees.entries()) {
  const rs = results[k]!;
  say(`${tree.name} (medians): longest without storing ${Math.round(median(rs.map((x) => x.longestGapMs))).toLocaleString('en')} ms, slowest 1-s rate ${Math.round(median(rs.map((x) => x.slowestPerS))).toLocaleString('en')} samples/s, lag p99 up to ${Math.round(median(rs.map((x) => x.worstLagMs)))} ms`);
}
await influx.stop();
process.exit(0);
