import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchRuns } from '../../../edge-agent/simulator/index.js';
import { MultiColumnWriter } from '../../../scripts/sim-export/multi-column.js';
import { loadAnalyticsConfig } from '../../../src/analytics/config.js';
import { isKnownMetric } from '../../../src/contract/metrics.js';
import { baselineDetectors } from '../../../src/evaluation/baselines.js';
import { openDataset } from '../../../src/evaluation/dataset.js';
import { evaluate, type Evaluation } from '../../../src/evaluation/evaluate.js';
import { engineDetector } from '../../../src/evaluation/replay.js';

/**
 * End to end on data shaped like a pump test bench the platform has never seen: every column
 * outside the metric catalogue (its own names and units: g, bar, L/min), no machine state, and one
 * long fault per run. The default rules must judge it all by their scale-free defaults.
 */
const dir = mkdtempSync(join(tmpdir(), 'eval-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Rows 10 s apart: the heavy rules (distribution-change, joint-deviation, off-dynamics) judge a device at most
 * every `judgeEveryS` (10 s), so at this spacing every row is judged as itself. At 1 Hz they judge
 * 9-sample means, and distribution-change's warm-up (2 × 300 judged means, about 90 min) would
 * outlast a 3,000-row run: it would learn without ever judging.
 */
function benchEvaluation(): Evaluation {
  const runs = benchRuns({ units: 8, rows: 3000, intervalMs: 10_000, seed: 11, startTs: Date.UTC(2026, 10, 2), stretch: [0.3, 0.4] });
  const writer = new MultiColumnWriter(dir);
  for (const run of runs) for (const { ts, m } of run.readings()) writer.row(run.unit, ts, m);
  writer.finish(runs.map((r) => r.label));
  const dataset = openDataset(dir);
  return evaluate(dataset, [engineDetector('plantpulse', loadAnalyticsConfig(undefined)), ...baselineDetectors()]);
}

describe('unknown units, no machine state, long faults (simulated pump bench)', () => {
  const result = benchEvaluation();
  const files = result.perFile.plantpulse!;
  const rules = new Set(files.flatMap((f) => Object.keys(f.bySource).map((s) => s.split(':')[0]!)));

  it('reads every column as a metric outside the catalogue, with no state column', () => {
    const dataset = openDataset(dir);
    expect(dataset.layout).toBe('multi-column');
    expect(dataset.metricOf).toEqual({});
    expect(result.windows).toBe(8);
  });

  it('every learned default rule on `+` judges the stateless device (none skipped for want of a state)', () => {
    for (const rule of ['deviation', 'joint-deviation', 'distribution-change']) expect(rules).toContain(rule);
    for (const f of files) for (const source of Object.keys(f.bySource)) expect(isKnownMetric(source.split(':')[1] ?? 'x')).toBe(false);
  });

  it('finds every fault, and its alerts cover the stretches well enough to beat alarming always', () => {
    const ours = result.detectors.plantpulse!;
    const always = result.detectors.always!;
    expect(ours.events.windowsDetected).toBe(8);
    expect(ours.points.recall!).toBeGreaterThan(0.6);
    expect(ours.points.f1!).toBeGreaterThan(always.points.f1! + 0.05);
    expect(ours.nab.standard).toBeGreaterThan(50);
  });
});
