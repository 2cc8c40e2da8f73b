/**
 * `npm run bench [-- --quick] [-- --profile]`: PlantPulse's speed, side by side with its limits.
 *
 * Starts its own Mosquitto and influxd (temporary dirs, free ports on 127.0.0.1), builds and
 * spawns the platform as its own process, connects a fleet of simulated gateways, a live
 * dashboard WebSocket client, an alert subscriber and a webhook receiver (subscribed through the
 * API with the admin token), then, interleaved `repetitions` times: the broker alone, InfluxDB
 * alone, and the platform, each at its sustained maximum (closed loop). Then a ramp of open-loop
 * steps at fractions of the platform's maximum, with latency, alert latency (MQTT and webhook),
 * CPU and RSS per step; then checks that every acknowledged sample is in InfluxDB. Then
 * horizontal scale (scale.ts: 1, 2, 3 instances on one shared subscription, at a fixed load and
 * at their maximum, nothing lost or duplicated; `--no-scale` skips it), and memory per tracked
 * device. Bounded in time (quick about 3 min, full about 12 min); all traffic on 127.0.0.1.
 * Results: load-tests/results/<out>.json and .md. See load-tests/README.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { waitFor } from '../../test/support/ports.js';
import { Fleet } from './fleet.js';
import { measureBroker, measureInflux } from './limits.js';
import { parseBenchArgs } from './options.js';
import { buildPlatform, spawnBuiltPlatform } from './platform-process.js';
import { drain, measurePlatformSaturation, rampStep, StoredCounter, type PlatformContext } from './platform-phases.js';
import { loadAverage, RssSampler, rssMiB } from './proc-stats.js';
import { measureBackpressure, type BackpressureResult } from './backpressure.js';
import { backpressureMarkdown } from './backpressure-report.js';
import { summariseProfile } from './profile-summary.js';
import { markdown, writeResults, type BenchResults, type MemoryResult } from './report.js';
import { measureScale, type ScaleResult } from './scale.js';
import { measureScaleOut, scaleOutMarkdown } from './scale-out.js';
import { median } from './stats.js';
import { AlertWatcher, LiveWatcher } from './watchers.js';
import { WebhookWatcher } from './webhook-watcher.js';
import { Workload } from './workload.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const started = Date.now();
const say = (s: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

function memoryPerDevice(devices: number): MemoryResult | null {
  try {
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', join(ROOT, 'load-tests/bench/memory-per-device.ts'), String(devices)], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    return JSON.parse(out.trim().split('\n').at(-1)!) as MemoryResult;
  } catch (err) {
    say(`memory per device failed: ${(err as Error).message}`);
    return null;
  }
}

/** `--only-backpressure --baseline-rev <rev>`: that phase alone, its own results file. */
async function backpressureOnly(opts: ReturnType<typeof parseBenchArgs>): Promise<void> {
  const loadAvgAtStart = loadAverage();
  say(`bench backpressure (${opts.mode}): load average ${loadAvgAtStart} on ${cpus().length} cores`);
  const [influx] = await Promise.all([startInfluxd(), buildPlatform(say)]);
  try {
    const bp = await measureBackpressure(influx, opts.backpressure!, say);
    const out = `${opts.out}-${opts.backpressure!.onlyOverload ? 'overload' : 'backpressure'}`;
    const backlogArg = process.argv.includes('--backlog') ? ` --backlog ${opts.backpressure!.backlogSamples}` : '';
    const bp0 = opts.backpressure!;
    const envArg = Object.keys(bp0.currentEnv).length > 0 ? ` --current-env ${Object.entries(bp0.currentEnv).map(([k, v]) => `${k}=${v}`).join(',')}` : '';
    const command = `npm run bench --${opts.mode === 'quick' ? ' --quick' : ''} ${bp0.onlyOverload ? '--only-overload' : '--only-backpressure'} --baseline-rev ${bp0.baselineRev}${backlogArg}${envArg}`;
    const md = [`# PlantPulse bench, backpressure (${opts.mode}) — ${new Date().toISOString()}`, '', `Command: \`${command}\`. Node ${process.version}, ${cpus().length} cores.`, ...backpressureMarkdown(bp)].join('\n');
    const dir = join(ROOT, 'load-tests', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${out}.json`), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, command, machine: { cores: cpus().length, loadAvgAtStart, loadAvgAtEnd: loadAverage() }, backpressure: bp }, null, 2)}\n`);
    writeFileSync(join(dir, `${out}.md`), `${md}\n`);
    process.stdout.write(`\n${md}\n`);
    say(`results: load-tests/results/${out}.json, .md`);
  } finally {
    await influx.stop();
  }
}

