/**
 * `npx tsx load-tests/bench/robust-profiles.ts [states] [rounds]` (defaults 160 9): the `robust`
 * detector's cost per metric and sample with its daily and weekly profiles (the defaults) against
 * the same detector without them (`seasonPeriodsS: []`), in interleaved rounds of one process:
 * `states` metric states at one sample per 10 s, 5,700 samples each untimed (past warm-up), then
 * 2,000 timed. Prints the medians in ns of CPU time (user + system) per metric and sample.
 */
import { robustDetector, robustParamsSchema } from '../../src/analytics/detectors/robust.js';

const [states = 160, rounds = 9] = process.argv.slice(2).map(Number);
const WARM = 5700;
const TIMED = 2000;
/** Deterministic noise in [-1, 1]. */
const noise = (i: number): number => ((i * 7919) % 201) / 100 - 1;

function nsPerSample(params: Record<string, unknown>): number {
  const p = robustParamsSchema.parse({ metric: 'value', ...params });
  const all = Array.from({ length: states }, () => robustDetector.initial(p));
  const input = { ts: 0, value: 0 };
  const feed = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      for (let d = 0; d < states; d++) {
        input.ts = Date.UTC(2026, 0, 1) + i * 10_000;
        input.value = 50 + noise(i + d);
        robustDetector.update!(p, all[d]!, input);
      }
    }
  };
  feed(0, WARM);
  const t0 = process.cpuUsage();
  feed(WARM, WARM + TIMED);
  const used = process.cpuUsage(t0);
  return ((used.user + used.system) * 1000) / (TIMED * states);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const without: number[] = [];
const withProfiles: number[] = [];
for (let r = 0; r < rounds; r++) {
  without.push(nsPerSample({ seasonPeriodsS: [] }));
  withProfiles.push(nsPerSample({}));
}
console.log(JSON.stringify({ states, rounds, nsWithout: Number(median(without).toFixed(1)), nsWith: Number(median(withProfiles).toFixed(1)) }));
