/**
 * `tsx load-tests/bench/profile-summary.ts <file.cpuprofile> [top]`: the functions with the most
 * self time in a V8 CPU profile (as written by `node --cpu-prof`), with their share of all
 * samples, so a profile can be read without DevTools. The bench's `--profile` mode uses it too.
 *
 * `--by-stage` instead charges each sample to the innermost frame of the platform's own code
 * (`src/<folder>/<file>`), with what it called in libraries and Node included: where the thread's
 * time goes per stage of the data flow, which self time spreads too thinly to see.
 *
 * `--alloc <file.heapprofile>` does the same for a sampling heap profile (per-message.ts
 * `--alloc`): bytes allocated per stage, and per stored sample when the file says how many were
 * stored.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  /** Share of all sampled time, %. */
  pct: number;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function where(url: string, line: number): string {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  return `${path}:${line + 1}`;
}

/** Self time per function (same name and place merged), largest first. */
export function summariseProfile(file: string, top = 25): { totalMs: number; idlePct: number; gcPct: number; functions: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    // Each sample's time is the delta to the next one.
    for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  } else {
    const interval = (p.endTime - p.startTime) / Math.max(1, p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0));
    for (const n of p.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const merged = new Map<string, SelfTime>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    total += us;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    if (name === '(garbage collector)') gc += us;
    const key = `${name}@${where(n.callFrame.url, n.callFrame.lineNumber)}`;
    const e = merged.get(key) ?? { fn: name, where: where(n.callFrame.url, n.callFrame.lineNumber), ms: 0, pct: 0 };
    e.ms += us / 1000;
    merged.set(key, e);
  }
  const functions = [...merged.values()]
    .filter((e) => e.fn !== '(idle)')
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((e) => ({ ...e, ms: Math.round(e.ms), pct: Number(((e.ms * 1000 * 100) / total).toFixed(1)) }));
  return { totalMs: Math.round(total / 1000), idlePct: Number(((idle * 100) / total).toFixed(1)), gcPct: Number(((gc * 100) / total).toFixed(1)), functions };
}

/** The innermost `src/` file of a frame or its callers, else what ran outside the project's code. */
function stageNamer(nodes: readonly ProfileNode[]): (id: number) => string {
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(typeof c === 'number' ? c : (c as ProfileNode).id, n.id);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const stageOf = new Map<number, string>();
  return (id) => {
    const known = stageOf.get(id);
    if (known) return known;
    let found = '';
    for (let at: number | undefined = id; at !== undefined && !found; at = parent.get(at)) {
      const m = /dist\/src\/(.+?)\.js$/.exec(byId.get(at)!.callFrame.url);
      if (m) found = m[1]!;
    }
    const n = byId.get(id)!;
    if (!found) {
      const name = n.callFrame.functionName;
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(n.callFrame.url)?.[1];
      found = name.startsWith('(') ? name : pkg ? `(outside src) ${pkg}` : `(outside src) ${n.callFrame.url.startsWith('node:') ? 'node' : name || 'native'}`;
    }
    stageOf.set(id, found);
    return found;
  };
}

/** Per stage and per folder, largest first. */
function withFolders(by: Map<string, number>): [string, number][] {
  const folders = new Map<string, number>();
  for (const [s, v] of by) if (!s.startsWith('(')) folders.set(`${s.split('/')[0]}/ (folder)`, (folders.get(`${s.split('/')[0]}/ (folder)`) ?? 0) + v);
  return [...by, ...folders].sort((a, b) => b[1] - a[1]);
}

/** Bytes allocated per stage in a sampling heap profile (V8's `HeapProfiler.stopSampling` result). */
export function summariseAllocations(file: string): { totalBytes: number; storedSamples: number | null; rows: { stage: string; bytes: number; pct: number }[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode & { selfSize: number; children: (ProfileNode & { selfSize: number })[] }; storedSamples?: number };
  const nodes: (ProfileNode & { selfSize: number })[] = [];
  const walk = (n: ProfileNode & { selfSize: number; children?: unknown[] }) => {
    nodes.push(n);
    for (const c of (n.children ?? []) as (ProfileNode & { selfSize: number })[]) walk(c);
  };
  walk(p.head);
  const stage = stageNamer(nodes);
  const by = new Map<string, number>();
  let total = 0;
  for (const n of nodes) {
    if (!n.selfSize) continue;
    total += n.selfSize;
    by.set(stage(n.id), (by.get(stage(n.id)) ?? 0) + n.selfSize);
  }
  return { totalBytes: total, storedSamples: p.storedSamples ?? null, rows: withFolders(by).map(([s, b]) => ({ stage: s, bytes: b, pct: Number(((b / total) * 100).toFixed(1)) })) };
}

