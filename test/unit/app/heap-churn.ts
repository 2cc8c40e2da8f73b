/**
 * Child process of heap.test.ts: applies the platform's heap growth (argv[2] %) and, when argv[3]
 * is given, an old generation budget of that many MiB; keeps about 35 MiB live, then makes
 * garbage that lives a while (like the window's messages: promoted, then dead in the old
 * generation) and prints the peak of V8's heap in use and committed, in MiB.
 */
import { applyHeapGrowth, boundOldGeneration } from '../../../src/app/heap.js';

const growth = Number(process.argv[2]);
const budget = process.argv[3] === undefined ? 0 : Number(process.argv[3]);
const cuts: number[] = [];
const stop = budget > 0 ? boundOldGeneration(budget, growth, (percent) => cuts.push(percent)) : (applyHeapGrowth(growth), () => undefined);
const live: { a: number; b: string; c: number[] }[] = [];
for (let i = 0; i < 300_000; i++) live.push({ a: i, b: `x${i}`, c: [i, i + 1] });
const ring: unknown[] = new Array(40_000);
let peakUsed = 0;
let peakTotal = 0;
for (let k = 0; k < 1_000_000; k++) {
  ring[k % ring.length] = { s: `line,${k} v=${k * 0.5}`, arr: [k, k, k, k, k, k, k, k] };
  // Turn the event loop now and then, as the platform does between messages: the budget's
  // observer hears of collections only there.
  if (k % 10_000 === 0) await new Promise((r) => setImmediate(r));
  if (k % 1000 === 0) {
    const m = process.memoryUsage();
    peakUsed = Math.max(peakUsed, m.heapUsed);
    peakTotal = Math.max(peakTotal, m.heapTotal);
  }
}
const settled = process.memoryUsage().heapUsed; // live set + ring, roughly
// The observer is told of collections asynchronously: let it see the last ones.
await new Promise((r) => setTimeout(r, 50));
stop();
process.stdout.write(JSON.stringify({ live: live.length, peakUsedMiB: peakUsed / 2 ** 20, peakTotalMiB: peakTotal / 2 ** 20, endUsedMiB: settled / 2 ** 20, cuts }) + '\n');
