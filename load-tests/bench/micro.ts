/**
 * `npm run bench:micro [-- --baseline-rev <git rev>]`: the hot path of one MQTT message, stage by
 * stage (decode + validate, analytics, points + line protocol, and all three chained), in this
 * process, on realistic messages (simulated machines, 10 samples each, 500 devices).
 *
 * With `--baseline-rev`, the same stages of that revision (extracted read-only with `git archive`
 * into .tmp/) run side by side with the working tree, alternating, so a before/after ratio is
 * measured under the same machine load. Each figure is the median of the rounds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Workload } from './workload.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The modules a hot-path variant is made of (the working tree's, or a baseline's). */
interface HotPath {
  contract: typeof import('../../src/contract/index.js');
  analytics: typeof import('../../src/analytics/index.js');
  pipeline: typeof import('../../src/pipeline/index.js');
  storage: typeof import('../../src/storage/line-protocol.js');
}

async function loadHotPath(srcDir: string): Promise<HotPath> {
  const load = (p: string) => import(pathToFileURL(join(srcDir, p)).href);
  return {
    contract: await load('contract/index.ts'),
    analytics: await load('analytics/index.ts'),
    pipeline: await load('pipeline/to-points.ts'),
    storage: await load('storage/line-protocol.ts'),
  };
}

/** The baseline revision's src/, extracted once (read-only git: no checkout, no index change). */
export function baselineSrc(rev: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(ROOT, '.tmp', `bench-baseline-${sha}`);
  if (!existsSync(join(dir, 'src'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src | tar -x -C ${JSON.stringify(dir)}`], { cwd: ROOT });
  }
  return join(dir, 'src');
}

interface Message {
  topic: string;
  payload: Buffer;
}

function messages(now: number): Message[] {
  const w = new Workload({ sites: 5, linesPerSite: 10, machinesPerLine: 10, samplesPerMessage: 10 }, now - 3_600_000);
  const out: Message[] = [];
  // 8 messages per device, in the interleaved order a broker delivers a fleet's messages.
  for (let round = 0; round < 8; round++) {
    const t = now - 3_600_000 + (round + 1) * 10_000;
    w.devices.forEach((d, i) => out.push({ topic: `pp/v1/${d.site}/${d.line}/${d.device}/metrics`, payload: Buffer.from(JSON.stringify({ seq: round, samples: w.nextSamples(i, t) })) }));
  }
  return out;
}

type Stage = 'decode' | 'analytics' | 'lineProtocol' | 'all';
const STAGES: Stage[] = ['decode', 'analytics', 'lineProtocol', 'all'];

/** One timed pass of a stage over every message; returns samples per second. */
function pass(hp: HotPath, stage: Stage, msgs: Message[], now: number): number {
  const { contract, pipeline, storage } = hp;
  const batches = stage === 'decode' || stage === 'all' ? null : msgs.map((m) => contract.decodeMqttMessage(m.topic, m.payload, undefined, now).batch!);
  // A fresh engine per pass: a second pass over the same samples would be skipped as replays.
  const eng = newEngine(hp);
  let samples = 0;
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    const batch = batches ? batches[i]! : contract.decodeMqttMessage(m.topic, m.payload, undefined, now).batch!;
    samples += batch.samples.length;
    if (stage === 'decode') continue;
    if (stage === 'analytics' || stage === 'all') eng.process(batch, now);
    if (stage === 'lineProtocol' || stage === 'all') storage.pointsToLineProtocol(pipeline.telemetryPoints(batch));
  }
  return samples / ((performance.now() - t0) / 1000);
}

function newEngine(hp: HotPath) {
  const cfg = hp.analytics.loadAnalyticsConfig(undefined);
  return new hp.analytics.AnalyticsEngine(cfg.rules, cfg.energy);
}

export interface MicroResult {
  messages: number;
  samplesPerMessage: number;
  payloadBytes: number;
  rounds: number;
  /** Median samples/s per stage, per variant. */
  current: Record<Stage, number>;
  baseline?: Record<Stage, number> & { rev: string };
  /** current ÷ baseline, median of the per-round ratios (each round runs both back to back). */
  speedup?: Record<Stage, number>;
}

export async function runMicro(opts: { baselineRev?: string; rounds?: number; say?: (s: string) => void } = {}): Promise<MicroResult> {
  const say = opts.say ?? (() => undefined);
  const rounds = opts.rounds ?? 7;
  const now = Date.now();
  const msgs = messages(now);
  const current = await loadHotPath(join(ROOT, 'src'));
  const baseline = opts.baselineRev ? await loadHotPath(baselineSrc(opts.baselineRev)) : null;
  const runs: Record<Stage, { cur: number[]; base: number[]; ratio: number[] }> = Object.fromEntries(STAGES.map((s) => [s, { cur: [], base: [], ratio: [] }])) as never;
  // Warm-up: let both variants reach optimised code before anything is timed.
  for (const hp of [current, baseline]) if (hp) for (const s of STAGES) pass(hp, s, msgs, now);
  for (let r = 0; r < rounds; r++) {
    for (const s of STAGES) {
      // Alternate which variant goes first, so neither always runs right after a GC-heavy one.
      const order = r % 2 === 0 ? [current, baseline] : [baseline, current];
      const got = new Map<HotPath, number>();
      for (const hp of order) if (hp) got.set(hp, pass(hp, s, msgs, now));
      runs[s].cur.push(got.get(current)!);
      if (baseline) {
        runs[s].base.push(got.get(baseline)!);
        runs[s].ratio.push(got.get(current)! / got.get(baseline)!);
      }
    }
    say(`  round ${r + 1}/${rounds}: ${STAGES.map((s) => `${s} ${Math.round(runs[s].cur.at(-1)!)}${baseline ? ` (baseline ${Math.round(runs[s].base.at(-1)!)})` : ''}`).join(', ')} samples/s`);
  }
  const med = (pick: (x: (typeof runs)[Stage]) => number[], digits = 0) => Object.fromEntries(STAGES.map((s) => [s, Number(median(pick(runs[s])).toFixed(digits))])) as Record<Stage, number>;
  return {
    messages: msgs.length,
    samplesPerMessage: 10,
    payloadBytes: Math.round(msgs.reduce((a, m) => a + m.payload.length, 0) / msgs.length),
    rounds,
    current: med((x) => x.cur),
    ...(baseline ? { baseline: { ...med((x) => x.base), rev: opts.baselineRev! }, speedup: med((x) => x.ratio, 2) } : {}),
  };
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--baseline-rev');
  const baselineRev = at >= 0 ? args[at + 1] : undefined;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`micro: decode, analytics, line protocol${baselineRev ? `, working tree vs ${baselineRev}` : ''} (median of rounds)`);
  const r = await runMicro({ baselineRev, say });
  say(JSON.stringify(r, null, 2));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    process.stderr.write(`micro failed: ${err.stack}\n`);
    process.exit(1);
  });
}
