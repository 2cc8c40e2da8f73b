/**
 * `tsx load-tests/bench/profile-summary.ts <file.cpuprofile> [top]`: the functions with the most
 * self time in a V8 CPU profile (as written by `node --cpu-prof`), with their share of all
 * samples, so a profile can be read without DevTools. The bench's `--profile` mode uses it too.
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

export function formatSummary(s: ReturnType<typeof summariseProfile>): string {
  const rows = s.functions.map((f) => `| ${f.pct.toFixed(1)} % | ${f.ms} | \`${f.fn}\` | ${f.where} |`);
  return [`sampled ${s.totalMs} ms, idle ${s.idlePct} %, GC ${s.gcPct} %`, '', '| self | ms | function | where |', '|---:|---:|---|---|', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx load-tests/bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(summariseProfile(file, Number(top ?? 25)))}\n`);
}
