/**
 * `tsx --expose-gc load-tests/bench/memory-per-device.ts [devices]` (the bench runs it as a child
 * process, so its heap holds nothing else): what the platform keeps in memory per tracked device.
 * One realistic batch (10 samples) per device goes through what holds per-device state: the
 * analytics engine (detector states of every default rule, energy accumulators with their open
 * windows), the alert manager (open alerts of the devices whose samples raised one) and the live
 * hub's latest values. Heap used after a full GC, before and after, divided by the devices.
 * Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertManager, AlertStore } from '../../src/alerts/index.js';
import { AnalyticsEngine, loadAnalyticsConfig } from '../../src/analytics/index.js';
import { LatestValues } from '../../src/live/latest-values.js';
import { Workload } from './workload.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const devices = Number(process.argv[2] ?? 100_000);
const machinesPerLine = 100;
const linesPerSite = 10;
const sites = Math.ceil(devices / (machinesPerLine * linesPerSite));
const dir = mkdtempSync(join(tmpdir(), 'pp-mem-'));
try {
  const now = Date.now();
  const workload = new Workload({ sites, linesPerSite, machinesPerLine, samplesPerMessage: 10 }, now - 60_000);
  const batches = workload.devices.slice(0, devices).map((d, i) => ({ ...d, seq: 0, samples: workload.nextSamples(i, now) }));
  const cfg = loadAnalyticsConfig(undefined);
  const store = new AlertStore(join(dir, 'alerts.sqlite'));
  const before = heapUsed();
  const engine = new AnalyticsEngine(cfg.rules, cfg.energy);
  const alerts = new AlertManager(store);
  let events = 0;
  for (const b of batches) {
    const out = engine.process(b, now);
    events += out.events.length;
    if (out.events.length > 0) alerts.handle(out.events);
  }
  const afterEngine = heapUsed();
  const latest = new LatestValues();
  for (const b of batches) latest.update(b);
  const afterLive = heapUsed();
  const perDevice = (bytes: number) => Math.round(bytes / devices);
  process.stdout.write(
    `${JSON.stringify({
      devices,
      samplesPerDevice: 10,
      rulesPerDevice: engine.rules(`${batches[0]!.site}/${batches[0]!.line}/${batches[0]!.device}`).length,
      anomalyEvents: events,
      openAlerts: alerts.openCount,
      bytesPerDevice: { analyticsAndAlerts: perDevice(afterEngine - before), liveLatestValues: perDevice(afterLive - afterEngine), total: perDevice(afterLive - before) },
      heapMiB: { before: Math.round(before / 2 ** 20), after: Math.round(afterLive / 2 ** 20) },
      kept: engine.stats().devices + latest.size, // keeps both alive until measured
    })}\n`,
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
