import fc from 'fast-check';

/**
 * Run settings for the property-based (fuzz) tests. The seed is fixed so CI is deterministic and a
 * failure reproduces exactly: fast-check prints `seed` and `path` with the shrunk counterexample,
 * and `FUZZ_SEED=<seed> npx vitest run <file>` replays it. For a longer exploratory run use a
 * random seed and more runs: `FUZZ_SEED=random FUZZ_RUNS=20 npx vitest run test/unit/fuzz`.
 */
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FUZZ_SEED ?? 20_261_129);
/** Multiplies every property's run count (runs are kept modest so the suite stays fast). */
const FACTOR = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));

export function fuzz<Ts>(numRuns: number): fc.Parameters<Ts> {
  return { numRuns: Math.ceil(numRuns * FACTOR), seed: SEED };
}
