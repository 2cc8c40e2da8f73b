/**
 * `npx tsx load-tests/bench/line-protocol-cost.ts --baseline-rev <rev> [--rounds 9] [--held 20000]`:
 * what the platform's storage path costs per line on its JavaScript thread, this tree's
 * src/storage/line-protocol.ts beside a revision's, alternated round by round in one process.
 *
 * The path as the platform runs it at the closed-loop maximum: each message's samples (the
 * backpressure bench's fleet, 1-sample and 10-sample messages, decoded from JSON) become points
 * (a new tags object per message, as the pipeline makes them) and are turned into line protocol
 * at once; the text waits in a queue of `--held` lines (the batch writer holds about four batches
 * while storage is the bottleneck), then leaves in 5,000-line batches joined by `\n` and encoded
 * as the HTTP body. Waiting matters: text that lives that long is copied by the garbage collector,
 * so the cost includes the collections the path causes (CPU time of the process, all threads).
 * Young-generation collections (scavenges) per 100,000 lines are given too: each is one
 * semi-space of allocation, so they count what the path allocates. Both variants must produce the
 * same bytes (checked in every round).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { TelemetryBatch } from '../../src/contract/index.js';
import { telemetryPoints } from '../../src/pipeline/index.js';
import type { Point } from '../../src/storage/index.js';
import { baselineSrc } from './micro.js';
import { loadAverage } from './proc-stats.js';
import { median } from './stats.js';
import { Workload } from './workload.js';
import { argOf } from './cli-args.js';

const argv = process.argv.slice(2);
const arg = argOf(argv);
const baselineRev = arg('--baseline-rev');
if (!baselineRev) throw new Error('usage: line-protocol-cost.ts --baseline-rev <rev> [--rounds 9] [--held 20000]');
const rounds = Number(arg('--rounds', '9'));
const held = Number(arg('--held', '20000'));
const BATCH_LINES = 5000;
const LINES_PER_ROUND = 120_000;
const say = (s: string) => process.stdout.write(`${s}\n`);

type ToLines = (points: readonly Point[]) => string;
const variants: [string, ToLines][] = [
  ['current', (await import('../../src/storage/line-protocol.js')).pointsToLineProtocol],
  [baselineRev, ((await import(pathToFileURL(join(baselineSrc(baselineRev), 'storage', 'line-protocol.ts')).href)) as { pointsToLineProtocol: ToLines }).pointsToLineProtocol],
];

/** Decoded messages of the fleet's 200 devices in turn, `samplesPerMessage` samples each, 20,000 samples. */
function messages(samplesPerMessage: number): TelemetryBatch[] {
  const w = new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage }, Date.now() - 3_600_000);
  const out: TelemetryBatch[] = [];
  for (let seq = 0; out.length * samplesPerMessage < 20_000; seq++) w.devices.forEach((d, i) => out.push(JSON.parse(JSON.stringify({ ...d, seq, samples: w.nextSamples(i) })) as TelemetryBatch));
  return out;
}

let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
}).observe({ entryTypes: ['gc'] });

/** CPU µs per line for LINES_PER_ROUND lines through the path, scavenges per 100,000 lines, the hash of the bodies sent. */
async function run(toLines: ToLines, msgs: TelemetryBatch[], samplesPerMessage: number): Promise<{ us: number; scavenges: number; hash: string }> {
  const hash = createHash('sha1');
  const queue: string[] = [];
  let queued = 0;
  let lines = 0;
  await new Promise((r) => setTimeout(r, 20)); // the observer hears of collections a little later
  const scavenges0 = scavenges;
  const cpu0 = process.cpuUsage();
  while (lines < LINES_PER_ROUND) {
    for (const m of msgs) {
      queue.push(toLines(telemetryPoints(m)));
      queued += samplesPerMessage;
      lines += samplesPerMessage;
      if (queued >= held + BATCH_LINES) {
        const batch = queue.splice(0, BATCH_LINES / samplesPerMessage);
        queued -= BATCH_LINES;
        hash.update(Buffer.from(batch.join('\n'), 'utf8'));
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 20));
  return { us: (cpu.user + cpu.system) / lines, scavenges: ((scavenges - scavenges0) * 100_000) / lines, hash: hash.digest('hex') };
}

say(`line protocol per line, this tree vs ${baselineRev}, ${held.toLocaleString('en')} lines held, ${rounds} rounds, load average ${loadAverage()}`);
for (const per of [1, 10]) {
  const msgs = messages(per);
  const us = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const gcs = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const hashes = new Set<string>();
    for (const [name, toLines] of r % 2 === 0 ? variants : [...variants].reverse()) {
      const got = await run(toLines, msgs, per);
      us.get(name)!.push(got.us);
      gcs.get(name)!.push(got.scavenges);
      hashes.add(got.hash);
    }
    if (hashes.size !== 1) throw new Error(`${per}-sample messages: the variants wrote different bytes`);
  }
  const [cur, base] = variants.map(([name]) => median(us.get(name)!));
  const [curGc, baseGc] = variants.map(([name]) => median(gcs.get(name)!));
  say(
    `${per}-sample messages: current ${cur!.toFixed(2)} µs CPU per line [${us.get('current')!.map((x) => x.toFixed(2)).join(' ')}], ${baselineRev} ${base!.toFixed(2)} [${us.get(baselineRev)!.map((x) => x.toFixed(2)).join(' ')}]; ×${(cur! / base!).toFixed(2)}; ` +
      `scavenges per 100,000 lines ${curGc!.toFixed(1)} vs ${baseGc!.toFixed(1)} (×${(curGc! / baseGc!).toFixed(2)})`,
  );
}
say(`load average at the end ${loadAverage()}`);
