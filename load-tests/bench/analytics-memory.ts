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
 *
 * Where it goes: `--by-rule` measures the same per device with each default rule alone (the other
 * rules disabled, as a class's `disable` does) and with none (the device record and energy
 * accumulator): a rule's share is its line less the `none` line. `--snapshot FILE` writes a heap
 * snapshot of the engine with every rule and prints its bytes per device by owner (heap-owners.ts:
 * which state object, array or map holds them).
 */
import { writeHeapSnapshot } from 'node:v8';
import { AnalyticsEngine } from '../../src/analytics/index.js';
import { parseEnergyConfig } from '../../src/analytics/energy/index.js';
import { DEFAULT_RULES } from '../../src/analytics/rules/defaults.js';
import { parseRulesConfig } from '../../src/analytics/rules/index.js';
import { argOf } from './cli-args.js';
import { heapOwners } from './heap-owners.js';

const argv = process.argv.slice(2);
const snapshotFile = argOf(argv)('--snapshot');
const byRule = argv.includes('--by-rule');
const positional = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--snapshot');
const [devices = 2000, metrics = 8, samples = 300, intervalS = 5, noise = 0] = positional.map(Number);
/** Deterministic noise in [-1, 1] for sample i of device d's metric k. */
const jitter = (i: number, d: number, k: number): number => (((i * 7919 + d * 104_729 + k * 1_299_709) % 2003) / 1001) - 1;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc (see the header of this file)\n');
  process.exit(2);
}

/** Heap per device (bytes) of an engine with `rules` (a rules configuration) after the devices' samples; the engine is returned to keep it alive. */
function measure(rules: unknown): { perDevice: number; engine: AnalyticsEngine } {
  const engine = new AnalyticsEngine(parseRulesConfig(rules), parseEnergyConfig({}));
  const t0 = Date.UTC(2026, 0, 1);
  gc!();
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
  gc!();
  return { perDevice: (process.memoryUsage().heapUsed - before) / engine.stats().devices, engine };
}

const all = measure({});
process.stdout.write(`${all.engine.stats().devices} devices × ${metrics} metrics, ${samples} samples each: ${(all.perDevice / 1024).toFixed(1)} KB per device\n`);
if (snapshotFile) {
  writeHeapSnapshot(snapshotFile);
  process.stdout.write(`heap snapshot ${snapshotFile}; bytes per device by owner (the largest 30):\n`);
  for (const line of heapOwners(snapshotFile, devices, 30)) process.stdout.write(`${line}\n`);
}
if (byRule) {
  const ids = DEFAULT_RULES.map((r) => r.id);
  const only = (keep: string | null) => ({ classes: { default: { inherit: true, disable: ids.filter((id) => id !== keep) } } });
  const none = measure(only(null)).perDevice;
  process.stdout.write(`${'none (device record, energy)'.padEnd(30)} ${(none / 1024).toFixed(2)} KB per device\n`);
  for (const id of ids) process.stdout.write(`${id.padEnd(30)} ${((measure(only(id)).perDevice - none) / 1024).toFixed(2)} KB per device\n`);
}
// Kept alive until here: the snapshot and the other measurements see it in the heap.
if (all.engine.stats().devices !== devices) throw new Error('devices lost');
