/**
 * npx tsx load-tests/bench/stored-batch.ts [--baseline DIR]... [--devices 200] [--batch 1] [--burst 2000] [--seconds 600] [--reorder] [--mqtt [--fleet] [--full]] [--rounds 3]
 *
 * What the platform does for a message around storage, in this process: the pipeline's ingest
 * (counting, the batch's points) and, once the write resolves, what hears every stored batch:
 * data completeness (its accounting and the burst's SQLite save, in a temporary directory) and
 * the live hub with no dashboard connected, wired as the platform wires them (no analytics, no
 * line protocol: a writer that resolves each burst of `--burst` writes together, as one flight of
 * the batch writer does; `--reorder`: the burst's second half first, as two flights landing out of
 * order; `--mqtt`: each message decoded by the checkout's MQTT decoder from its topic and JSON, then
 * ingested as its MQTT source does: through the pipeline's and the writer's callback forms where
 * the checkout has them (`ingestThen`, `writeThen`), else through their promises; the decode is in
 * the figure). `--devices` devices in messages of `--batch` samples, each device one
 * sample a second by its own seq, `--seconds` simulated seconds (the first fifth warms up, not
 * measured). Each checkout (this one, and
 * each `--baseline DIR`, a checkout of another commit with its node_modules) runs in its own
 * process, rounds alternated; the figure is the process's CPU µs per sample over the run (median
 * of the rounds), with the load average beside it (the machine is shared).
 *
 * `--fleet` (with `--mqtt`): the messages are the backpressure bench's fleet instead (its simulated
 * machines: nine metrics with one to three decimals, counters that grow, 20 sites × 10 lines, one
 * machine each: `--devices` is then 200), the same bytes for every checkout. `--full` (with
 * `--mqtt`): the whole per-message path of the platform but the network: the analytics stage
 * (default rules and energy accounting, alerts raised into nothing) and the batch writer (line
 * protocol, batches of 5,000 lines) over a sink that takes every batch at once; each burst is
 * flushed before the next.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './stats.js';
import { Workload } from './workload.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string', multiple: true },
    devices: { type: 'string', default: '200' },
    batch: { type: 'string', default: '1' },
    burst: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '600' },
    reorder: { type: 'boolean', default: false },
    mqtt: { type: 'boolean', default: false },
    fleet: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    child: { type: 'string' },
  },
});

interface RunResult {
  samples: number;
  usPerSample: number;
  stored: number;
  received: number;
}

const T0 = Date.UTC(2026, 0, 5, 16);

async function child(checkout: string): Promise<RunResult> {
  const src = (p: string) => import(pathToFileURL(join(checkout, 'src', p)).href);
  const { Pipeline } = await src('pipeline/index.ts');
  const { createMetrics, createLogger } = await src('observability/index.ts');
  const { LiveHub } = await src('live/index.ts');
  const { startQualityStage } = await src('quality/start-quality.ts');
  const { DEFAULT_QUALITY_CONFIG } = await src('quality/config.ts');
  const devices = args.fleet ? 200 : Number(args.devices);
  const batchN = Number(args.batch);
  const burst = Number(args.burst);
  const seconds = Number(args.seconds);
  const dir = mkdtempSync(join(tmpdir(), 'pp-bench-stored-'));
  const metrics = createMetrics();
  const log = createLogger('silent');
  let now = T0;
  // Resolves a burst's writes together, as one flight of the batch writer.
  type Waiter = { written(): void };
  let waiting: Waiter[] = [];
  const writer = {
    saturated: false,
    write: (): Promise<void> => new Promise<void>((r) => waiting.push({ written: r })),
    writeThen: (_points: unknown, waiter: Waiter): void => void waiting.push(waiter),
  };
  // --full: the platform's own analytics stage and batch writer, over a sink that takes every batch at once.
  let batchWriter: { flush(): Promise<void> } | null = null;
  let pipeline;
  if (args.full) {
    const { AnalyticsEngine, loadAnalyticsConfig } = await src('analytics/index.ts');
    const { AnalyticsStage } = await src('pipeline/index.ts');
    const { BatchWriter } = await src('storage/index.ts');
    const config = loadAnalyticsConfig(undefined);
    const stage = new AnalyticsStage(new AnalyticsEngine(config.rules, config.energy), { raise: () => {}, tick: () => {} }, metrics, log, () => now);
    const sink = { name: 'bench', connect: async () => {}, write: async () => {}, ping: async () => {}, close: async () => {} };
    const bw = new BatchWriter(sink, {});
    batchWriter = bw;
    pipeline = new Pipeline(bw, metrics, log, stage);
  } else pipeline = new Pipeline(writer, metrics, log, null);
  const live = new LiveHub({ maxMessageBytes: 65536, maxClients: 10, pingIntervalMs: 60_000, plantUtcOffsetMinutes: 480, telemetryIntervalMs: 1000, maxSubscriptions: 100, maxBufferedBytes: 1 << 20 }, metrics, log);
  pipeline.onStored((b: unknown) => live.publish(b));
  const quality = await startQualityStage({ config: { ...DEFAULT_QUALITY_CONFIG, utcOffsetMs: 8 * 3_600_000 }, dataDir: dir, history: { available: false, query: async () => [] }, writer: { write: async () => {} }, alerts: { raise: () => {} } as never, metrics, log, clock: () => now });
  pipeline.onStored((b: unknown) => quality.accept(b));
  // Messages as the decoder hands them over: new objects each (the stages keep references to
  // some), with a device's ids the same strings every time, as the MQTT source's remembered topics give them.
  const refs = Array.from({ length: devices }, (_, d) => ({ site: `s${d % 20}`, line: `l${d % 10}`, device: `d${d}` }));
  const values = () => ({ power_kw: 12.5 + Math.random(), energy_kwh: 1000.25 + Math.random(), temp_c: 20.5 + Math.random(), current_a: 3.25 + Math.random() });
  const messagesPerDevice = Math.floor(seconds / batchN);
  const messages: object[] = [];
  const fleet = args.fleet ? new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: batchN }, T0) : null;
  const topics = (fleet?.devices ?? refs).map((r) => `pp/v1/${r.site}/${r.line}/${r.device}/metrics`);
  for (let k = 0; k < messagesPerDevice; k++)
    for (let d = 0; d < topics.length; d++) {
      // The fleet's samples end one sampling interval per sample after the device's last.
      const samples = fleet ? fleet.nextSamples(d, T0 + (k + 1) * batchN * 1000) : Array.from({ length: batchN }, (_, j) => ({ ts: T0 + (k * batchN + j) * 1000, m: values() }));
      const body = { seq: k, samples };
      messages.push(args.mqtt ? { topic: topics[d]!, payload: Buffer.from(JSON.stringify(body)) } : { ...refs[d]!, ...body });
    }
  let acked = 0;
  const ack = () => void acked++;
  const acker = { written: ack };
  const { decodeMqttMessage, DEFAULT_LIMITS } = args.mqtt ? await src('contract/index.ts') : {};
  const limits = { ...DEFAULT_LIMITS, maxFutureSkewMs: 1e15 }; // simulated time runs ahead of the clock
  const thenForm = typeof pipeline.ingestThen === 'function';
  const ingest = (m: { topic: string; payload: Buffer }) => {
    const batch = decodeMqttMessage(m.topic, m.payload, limits).batch;
    if (thenForm) pipeline.ingestThen('mqtt', batch, acker);
    else pipeline.ingest('mqtt', batch).then(ack);
  };
  // The first fifth warms up (JIT, the devices' first windows), unmeasured.
  const warm = Math.floor(messages.length / 5 / burst) * burst;
  let c0 = process.cpuUsage();
  for (let i = 0; i < messages.length; ) {
    if (i === warm) c0 = process.cpuUsage();
    const end = Math.min(messages.length, i + burst);
    now = T0 + Math.floor(i / devices) * batchN * 1000 + batchN * 1000 + 200; // 200 ms after the newest sample
    if (args.mqtt) for (; i < end; i++) ingest(messages[i] as { topic: string; payload: Buffer });
    else for (; i < end; i++) pipeline.ingest('mqtt', messages[i]).then(ack);
    if (batchWriter) await batchWriter.flush();
    const flight = waiting;
    waiting = [];
    // --reorder: the burst's second half completes first, as when two flights are out and the later one lands first.
    const order = args.reorder ? [...flight.slice(flight.length >> 1), ...flight.slice(0, flight.length >> 1)] : flight;
    for (const w of order) w.written();
    await new Promise((r) => setImmediate(r)); // the listeners, the burst's save and the acks
  }
  const c1 = process.cpuUsage(c0);
  const samples = (messages.length - warm) * batchN;
  const counts = (await metrics.samplesStoredTotal.get()).values as { value: number }[];
  const stored = counts.reduce((a, v) => a + v.value, 0);
  const received = ((await metrics.registry.getSingleMetric('pp_quality_samples_total')?.get())?.values as { labels: { verdict: string }; value: number }[] | undefined)?.find((v) => v.labels.verdict === 'received')?.value ?? 0;
  await quality.stop();
  live.close();
  rmSync(dir, { recursive: true, force: true });
  if (acked !== messages.length) throw new Error(`${acked} of ${messages.length} messages acknowledged`);
  // stored and received: of the whole run, warm-up included
  return { samples, usPerSample: (c1.user + c1.system) / samples, stored, received };
}

if (args.child) {
  process.stdout.write(JSON.stringify(await child(args.child)));
} else {
  const here = resolve(import.meta.dirname, '../..');
  const checkouts = [here, ...(args.baseline ?? []).map((b) => resolve(b))];
  if ((args.fleet || args.full) && !args.mqtt) throw new Error('--fleet and --full go with --mqtt');
  const passOn = ['--devices', args.devices!, '--batch', args.batch!, '--burst', args.burst!, '--seconds', args.seconds!, ...(args.reorder ? ['--reorder'] : []), ...(args.mqtt ? ['--mqtt'] : []), ...(args.fleet ? ['--fleet'] : []), ...(args.full ? ['--full'] : [])];
  const results = new Map<string, RunResult[]>(checkouts.map((c) => [c, []]));
  const rounds = Number(args.rounds);
  console.log(`${args.fleet ? "the fleet's 200" : args.devices} devices, ${args.batch}-sample messages${args.mqtt ? ' decoded from MQTT' : ''}${args.full ? ', analytics and the batch writer' : ''}, bursts of ${args.burst}${args.reorder ? ' (second half stored first)' : ''}, ${args.seconds} simulated s; ${rounds} round(s)`);
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 === 0 ? checkouts : [...checkouts].reverse()) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', c, ...passOn], { cwd: c, encoding: 'utf8', maxBuffer: 1 << 20 });
      const res = JSON.parse(out) as RunResult;
      results.get(c)!.push(res);
      console.log(`  round ${r + 1} ${c}: ${res.usPerSample.toFixed(3)} µs CPU per sample, load ${loadavg()[0]!.toFixed(2)}`);
    }
  }
  console.log('\n| checkout | samples | stored | completeness received | CPU µs per sample (median) |');
  console.log('|---|---|---|---|---|');
  for (const [c, rs] of results) console.log(`| ${c} | ${rs[0]!.samples.toLocaleString('en')} | ${rs[0]!.stored.toLocaleString('en')} | ${rs[0]!.received.toLocaleString('en')} | ${median(rs.map((x) => x.usPerSample)).toFixed(3)} |`);
}