/**
 * Time per project file (inclusive of the library and Node frames it called), per folder, and
 * what ran outside the project's code (garbage collection, idle, libraries called from Node's
 * own event handling): a sample is charged to its innermost `src/` frame.
 */
export function summariseByStage(file: string): { totalMs: number; busyMs: number; rows: { stage: string; ms: number; pctOfBusy: number }[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const stage = stageNamer(p.nodes);
  const ms = new Map<string, number>();
  let total = 0;
  if (p.samples && p.timeDeltas) {
    for (let i = 0; i < p.samples.length; i++) {
      const us = p.timeDeltas[i + 1] ?? 0;
      total += us;
      const s = stage(p.samples[i]!);
      ms.set(s, (ms.get(s) ?? 0) + us / 1000);
    }
  }
  const busy = total / 1000 - (ms.get('(idle)') ?? 0);
  const rows = withFolders(ms)
    .filter(([s]) => s !== '(idle)')
    .map(([s, v]) => ({ stage: s, ms: Math.round(v), pctOfBusy: Number(((v / busy) * 100).toFixed(1)) }));
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busy), rows };
}

export function formatSummary(s: ReturnType<typeof summariseProfile>): string {
  const rows = s.functions.map((f) => `| ${f.pct.toFixed(1)} % | ${f.ms} | \`${f.fn}\` | ${f.where} |`);
  return [`sampled ${s.totalMs} ms, idle ${s.idlePct} %, GC ${s.gcPct} %`, '', '| self | ms | function | where |', '|---:|---:|---|---|', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const byStage = args.includes('--by-stage');
  const allocations = args.includes('--alloc');
  const positional = args.filter((a) => a !== '--by-stage' && a !== '--alloc');
  const [file, top] = positional;
  // One profile per call: a second file name (a shell glob matching the worker's profile too) would
  // otherwise be read as the row count and print an empty table.
  const badTop = top !== undefined && !/^[1-9][0-9]*$/.test(top);
  if (!file || positional.length > 2 || badTop) {
    if (badTop) process.stderr.write(`profile-summary: expected one profile file and an optional row count (a positive integer), got ${JSON.stringify(top)} after ${file}\n`);
    else if (positional.length > 2) process.stderr.write(`profile-summary: expected one profile file and an optional row count, got ${positional.length} arguments\n`);
    process.stderr.write('usage: tsx load-tests/bench/profile-summary.ts [--by-stage] <file.cpuprofile> [top]\n       tsx load-tests/bench/profile-summary.ts --alloc <file.heapprofile> [top]\n');
    process.exit(2);
  }
  if (allocations) {
    const a = summariseAllocations(file);
    const per = (b: number) => (a.storedSamples ? ` | ${Math.round(b / a.storedSamples)}` : '');
    const rows = a.rows.slice(0, Number(top ?? 40)).map((r) => `| ${r.pct.toFixed(1)} % | ${(r.bytes / 2 ** 20).toFixed(1)}${per(r.bytes)} | ${r.stage} |`);
    const head = a.storedSamples ? `| share | MiB | bytes per stored sample | stage |\n|---:|---:|---:|---|` : `| share | MiB | stage |\n|---:|---:|---|`;
    process.stdout.write(`${[`sampled allocations ${(a.totalBytes / 2 ** 20).toFixed(1)} MiB${a.storedSamples ? ` for ${a.storedSamples} stored samples (${Math.round(a.totalBytes / a.storedSamples)} bytes each)` : ''}`, '', head, ...rows].join('\n')}\n`);
  } else if (byStage) {
    const s = summariseByStage(file);
    const rows = s.rows.slice(0, Number(top ?? 40)).map((r) => `| ${r.pctOfBusy.toFixed(1)} % | ${r.ms} | ${r.stage} |`);
    process.stdout.write(`${[`sampled ${s.totalMs} ms, busy ${s.busyMs} ms (shares below are of busy time)`, '', '| of busy | ms | stage |', '|---:|---:|---|', ...rows].join('\n')}\n`);
  } else process.stdout.write(`${formatSummary(summariseProfile(file, Number(top ?? 25)))}\n`);
}