/** `--only-scale-out`: NATS workers beside Mosquitto shared-subscription instances, its own results file. */
async function scaleOutOnly(opts: ReturnType<typeof parseBenchArgs>): Promise<void> {
  const command = `npm run bench -- --only-scale-out${opts.mode === 'quick' ? ' --quick' : ''}`;
  const result = await measureScaleOut({ quick: opts.mode === 'quick' }, say);
  const md = [`# PlantPulse bench, scale-out (${opts.mode}) — ${new Date().toISOString()}`, '', ...scaleOutMarkdown(result, command)].join('\n');
  const dir = join(ROOT, 'load-tests', 'results');
  mkdirSync(dir, { recursive: true });
  const out = `${opts.out}-scale-out`;
  writeFileSync(join(dir, `${out}.json`), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, command, ...result }, null, 2)}\n`);
  writeFileSync(join(dir, `${out}.md`), `${md}\n`);
  process.stdout.write(`\n${md}\n`);
  say(`results: load-tests/results/${out}.json, .md`);
}

async function main() {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (opts.onlyBackpressure) return backpressureOnly(opts);
  if (opts.onlyScaleOut) return scaleOutOnly(opts);
  const notes: string[] = [];
  const loadAvgAtStart = loadAverage();
  say(`bench (${opts.mode}): load average ${loadAvgAtStart} on ${cpus().length} cores; building the platform and starting Mosquitto and influxd`);
  const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto(), buildPlatform(say)]);
  const profDir = join(ROOT, '.tmp', `bench-prof-${Date.now()}`);
  // Access control stays on, as shipped: the harness is an admin (the dashboard client needs a token).
  const adminToken = `ppt_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const platform = await spawnBuiltPlatform({
    env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'bench', PP_MQTT_CLIENT_ID: 'pp-bench', PP_WRITE_BATCH_LINES: String(opts.batchLines), PP_MQTT_RECEIVE_MAXIMUM: String(opts.receiveMaximum), PP_BOOTSTRAP_ADMIN_TOKEN: adminToken },
    nodeArgs: opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  const startRss = rssMiB(platform.pid).rss;
  say(`platform pid ${platform.pid} at ${platform.url} (RSS ${startRss.toFixed(0)} MiB)${opts.profile ? `, profiling into ${profDir}` : ''}`);
  const workload = new Workload(opts.fleet);
  const fleet = new Fleet(workload, mosquitto.url, 'bench-gw');
  const live = new LiveWatcher();
  const alerts = new AlertWatcher();
  const rss = new RssSampler(() => platform.pid);
  const stored = new StoredCounter(platform.url);
  const ctx: PlatformContext = { platform, fleet, live, alerts, rss, pids: () => ({ platform: platform.pid, mosquitto: mosquitto.pid(), influxd: influx.pid(), harness: process.pid }), say };
  try {
    await Promise.all([
      fleet.connect(),
      alerts.connect(mosquitto.url),
      live.connect(platform.url, adminToken).catch((err: Error) => {
        notes.push(`no live-hub latency: the WebSocket client could not subscribe (${err.message})`);
        say(`live hub unavailable: ${err.message}; latency will be missing`);
      }),
      WebhookWatcher.subscribe(platform.url, adminToken).then(
        (w) => {
          ctx.webhooks = w;
          say(`webhook receiver subscribed (${w.subscriptionId}: safety alerts, opened)`);
        },
        (err: Error) => {
          notes.push(`no webhook alert latency: the subscription could not be created (${err.message})`);
          say(`webhook subscription failed: ${err.message}; webhook latency will be missing`);
        },
      ),
    ]);
    const payloadBytes = Buffer.byteLength(JSON.stringify({ seq: 1, samples: new Workload({ ...opts.fleet, sites: 1, linesPerSite: 1, machinesPerLine: 1 }).nextSamples(0) }));
    say(`fleet: ${fleet.gateways.length} gateways, ${workload.size} devices; warming up (every device reports once)`);
    await fleet.run({ kind: 'window', consumed: () => stored.value, aheadSamples: opts.aheadSamples }, 3000 + (workload.size * workload.samplesPerMessage) / 20_000 * 1000);
    await drain(stored, fleet, 60_000);

    const repetitions: BenchResults['repetitions'] = [];
    for (let r = 1; r <= opts.repetitions; r++) {
      say(`repetition ${r}/${opts.repetitions}: broker alone`);
      const broker = await measureBroker(workload, { durationMs: opts.saturationMs, warmupMs: opts.warmupMs, aheadSamples: opts.aheadSamples, receiveMaximum: opts.receiveMaximum, progress: say });
      say(`  broker alone: ${broker.samplesPerS.toLocaleString('en')} samples/s (${broker.messagesPerS.toLocaleString('en')} messages/s)`);
      say(`repetition ${r}/${opts.repetitions}: InfluxDB alone`);
      const inf = await measureInflux(influx, `limit_${r}`, opts.fleet, { durationMs: opts.saturationMs - opts.warmupMs, batchLines: opts.batchLines, concurrency: 1, progress: say });
      say(`  InfluxDB alone: ${inf.samplesPerS.toLocaleString('en')} samples/s in batches of ${opts.batchLines}`);
      say(`repetition ${r}/${opts.repetitions}: platform (closed loop)`);
      const plat = await measurePlatformSaturation(ctx, stored, { durationMs: opts.saturationMs, warmupMs: opts.warmupMs, aheadSamples: opts.aheadSamples });
      say(`  platform: ${plat.samplesPerS.toLocaleString('en')} samples/s, CPU ${plat.usage.cpuPct.platform} %, machine ${plat.usage.machinePct} % of 200 %`);
      repetitions.push({ broker, influx: inf, platform: plat });
    }
    const ratios = repetitions.map((x) => x.platform.samplesPerS / Math.min(x.broker.samplesPerS, x.influx.samplesPerS));
    const brokerMed = median(repetitions.map((x) => x.broker.samplesPerS));
    const influxMed = median(repetitions.map((x) => x.influx.samplesPerS));
    const platMed = median(repetitions.map((x) => x.platform.samplesPerS));
    const limit = Math.min(brokerMed, influxMed);

    const ramp = [];
    for (const fraction of opts.rampSteps) {
      const rate = Math.round(platMed * fraction);
      say(`ramp: ${Math.round(fraction * 100)} % of the max = ${rate.toLocaleString('en')} samples/s for ${opts.stepMs / 1000} s`);
      const step = await rampStep(ctx, stored, { fraction, samplesPerS: rate, durationMs: opts.stepMs, faults: fraction === 0.5 ? opts.faults : 0 });
      const al = step.alertLatencyMs;
      const wh = step.webhookLatencyMs;
      say(`  stored ${step.storedSamplesPerS.toLocaleString('en')} samples/s, kept up: ${step.keptUp}, latency p50 ${step.latencyMs.p50} / p95 ${step.latencyMs.p95} / p99 ${step.latencyMs.p99} ms${al ? `, alert on MQTT p50 ${al.p50} / p95 ${al.p95} ms (${al.n}/${al.injected})` : ''}${wh ? `, webhook p50 ${wh.p50} / p95 ${wh.p95} / max ${wh.max} ms (${wh.n}/${wh.injected})` : ''}`);
      ramp.push(step);
    }
    const best = ramp.filter((s) => s.keptUp).sort((a, b) => b.storedSamplesPerS - a.storedSamplesPerS)[0];

    say('zero loss: counting every acknowledged sample in InfluxDB');
    const published = fleet.acked.samples;
    let inInflux = 0;
    await waitFor(async () => {
      inInflux = Number((await queryInfluxQL(influx.url, 'bench', 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
      return inInflux >= published;
    }, 120_000, 'every sample in InfluxDB', 1000).catch((err: Error) => notes.push(`zero-loss check: ${err.message}`));
    say(`  published ${published.toLocaleString('en')}, in InfluxDB ${inInflux.toLocaleString('en')}`);
    const peakRss = rssMiB(platform.pid).peak;
    const webhook = ctx.webhooks ? { subscriptionId: ctx.webhooks.subscriptionId, requests: ctx.webhooks.received, badSignatures: ctx.webhooks.badSignatures, byEventAndRule: ctx.webhooks.tally } : null;

    await fleet.stop();
    live.close();
    await alerts.close();
    await ctx.webhooks?.close();
    stored.stop();
    rss.stop();
    await platform.stop();

    let scale: ScaleResult | null = null;
    if (opts.scale) {
      const sc = opts.scale;
      const fixedSamplesPerS = Math.round(platMed * sc.fixedFraction);
      say(`horizontal scale: ${sc.instances.join(', ')} instances on one shared subscription, ${sc.repetitions} repetition${sc.repetitions > 1 ? 's' : ''} interleaved; fixed load ${fixedSamplesPerS.toLocaleString('en')} samples/s (${Math.round(sc.fixedFraction * 100)} % of one platform's max), then each configuration's max`);
      scale = await measureScale(
        influx,
        { fleet: opts.fleet, instances: sc.instances, repetitions: sc.repetitions, fixedSamplesPerS, fixedMs: sc.fixedMs, durationMs: sc.durationMs, warmupMs: sc.warmupMs, aheadSamples: opts.aheadSamples, batchLines: opts.batchLines, receiveMaximum: opts.receiveMaximum },
        say,
        cpus().length,
      );
      for (const x of scale.summary) say(`  ${x.instances} instance${x.instances > 1 ? 's' : ''}: max ${x.samplesPerS.toLocaleString('en')} samples/s (×${x.vsOne.toFixed(2)}), limit: ${x.bottleneck.why}`);
      if (scale.lost > 0 || scale.duplicates > 0) notes.push(`horizontal scale: ${scale.lost} samples lost, ${scale.duplicates} duplicated`);
    }
    let profile: BenchResults['profile'];
    if (opts.profile) {
      const files = readdirSync(profDir).map((f) => join(profDir, f));
      const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
      profile = { file: main.replace(ROOT, ''), note: 'whole run, platform process main thread; figures of a profiled run are lower than unprofiled ones', top: summariseProfile(main, 20).functions };
    }

    let backpressure: BackpressureResult | undefined;
    if (opts.backpressure) {
      say(`backpressure and memory, side by side with ${opts.backpressure.baselineRev}`);
      backpressure = await measureBackpressure(influx, opts.backpressure, say);
    }

    say(`memory per tracked device: ${opts.memoryDevices.toLocaleString('en')} devices through the analytics engine, alert manager and live values (own process)`);
    const memory = memoryPerDevice(opts.memoryDevices);

    if (opts.profile) notes.push('profiled run (--cpu-prof): rates are lower than without profiling');
    notes.push('Latency is measured from the newest sample of a message (stamped when the gateway builds it) to its live-hub update on a WebSocket dashboard client; earlier samples of a batch are older by the gateway\'s batching, which is not the platform\'s latency.');
    notes.push('Broker alone and InfluxDB alone run in their own processes, as the platform does; the fleet runs in the harness process and competes for the same 2 cores in every phase.');
    const results: BenchResults = {
      date: new Date().toISOString(),
      node: process.version,
      mode: opts.mode,
      command: `npm run bench${opts.mode === 'quick' || opts.profile || !opts.scale || opts.backpressure ? ' --' : ''}${opts.mode === 'quick' ? ' --quick' : ''}${opts.profile ? ' --profile' : ''}${opts.scale ? '' : ' --no-scale'}${opts.backpressure ? ` --baseline-rev ${opts.backpressure.baselineRev}` : ''}`,
      machine: { cores: cpus().length, loadAvgAtStart, loadAvgAtEnd: loadAverage() },
      fleet: { ...opts.fleet, devices: workload.size, gateways: fleet.gateways.length, payloadBytes },
      repetitions,
      median: { brokerSamplesPerS: brokerMed, influxSamplesPerS: influxMed, platformSamplesPerS: platMed, platformMessagesPerS: median(repetitions.map((x) => x.platform.messagesPerS)), limitSamplesPerS: limit, limitBy: brokerMed <= influxMed ? 'broker' : 'influxdb', ratio: Number(median(ratios).toFixed(3)), ratioPerRepetition: ratios.map((x) => Number(x.toFixed(3))) },
      ramp,
      sustained: best ? { samplesPerS: best.storedSamplesPerS, messagesPerS: best.storedMessagesPerS, fraction: best.fraction, ratioToLimit: Number((best.storedSamplesPerS / limit).toFixed(3)) } : null,
      halfRate: ramp.find((s) => s.fraction === 0.5) ?? null,
      zeroLoss: { published, storedInInflux: inInflux, lost: Math.max(0, published - inInflux) },
      platform: { peakRssMiB: Number(peakRss.toFixed(1)), startRssMiB: Number(startRss.toFixed(1)) },
      memory,
      webhook,
      scale,
      ...(backpressure ? { backpressure } : {}),
      ...(profile ? { profile } : {}),
      notes,
    };
    const files = await writeResults(results, opts.out);
    process.stdout.write(`\n${markdown(results)}\n`);
    say(`results: ${files.json}, ${files.md}`);
    if (results.zeroLoss.lost > 0 || (scale && (scale.lost > 0 || scale.duplicates > 0))) process.exitCode = 1;
  } finally {
    stored.stop();
    rss.stop();
    await ctx.webhooks?.close().catch(() => undefined);
    await platform.stop().catch(() => undefined);
    await Promise.all([mosquitto.stop(), influx.stop()]);
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack}\n`);
    process.exit(1);
  },
);
