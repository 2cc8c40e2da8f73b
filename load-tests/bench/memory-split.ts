/**
 * Where a platform process's resident memory is, over time: `process.memoryUsage()` (rss, V8
 * heap committed and in use, external, array buffers), V8's spaces (new, old, large objects,
 * code) and the kernel's split of RSS into anonymous and file-backed pages, sampled inside the
 * process every `everyMs` and appended as JSON lines to a file. RSS seen from outside (/proc)
 * says how much; this says what: the V8 heap, buffers outside it, or neither (malloc, threads).
 *
 * The sampler is a preload passed as a `data:` URL (`--import`), so the platform under test runs
 * its own unchanged build (npm start's), baseline revisions included.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface MemorySample {
  /** ms since the sampler started. */
  t: number;
  /** MiB, each. */
  rss: number;
  /** RSS in anonymous pages (heap, malloc) and in file pages (the node binary, libraries). */
  anon: number;
  file: number;
  heapTotal: number;
  heapUsed: number;
  /** C++ objects tied to JavaScript ones, array buffers included. */
  external: number;
  arrayBuffers: number;
  /** V8 spaces, committed. */
  newSpace: number;
  oldSpace: number;
  largeObjects: number;
  code: number;
}

const SAMPLER = (file: string, everyMs: number) => `
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { constants, PerformanceObserver } from 'node:perf_hooks';
const file = ${JSON.stringify(file)};
writeFileSync(file, '');
const t0 = performance.now();
const mib = (b) => Math.round((b / 1048576) * 10) / 10;
setInterval(() => {
  const m = process.memoryUsage();
  const space = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_size)]));
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+) kB').exec(status)?.[1] ?? NaN) / 1024;
  const s = { t: Math.round(performance.now() - t0), rss: mib(m.rss), anon: Math.round(kb('RssAnon') * 10) / 10, file: Math.round(kb('RssFile') * 10) / 10, heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), newSpace: space.new_space, oldSpace: space.old_space, largeObjects: space.large_object_space, code: space.code_space };
  appendFileSync(file, JSON.stringify(s) + '\\n');
}, ${everyMs}).unref();
// After every full collection: what survived it (old space and large objects in use), which V8
// sizes the next limit from.
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    const used = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_used_size)]));
    appendFileSync(file, JSON.stringify({ t: Math.round(e.startTime - t0), gc: Math.round(e.duration), oldUsed: used.old_space, largeUsed: used.large_object_space }) + '\\n');
  }
}).observe({ entryTypes: ['gc'] });
`;

/** Node flags that make a process sample its memory into `file` (JSON lines). */
export function memorySplitArgs(file: string, everyMs = 100): string[] {
  return [`--import=data:text/javascript,${encodeURIComponent(SAMPLER(file, everyMs))}`];
}

/** The samples written so far (none when the file is not there yet). */
export function readMemorySplit(file: string): MemorySample[] {
  return readLines(file).filter((l): l is MemorySample => !('gc' in l));
}

/** A full collection: when it started (ms since the sampler started), how long it took, what survived it (MiB). */
export interface MajorGc {
  t: number;
  gc: number;
  oldUsed: number;
  largeUsed: number;
}

export function readMajorGcs(file: string): MajorGc[] {
  return readLines(file).filter((l): l is MajorGc => 'gc' in l);
}

function readLines(file: string): (MemorySample | MajorGc)[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MemorySample | MajorGc);
}

/** The sample with the highest RSS among those taken after `fromMs`, or null. */
export function atPeak(samples: readonly MemorySample[], fromMs = 0): MemorySample | null {
  let best: MemorySample | null = null;
  for (const s of samples) if (s.t >= fromMs && (!best || s.rss > best.rss)) best = s;
  return best;
}

/** One line: RSS and where it is. */
export function describe(s: MemorySample): string {
  const f = (v: number) => v.toFixed(0);
  const outside = s.anon - s.heapTotal - s.arrayBuffers;
  return `RSS ${f(s.rss)} MiB (anon ${f(s.anon)}, file ${f(s.file)}) = V8 heap ${f(s.heapTotal)} committed (${f(s.heapUsed)} used; new ${f(s.newSpace)}, old ${f(s.oldSpace)}, large objects ${f(s.largeObjects)}, code ${f(s.code)}) + array buffers ${f(s.arrayBuffers)} (external ${f(s.external)}) + other anonymous ${f(outside)}`;
}
