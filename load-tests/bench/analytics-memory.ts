/**
 * `node --expose-gc --import tsx load-tests/bench/analytics-memory.ts [devices] [metrics] [samples]`
 * (defaults 2000 8 300): the analytics engine's heap per device with the built-in rules, for
 * devices that report `metrics` signal metrics (names outside the catalogue, so the rules on
 * every metric judge each one) and no `state` (judged on every sample), `samples` 5 s apart
 * each. Heap after a full GC, engine kept alive, divided by the number of devices.
 */
import { AnalyticsEngine } from '../../src/analytics/index.js';
import { parseEnergyConfig } from '../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../src/analytics/rules/index.js';

const [devices = 2000, metrics = 8, samples = 300] = process.argv.slice(2).map(Number);
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
    for (let k = 0; k < metrics; k++) m[`ch${k}`] = 10 * (k + 1) + Math.sin(i * (k + 1) * 0.37 + d);
    batch.push({ ts: t0 + i * 5000, m });
  }
  engine.process({ site: 's', line: 'l', device: `d${d}`, seq: null, samples: batch }, t0 + samples * 5000);
}
gc();
const perDevice = (process.memoryUsage().heapUsed - before) / engine.stats().devices;
process.stdout.write(`${engine.stats().devices} devices × ${metrics} metrics, ${samples} samples each: ${(perDevice / 1024).toFixed(1)} KB per device\n`);
