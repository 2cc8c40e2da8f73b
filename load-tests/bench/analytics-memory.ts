/**
 * `node --expose-gc --import tsx load-tests/bench/analytics-memory.ts [devices] [metrics] [samples] [intervalS] [noise]`
 * (defaults 2000 8 300 5 0): the analytics engine's heap per device with the built-in rules, for
 * devices that report `metrics` signal metrics (names outside the catalogue, so the rules on
 * every metric judge each one) and no `state` (judged on every sample), `samples` `intervalS`
 * apart each. Heap after a full GC, engine kept alive, divided by the number of devices. Each
 * signal is a sine of a period of a few samples plus, with `noise` > 0, deterministic noise of
 * that amplitude: sampled every 300 s the sine alone drifts by only a quarter of its period a
 * day, nearly a daily cycle, which the noise hides. `… 100 8 7200 300 3` (25 days) shows what a
 * metric without a cycle comes to once `deviation`'s profiles have been let go, `… 100 8 4032
 * 300 3` (14 days) while they are still full.
 */
import { AnalyticsEngine } from '../../src/analytics/index.js';
import { parseEnergyConfig } from '../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../src/analytics/rules/index.js';

const [devices = 2000, metrics = 8, samples = 300, intervalS = 5, noise = 0] = process.argv.slice(2).map(Number);
/** Deterministic noise in [-1, 1] for sample i of device d's metric k. */
const jitter = (i: number, d: number, k: number): number => (((i * 7919 + d * 104_729 + k * 1_299_709) % 2003) / 1001) - 1;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc (see the header of this file)\n');
  process.exit(2);
}
const engine = new AnalyticsEngine(parseRulesConfig({}), parseEnergyConfig({}));
const t0 = Date.UTC(2026, 0, 1);
gc();
const before = process.memoryUsage().heapUsed;
for (let d = 0; d < devices; d++) {
  const batch = [];
  for (let i = 0; i < samples; i++) {
    const m: Record<string, number> = {};
    for (let k = 0; k < metrics; k++) m[`ch${k}`] = 10 * (k + 1) + Math.sin(i * (k + 1) * 0.37 + d) + (noise > 0 ? noise * jitter(i, d, k) : 0);
    batch.push({ ts: t0 + i * intervalS * 1000, m });
  }
  engine.process({ site: 's', line: 'l', device: `d${d}`, seq: null, samples: batch }, t0 + samples * intervalS * 1000);
}
gc();
const perDevice = (process.memoryUsage().heapUsed - before) / engine.stats().devices;
process.stdout.write(`${engine.stats().devices} devices × ${metrics} metrics, ${samples} samples each: ${(perDevice / 1024).toFixed(1)} KB per device\n`);
