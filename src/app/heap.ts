import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection before
 * it collects again (`--heap-growing-percent`). V8 chooses that factor itself, from 1.1 up to 4
 * when the program allocates fast: at the ingest maximum the window's messages live a write's
 * round trip (hundreds of milliseconds, many scavenges), are promoted, and die in the old
 * generation, which V8 then let grow to three or four times the ~50 MiB of live data: most of
 * the platform's RSS. A fixed factor bounds that garbage in proportion to what is live, so
 * memory follows the fleet's state, not the ingest rate, and a larger fleet still gets room
 * (unlike --max-old-space-size, which would end it with an out-of-memory crash).
 *
 * Set at run time, not on the node command line: V8 reads this flag each time it sizes the
 * heap after a full collection, and the platform's own start then applies it wherever it is
 * started (npm start, npm run dev, the container image, a bench or test harness). Node does not
 * accept it in NODE_OPTIONS. test/unit/app/heap.test.ts checks that it takes effect.
 */
export function applyHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new Error(`heap growth must be a whole percentage ≥ 0, got ${percent}`);
  // 0 is V8's own default: its heuristics choose.
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * Node flags of every command that starts the platform (package.json's start and dev scripts,
 * the container image, the benches; test/unit/app/heap.test.ts checks they agree): what V8 fixes
 * when the process starts, so the platform cannot set it itself as it does the heap growth.
 * A young generation of two 8 MiB semi-spaces instead of Node's 16: at ingest rates it is always
 * full, so it is 16 MiB of RSS more or less, and the window's messages, which live a write's round
 * trip, are promoted with either size while what dies within a message dies young with either
 * (docs/performance.md, heap-flags.ts: the same CPU per sample, 15 MiB less peak RSS).
 */
export const START_NODE_FLAGS = ['--max-semi-space-size=8'] as const;

/** The least growth a budget may leave (%): below it full collections would follow each other while live data alone fills the budget. */
export const MIN_BUDGET_GROWTH_PERCENT = 20;

/** Live data of the old generation now (MiB): what V8 sizes the next limit from, right after a full collection. */
export function oldGenerationMiB(): number {
  let bytes = 0;
  // new_space is the young generation; every other space (old, code, large objects, shared and
  // trusted ones where V8 has them) counts towards the old generation's limit.
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') bytes += s.space_used_size;
  return bytes / 2 ** 20;
}

/**
 * The growth that keeps the old generation within `budgetMiB` after a full collection left
 * `liveMiB` (at most `maxPercent`, 0 meaning V8's own choice; at least
 * MIN_BUDGET_GROWTH_PERCENT). Returns the flag's value: 0 when V8 may choose.
 */
export function growthWithin(budgetMiB: number, liveMiB: number, maxPercent: number): number {
  const fits = Math.floor((budgetMiB / Math.max(liveMiB, 1) - 1) * 100);
  // V8's own choice may reach 300 % (a factor of 4).
  const ceiling = maxPercent === 0 ? 300 : maxPercent;
  if (fits >= ceiling) return maxPercent;
  return Math.max(MIN_BUDGET_GROWTH_PERCENT, fits);
}

/**
 * Keep the old generation within `budgetMiB` as long as live data leaves room: after every full
 * collection, the growth allowed until the next one is cut to what fits (growthWithin), and
 * given back (`maxPercent`) once live data shrinks. A growth proportional to live data alone
 * still lets the old generation reach twice what a full collection found, and under overload
 * that is at its most: every message of the window held, every write batch queued, and the
 * garbage promoted while V8 was marking (it counts as live until the next collection). The
 * budget bounds that peak in MiB, not in proportion; it is no limit either: when live data
 * alone nears it (a much larger fleet), the growth stays at MIN_BUDGET_GROWTH_PERCENT of live
 * data, so the heap follows the fleet (with more frequent full collections) and nothing ends
 * with an out-of-memory error.
 *
 * V8 sizes the next limit at the end of each full collection; the observer runs just after, so a
 * new growth applies from the next collection on. Returns a function that stops it.
 */
export function boundOldGeneration(budgetMiB: number, maxPercent: number, onChange?: (percent: number, liveMiB: number) => void): () => void {
  if (!(Number.isFinite(budgetMiB) && budgetMiB > 0)) throw new Error(`heap budget must be a positive number of MiB, got ${budgetMiB}`);
  applyHeapGrowth(maxPercent);
  let current = maxPercent;
  const observer = new PerformanceObserver((list) => {
    if (!list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) return;
    const live = oldGenerationMiB();
    const percent = growthWithin(budgetMiB, live, maxPercent);
    if (percent === current) return;
    current = percent;
    applyHeapGrowth(percent);
    onChange?.(percent, live);
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
