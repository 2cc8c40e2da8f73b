/**
 * Scale-out side by side (docs/scale-out.md, "Bench"): 1, 2 and 3 platform processes consuming
 * the same burst through NATS JetStream (PP_SOURCE=nats, partitions owned by leases) and through
 * one Mosquitto shared subscription (PP_MQTT_SHARED_GROUP), on 127.0.0.1. For each run: stored
 * rate (samples from the first publish to the last one in InfluxDB), loss (acknowledged to the
 * gateway, not stored), samples processed more than once (Σ pp_samples_stored_total − sent), and
 * whether every energy window equals the one a single analytics engine computes from all of the
 * device's samples (per-device analytics exact only when each device stays on one process).
 *
 *   npx tsx load-tests/bench/scale-out.ts [--quick]      (also: npm run bench -- --only-scale-out [--quick])
 */
import { cpus, loadavg } from 'node:os';
import { publishBurst, type BurstResult } from '../../edge-agent/index.js';
import { AnalyticsEngine } from '../../src/analytics/index.js';
import { parseEnergyConfig } from '../../src/analytics/energy/index.js';
import { EMPTY_RULES_CONFIG } from '../../src/analytics/rules/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { gatewayLogin, natsWorkerEnv, startNats } from '../../test/support/nats.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../../test/support/platform.js';
import { waitFor } from '../../test/support/ports.js';

export interface ScaleOutRun {
  transport: 'nats' | 'mosquitto-shared';
  instances: number;
  sent: number;
  stored: number;
  lost: number;
  processedTwice: number;
  samplesPerSecond: number;
  /** Energy windows that differ from a single engine's (kWh or sample count), of `windows`. */
  windowsWrong: number;
  windows: number;
}

const SHAPE = { sites: 1, linesPerSite: 2, machinesPerLine: 12, seed: 5, samplesPerMessage: 5, sampleIntervalMs: 60_000, maxInFlight: 100 };

function expectedWindows(burst: BurstResult): Map<string, { kwh: number; samples: number }> {
  const engine = new AnalyticsEngine(EMPTY_RULES_CONFIG, parseEnergyConfig({}));
  const out = new Map<string, { kwh: number; samples: number }>();
  for (const [key, samples] of burst.sent) {
    const [site, line, device] = key.split('/') as [string, string, string];
    for (let i = 0; i < samples.length; i += SHAPE.samplesPerMessage) {
      for (const p of engine.process({ site, line, device, seq: null, samples: samples.slice(i, i + SHAPE.samplesPerMessage) }, Date.now()).points) out.set(`${key} ${String(p.tags.window)} ${p.ts}`, { kwh: Number(p.fields.kwh), samples: Number(p.fields.samples) });
    }
  }
  return out;
}

