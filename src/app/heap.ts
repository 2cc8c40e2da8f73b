import { setFlagsFromString } from 'node:v8';

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
