/**
 * npx tsx load-tests/bench/completeness-memory.ts [--baseline DIR]... [--devices 50] [--hz 100] [--minutes 60] [--batch 10] [--jitter] [--budget-mib N] [--rounds 1]
 *
 * The data-completeness stage alone, fed a simulated hour of telemetry with a fake clock (no
 * broker, no InfluxDB: the stage is called as the pipeline calls it, `accept` per stored message,
 * its SQLite state in a temporary directory): `--devices` devices at `--hz` samples per second in
 * messages of `--batch` samples, each on its own clock (timestamps on a grid of 1000/hz ms);
 * `--jitter` stamps them 0–3 ms late irregularly, so they fit no grid. A flush every 60 simulated
 * seconds, as PP_QUALITY_FLUSH_S's default does. Each checkout (this one, and each `--baseline
 * DIR`, a checkout of another commit with its node_modules) runs in its own process, rounds
 * alternated. `--budget-mib` sets PP_QUALITY_TIMESTAMP_BUDGET_MIB's value (its default: 64) for the
 * checkouts that have it, to see the bound bite. Per run:
 * - held: bytes of typed arrays (the timestamps' form) still live at the end of the hour, after a
 *   full collection, above what the process held before the first sample;
 * - the stage's own count of its timestamps' bytes, where it has one (pp_quality_timestamp_bytes);
 * - CPU µs per sample of `accept` (and the saves it queues), and CPU ms per flush (median), of
 *   this process;
 * - peak RSS of the process;
 * - the device figures of the hour as written (received, duplicates), to show both counted the same.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string', multiple: true },
    devices: { type: 'string', default: '50' },
    hz: { type: 'string', default: '100' },
    minutes: { type: 'string', default: '60' },
    batch: { type: 'string', default: '10' },
    jitter: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    'budget-mib': { type: 'string' },
    child: { type: 'string' },
  },
});

interface RunResult {
  checkout: string;
  samples: number;
  heldBytes: number;
  countedBytes: number | null;
  acceptUsPerSample: number;
  flushMsMedian: number;
  flushes: number;
  peakRssMiB: number;
  received: number;
  duplicates: number;
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 16); // a plant-local hour start (UTC+8)

async function child(checkout: string): Promise<RunResult> {
  const src = (p: string) => import(pathToFileURL(join(checkout, 'src', p)).href);
  const { DEFAULT_QUALITY_CONFIG } = await src('quality/config.ts');
  const { QualityStage } = await src('quality/quality-stage.ts');
  const { QualityStore } = await src('quality/quality-store.ts');
  const { createQualityMetrics } = await src('quality/quality-metrics.ts');
  const { createLogger } = await src('observability/index.ts');
  const { Registry } = await import('prom-client');
  const devices = Number(args.devices);
  const hz = Number(args.hz);
  const batchN = Number(args.batch);
  const minutes = Number(args.minutes);
  const step = 1000 / hz;
  const dir = mkdtempSync(join(tmpdir(), 'pp-bench-completeness-'));
  const written: { tags: Record<string, string>; fields: Record<string, number>; ts: number }[] = [];
  let now = T0;
  const store = new QualityStore(join(dir, 'quality.sqlite'));
  const probes = { devices: () => 0, online: () => 0, missingMessages: () => 0, timestampBytes: () => 0 };
  const stage = new QualityStage({
    config: { ...DEFAULT_QUALITY_CONFIG, utcOffsetMs: 8 * HOUR, flushMs: 10 * HOUR, ...(args['budget-mib'] ? { timestampBudgetBytes: Number(args['budget-mib']) * 2 ** 20 } : {}) },
    store,
    history: { available: false, query: async () => [] },
    write: async (p: typeof written) => void written.push(...p.filter((x) => x.tags.level === 'device' && x.tags.window === '1h')),
    raise: () => {},
    metrics: createQualityMetrics(new Registry(), probes),
    log: createLogger('silent'),
    clock: () => now,
  });
  await stage.restore();
  // One message object per device, its timestamps and seq rewritten before each accept: the
  // stage keeps nothing of a message, and the harness's own allocation stays out of the figures.
  const msgs = Array.from({ length: devices }, (_, d) => ({ site: 's1', line: 'l1', device: `d${d}`, seq: 0, samples: Array.from({ length: batchN }, () => ({ ts: 0, m: { p: 1 } })) }));
  await collect();
  const held0 = process.memoryUsage().arrayBuffers;
  const perMessageMs = batchN * step;
  const messages = Math.floor((minutes * 60_000) / perMessageMs);
  let acceptCpu = 0;
  const flushCpu: number[] = [];
  let nextFlush = T0 + 60_000;
  let samples = 0;
  for (let k = 0; k < messages; k++) {
    const tsBase = T0 + k * perMessageMs;
    now = tsBase + perMessageMs + 200; // arrives 200 ms after its newest sample
    const c0 = process.cpuUsage();
    for (let d = 0; d < devices; d++) {
      const m = msgs[d]!;
      m.seq = k;
      for (let j = 0; j < batchN; j++) {
        const i = k * batchN + j;
        m.samples[j]!.ts = Math.round(tsBase + j * step) + (args.jitter ? (i * 7919 + d) % 4 : 0);
      }
      stage.accept(m);
    }
    await Promise.resolve(); // the burst's device saves (one SQLite transaction), as after a write
    const c1 = process.cpuUsage(c0);
    acceptCpu += c1.user + c1.system;
    samples += devices * batchN;
    if (now >= nextFlush) {
      nextFlush += 60_000;
      const f0 = process.cpuUsage();
      await stage.flush();
      const f1 = process.cpuUsage(f0);
      flushCpu.push((f1.user + f1.system) / 1000);
    }
  }
  await collect();
  const heldBytes = process.memoryUsage().arrayBuffers - held0;
  const countedBytes = typeof stage.timestampBytes === 'function' ? (stage.timestampBytes() as number) : null;
  await stage.flush();
  const last = new Map<string, Record<string, number>>();
  for (const p of written) if (p.ts === T0) last.set(p.tags.device!, p.fields);
  let received = 0;
  let duplicates = 0;
  for (const f of last.values()) {
    received += f.received ?? 0;
    duplicates += f.duplicates ?? 0;
  }
  await stage.stop();
  rmSync(dir, { recursive: true, force: true });
  flushCpu.sort((a, b) => a - b);
  return {
    checkout,
    samples,
    heldBytes,
    countedBytes,
    acceptUsPerSample: acceptCpu / samples,
    flushMsMedian: flushCpu[Math.floor(flushCpu.length / 2)] ?? 0,
    flushes: flushCpu.length,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    received,
    duplicates,
  };
}

/** Full collections, with time between for V8 to free the array buffers they found dead (it does so apart from the collection). */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