async function runOnce(influx: InfluxdProcess, transport: ScaleOutRun['transport'], instances: number, samplesPerDevice: number, say: (s: string) => void): Promise<ScaleOutRun> {
  const db = `scale_out_${transport.replace('-', '_')}_${instances}_${Date.now()}`;
  await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });
  const storage = { PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: db, PP_LOG_LEVEL: 'warn', PP_ANALYTICS_TICK_MS: '1000' };
  const procs: PlatformProcess[] = [];
  const broker = transport === 'nats' ? await startNats() : await startMosquitto();
  try {
    let brokerUrl: string;
    let login = {};
    if (transport === 'nats') {
      const nats = broker as Awaited<ReturnType<typeof startNats>>;
      for (let i = 1; i <= instances; i++) procs.push(await spawnPlatform(natsWorkerEnv(nats, { ...storage, PP_NATS_WORKER_ID: `bench-${i}` })));
      // Every partition owned, split evenly, before the burst.
      await waitFor(async () => {
        const owned = await Promise.all(procs.map(async (p) => (/"owned":(\[[^\]]*\])/.exec(JSON.stringify(await (await fetch(`${p.url}/readyz`)).json()))?.[1] ?? '[]')));
        const counts = owned.map((o) => (JSON.parse(o) as string[]).length);
        return counts.reduce((a, b) => a + b, 0) === 13 && Math.max(...counts) - Math.min(...counts) <= 1;
      }, 30_000, 'partitions split', 200);
      brokerUrl = nats.mqttUrl;
      login = gatewayLogin('site-01');
    } else {
      brokerUrl = (broker as Awaited<ReturnType<typeof startMosquitto>>).url;
      for (let i = 1; i <= instances; i++) procs.push(await spawnPlatform({ ...storage, PP_MQTT_URL: brokerUrl, PP_MQTT_CLIENT_ID: `bench-${i}`, PP_MQTT_SHARED_GROUP: 'bench' }));
    }
    const started = Date.now();
    const burst = await publishBurst({ brokerUrl, ...login, ...SHAPE, samplesPerDevice });
    const stored = async () => Number((await queryInfluxQL(influx.url, db, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
    let lastCount = -1;
    let lastChange = Date.now();
    let finished = started;
    // Until everything is stored, or nothing more arrives for 35 s (what is left is lost): longer
    // than the redelivery of a message not acked in time (PP_NATS_ACK_WAIT_S, 30 s).
    await waitFor(async () => {
      const n = await stored();
      if (n !== lastCount) {
        lastCount = n;
        lastChange = Date.now();
        finished = lastChange;
      }
      return n >= burst.samples || Date.now() - lastChange > 35_000;
    }, 180_000, 'burst stored', 100);
    const count = await stored();
    let processed = 0;
    for (const p of procs) processed += await scrapeMetric(p.url, 'pp_samples_stored_total', { source: transport === 'nats' ? 'nats' : 'mqtt' });
    const expected = expectedWindows(burst);
    const rows = await queryInfluxQL(influx.url, db, 'SELECT kwh, samples FROM energy GROUP BY site, line, device, window');
    let wrong = Math.max(0, expected.size - rows.length);
    for (const r of rows) {
      const want = expected.get(`${r.site}/${r.line}/${r.device} ${r.window} ${r.time}`);
      if (!want || Math.abs(Number(r.kwh) - want.kwh) > 1e-9 || Number(r.samples) !== want.samples) wrong++;
    }
    const run: ScaleOutRun = { transport, instances, sent: burst.samples, stored: count, lost: burst.samples - count, processedTwice: Math.max(0, processed - burst.samples), samplesPerSecond: Math.round(count / ((finished - started) / 1000)), windowsWrong: wrong, windows: expected.size };
    if (run.lost > 0) say(procs.map((p) => p.output().slice(-1500)).join('\n'));
    say(`${transport} × ${instances}: ${run.samplesPerSecond} samples/s stored, sent ${run.sent}, stored ${run.stored}, processed twice ${run.processedTwice}, energy windows wrong ${run.windowsWrong} of ${run.windows}`);
    return run;
  } finally {
    for (const p of procs) await p.kill('SIGTERM');
    await broker.stop();
  }
}

/** Every combination once, NATS and Mosquitto interleaved per instance count (side by side under the same load). */
export async function measureScaleOut(opts: { quick: boolean }, say: (s: string) => void): Promise<{ runs: ScaleOutRun[]; loadAvg: [number, number] }> {
  const samplesPerDevice = opts.quick ? 600 : 1800;
  const influx = await startInfluxd();
  const runs: ScaleOutRun[] = [];
  const before = loadavg()[0]!;
  try {
    for (const n of [1, 2, 3]) for (const t of ['nats', 'mosquitto-shared'] as const) runs.push(await runOnce(influx, t, n, samplesPerDevice, say));
  } finally {
    await influx.stop();
  }
  return { runs, loadAvg: [before, loadavg()[0]!] };
}

export function scaleOutMarkdown(r: { runs: ScaleOutRun[]; loadAvg: [number, number] }, command: string): string[] {
  const one = (t: string) => r.runs.find((x) => x.transport === t && x.instances === 1)?.samplesPerSecond ?? NaN;
  return [
    `Command: \`${command}\`. ${cpus().length} cores, load average ${r.loadAvg[0].toFixed(1)} → ${r.loadAvg[1].toFixed(1)}. 24 devices, a sample a minute, 5 samples per message; each run its own broker and database.`,
    '',
    '| transport | instances | stored samples/s | × one | sent | stored | lost | processed twice | energy windows wrong |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.runs.map((x) => `| ${x.transport} | ${x.instances} | ${x.samplesPerSecond} | ${(x.samplesPerSecond / one(x.transport)).toFixed(2)} | ${x.sent} | ${x.stored} | ${x.lost} | ${x.processedTwice} | ${x.windowsWrong} of ${x.windows} |`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const result = await measureScaleOut({ quick }, say);
  process.stdout.write(`${scaleOutMarkdown(result, `npx tsx load-tests/bench/scale-out.ts${quick ? ' --quick' : ''}`).join('\n')}\n`);
  process.exit(0);
}
