import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAnalyticsConfig, type AnalyticsConfig } from '../../../src/analytics/config.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../../src/analytics/rules/index.js';
import { openDataset } from '../../../src/evaluation/dataset.js';
import { deviceIds, loadFile, type LoadedFile } from '../../../src/evaluation/evaluate.js';
import { replayThroughEngine } from '../../../src/evaluation/replay.js';
import { minuteRows, writeEvalFolder } from '../../support/eval-data.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function load(...args: Parameters<typeof writeEvalFolder>): LoadedFile[] {
  const dir = writeEvalFolder(...args);
  dirs.push(dir);
  const d = openDataset(dir);
  const ids = deviceIds(d.files);
  return d.files.map((f, i) => loadFile(d, f, ids[i]!));
}

function replay(config: AnalyticsConfig, f: LoadedFile) {
  return replayThroughEngine(config, f.ref, f.table, f.metrics);
}

const defaults = loadAnalyticsConfig(undefined);

/** A rules document with one class for every evaluated device. */
function withRule(rule: Record<string, unknown>): AnalyticsConfig {
  return { rules: parseRulesConfig({ classes: { evaluated: { match: ['eval/*/*'], rules: [rule] } } }), energy: parseEnergyConfig({}) };
}

describe('replay through the analytics engine', () => {
  // 20 rows one minute apart; row 10 is an impossible temperature (above the catalogue's 2000 °C).
  const temps = Array.from({ length: 20 }, (_, i) => [i === 10 ? 2500 : 60 + (i % 3) * 0.1, 5 + (i >= 14 && i < 17 ? 20 : 0)]);

  it('a column mapped to a catalogue metric gets the platform default rules: the out-of-range reading opens and the next row clears', () => {
    const [f] = load({ 'oven.csv': minuteRows('timestamp,T,flow', '2024-03-01T00:00:00Z', temps) }, { 'oven.csv': [] }, { T: 'temperature_c' });
    const r = replay(defaults, f!);
    expect(r.alerts).toEqual([{ source: 'range-temperature_c', openRow: 10, closeRow: 11 }]);
  });

  it('an unmapped column goes to the engine under its own name: a rule on that metric judges it', () => {
    const [f] = load({ 'oven.csv': minuteRows('timestamp,T,flow', '2024-03-01T00:00:00Z', temps) }, { 'oven.csv': [] });
    expect(f!.metrics).toEqual(['T', 'flow']);
    // The default rules know neither `T` nor `flow`: a value of 2500 in an unknown unit is not out of range.
    expect(replay(defaults, f!).alerts).toEqual([]);
    const r = replay(withRule({ id: 'flow-high', metric: 'flow', detector: 'limit', params: { high: 10 } }), f!);
    expect(r.alerts).toEqual([{ source: 'flow-high', openRow: 14, closeRow: 17 }]);
  });

  it('time-driven rules run on the replay clock; their data-category alerts are counted, not scored', () => {
    // Rows 5 min apart: longer than the default 120 s silence timeout, so every gap is a silence.
    const rows = Array.from({ length: 6 }, (_, i) => `2024-03-01 00:${String(i * 5).padStart(2, '0')}:00,${i}`);
    const [f] = load({ 'slow.csv': `timestamp,value\n${rows.join('\n')}\n` }, { 'slow.csv': [] });
    const r = replay(defaults, f!);
    expect(r.alerts).toEqual([]);
    expect(r.unscoredAlerts).toBe(5);
  });

  it('rows that go back in time are skipped by the engine, as live, and keep their place', () => {
    const csv = 'timestamp,value\n2024-03-01 00:00:00,1\n2024-03-01 00:01:00,1\n2024-03-01 00:00:30,99\n2024-03-01 00:02:00,99\n2024-03-01 00:03:00,1\n';
    const [f] = load({ 'back.csv': csv }, { 'back.csv': [] });
    const r = replay(withRule({ id: 'value-high', metric: 'value', detector: 'limit', params: { high: 50 } }), f!);
    expect(r.samplesNotNewer).toBe(1);
    expect(r.alerts).toEqual([{ source: 'value-high', openRow: 3, closeRow: 4 }]);
  });

  it('an alert still open at the end alarms up to the last row', () => {
    const [f] = load({ 'end.csv': minuteRows('timestamp,value', '2024-03-01T00:00:00Z', [[1], [1], [99], [99]]) }, { 'end.csv': [] });
    const r = replay(withRule({ id: 'value-high', metric: 'value', detector: 'limit', params: { high: 50 } }), f!);
    expect(r.alerts).toEqual([{ source: 'value-high', openRow: 2, closeRow: 4 }]);
  });
});