if (args.child) {
  process.stdout.write(JSON.stringify(await child(args.child)));
} else {
  const here = resolve(import.meta.dirname, '../..');
  const checkouts = [here, ...(args.baseline ?? []).map((b) => resolve(b))];
  const passOn = ['--devices', args.devices!, '--hz', args.hz!, '--minutes', args.minutes!, '--batch', args.batch!, ...(args.jitter ? ['--jitter'] : []), ...(args['budget-mib'] ? ['--budget-mib', args['budget-mib']] : [])];
  const results = new Map<string, RunResult[]>(checkouts.map((c) => [c, []]));
  const rounds = Number(args.rounds);
  console.log(`${args.devices} devices × ${args.hz} Hz, ${args.batch}-sample messages, ${args.minutes} simulated min${args.jitter ? ', timestamps jittered 0–3 ms' : ''}${args['budget-mib'] ? `, budget ${args['budget-mib']} MiB` : ''}; ${rounds} round(s)`);
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 === 0 ? checkouts : [...checkouts].reverse()) {
      // Each checkout in its own process, with its own tsx: the figures are its own.
      const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', c, ...passOn], { cwd: c, encoding: 'utf8', maxBuffer: 1 << 20 });
      const res = JSON.parse(out) as RunResult;
      results.get(c)!.push(res);
      console.log(`  round ${r + 1} ${c}: held ${(res.heldBytes / 2 ** 20).toFixed(1)} MiB, ${res.acceptUsPerSample.toFixed(3)} µs/sample, flush ${res.flushMsMedian.toFixed(0)} ms, peak RSS ${res.peakRssMiB.toFixed(0)} MiB`);
    }
  }
  console.log('\n| checkout | samples | timestamps held (MiB, bytes/sample) | stage\'s own count (MiB) | accept CPU µs/sample (median) | flush CPU ms (median) | peak RSS MiB (median) | received | duplicates |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [c, rs] of results) {
    const held = median(rs.map((x) => x.heldBytes));
    const counted = rs[0]!.countedBytes;
    console.log(
      `| ${c} | ${rs[0]!.samples.toLocaleString('en')} | ${(held / 2 ** 20).toFixed(1)} (${(held / rs[0]!.samples).toFixed(3)}) | ${counted === null ? '–' : (counted / 2 ** 20).toFixed(1)} | ${median(rs.map((x) => x.acceptUsPerSample)).toFixed(3)} | ${median(rs.map((x) => x.flushMsMedian)).toFixed(0)} | ${median(rs.map((x) => x.peakRssMiB)).toFixed(0)} | ${rs[0]!.received.toLocaleString('en')} | ${rs[0]!.duplicates} |`,
    );
  }
}
