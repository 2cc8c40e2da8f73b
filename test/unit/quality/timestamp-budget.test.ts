import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import type { Sample, TelemetryBatch } from '../../../src/contract/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { DEFAULT_QUALITY_CONFIG, type QualityConfig } from '../../../src/quality/config.js';
import { createQualityMetrics } from '../../../src/quality/quality-metrics.js';
import { QualityStage } from '../../../src/quality/quality-stage.js';
import { QualityStore } from '../../../src/quality/quality-store.js';
import type { Point } from '../../../src/storage/index.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 5, 16); // a plant-local hour start (UTC+8)
const BUDGET = 64 * 1024;
const base: QualityConfig = { ...DEFAULT_QUALITY_CONFIG, utcOffsetMs: 8 * HOUR, closeAfterMs: 10 * MIN, flushMs: HOUR };

let dir: string;
let now: number;
let written: Point[];
let logLines: string[];
const stores: QualityStore[] = [];

function stage(cfg: QualityConfig): { stage: QualityStage; registry: Registry } {
  const store = new QualityStore(join(dir, `quality-${stores.length}.sqlite`));
  stores.push(store);
  const registry = new Registry();
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (logLines.push(chunk.toString()), done()) });
  let s: QualityStage | null = null;
  s = new QualityStage({
    config: cfg,
    store,
    history: { available: false, query: async () => [] },
    write: async (p) => void written.push(...p),
    raise: () => {},
    metrics: createQualityMetrics(registry, { devices: () => 0, online: () => 0, missingMessages: () => 0, timestampBytes: () => s?.timestampBytes() ?? 0 }),
    log: createLogger('warn', sink),
    clock: () => now,
  });
  return { stage: s, registry };
}

/** 100 samples of device `d` from `from`, 10 ms apart and 0–3 ms late irregularly (no grid: delta blocks, about 1.1 bytes each). */
function jittered(d: number, seq: number, from: number): TelemetryBatch {
  const samples: Sample[] = Array.from({ length: 100 }, (_, j) => {
    const i = seq * 100 + j;
    return { ts: from + i * 10 + ((i * 7919 + d) % 4), m: { p: 1 } };
  });
  return { site: 's1', line: 'l1', device: `d${d}`, seq, samples };
}

const lastPoint = (device: string, hour: number) => written.filter((p) => p.tags.level === 'device' && p.tags.device === device && p.tags.window === '1h' && p.ts === hour).at(-1)!.fields;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-quality-budget-'));
  written = [];
  logLines = [];
  now = T0;
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('QualityStage: the timestamp budget', () => {
  it('is PP_QUALITY_TIMESTAMP_BUDGET_MIB, 64 MiB by default; a budget below 1 MiB is refused', () => {
    expect(loadConfig({}).quality.timestampBudgetBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ PP_QUALITY_TIMESTAMP_BUDGET_MIB: '8' }).quality.timestampBudgetBytes).toBe(8 * 1024 * 1024);
    expect(() => loadConfig({ PP_QUALITY_TIMESTAMP_BUDGET_MIB: '0' })).toThrow(ConfigError);
  });

  it('below the budget, counts exactly what an unbounded stage counts', async () => {
    const figures: Record<string, unknown>[][] = [];
    for (const budget of [BUDGET, 1024 * 1024 * 1024]) {
      written = [];
      const { stage: s } = stage({ ...base, timestampBudgetBytes: budget });
      for (let seq = 0; seq < 20; seq++) {
        now = T0 + (seq + 1) * S;
        for (let d = 0; d < 2; d++) s.accept(jittered(d, seq, T0));
        s.accept(jittered(0, seq, T0)); // a resend under the same seq: a duplicate message
        s.accept({ ...jittered(1, seq, T0), seq: 1000 + seq }); // the same samples under a new seq: duplicate samples
      }
      expect(s.timestampBytes()).toBeLessThan(BUDGET);
      await s.flush();
      figures.push(['d0', 'd1'].map((d) => lastPoint(d, T0)));
    }
    expect(figures[0]).toEqual(figures[1]);
    expect(figures[0]![0]).toMatchObject({ received: 2000, duplicates: 2000, duplicate_messages: 20 });
    expect(figures[0]![1]).toMatchObject({ received: 2000, duplicates: 2000 });
  });

  it('a flood stays within the budget: the oldest hour lets its timestamps go first, counted, logged once, and duplicates there are told by seq alone', async () => {
    const { stage: s, registry } = stage({ ...base, timestampBudgetBytes: BUDGET });
    // Hour 0: four devices, 1,000 samples each (about 4 KB of timestamps).
    for (let d = 0; d < 4; d++) for (let seq = 0; seq < 10; seq++) s.accept(jittered(d, seq, T0));
    // Hour 1 (hour 0 still open: not closed before 10 min after its end): a flood of 20 devices,
    // 10,000 samples each, about 220 KB of timestamps against a 64 KB budget.
    now = T0 + HOUR + MIN;
    let most = 0;
    for (let seq = 0; seq < 100; seq++) {
      for (let d = 10; d < 30; d++) {
        s.accept(jittered(d, seq, T0 + HOUR));
        most = Math.max(most, s.timestampBytes());
      }
    }
    expect(most).toBeLessThanOrEqual(BUDGET);
    await s.flush(); // recounts exactly
    expect(s.timestampBytes()).toBeLessThanOrEqual(BUDGET);
    const dropped = (await registry.getSingleMetric('pp_quality_timestamp_windows_dropped_total')!.get()).values[0]!.value;
    expect(dropped).toBeGreaterThan(4);
    expect(dropped).toBeLessThan(24);
    expect(logLines.filter((l) => l.includes('PP_QUALITY_TIMESTAMP_BUDGET_MIB'))).toHaveLength(1);
    expect((await registry.getSingleMetric('pp_quality_timestamp_bytes')!.get()).values[0]!.value).toBe(s.timestampBytes());

    // Hour 0's windows went first. A redelivery (same seq) is still a duplicate there; the same
    // samples resent under a new seq now count again (no timestamps to tell them by).
    s.accept(jittered(0, 9, T0));
    s.accept({ ...jittered(1, 9, T0), seq: 500 });
    // Hour 1's newest windows kept theirs: the same resend is a duplicate there.
    s.accept({ ...jittered(29, 99, T0 + HOUR), seq: 500 });
    await s.flush();
    expect(lastPoint('d0', T0)).toMatchObject({ received: 1000, duplicates: 100, duplicate_messages: 1 });
    expect(lastPoint('d1', T0)).toMatchObject({ received: 1100, duplicates: 0 });
    expect(lastPoint('d29', T0 + HOUR)).toMatchObject({ received: 10_000, duplicates: 100 });
  });

  it('counts restored timestamps against the budget, and restores them from their compact form', async () => {
    const a = stage({ ...base, timestampBudgetBytes: BUDGET }).stage;
    for (let seq = 0; seq < 30; seq++) for (let d = 0; d < 3; d++) a.accept(jittered(d, seq, T0));
    const held = a.timestampBytes();
    expect(held).toBeGreaterThan(3 * 3000);
    await a.flush();
    // Same data dir: a restart.
    const store = new QualityStore(join(dir, 'quality-0.sqlite'));
    stores.push(store);
    const b = new QualityStage({ config: { ...base, timestampBudgetBytes: BUDGET }, store, history: { available: false, query: async () => [] }, write: async (p) => void written.push(...p), raise: () => {}, metrics: createQualityMetrics(new Registry(), { devices: () => 0, online: () => 0, missingMessages: () => 0, timestampBytes: () => 0 }), log: createLogger('silent'), clock: () => now });
    await b.restore();
    expect(b.timestampBytes()).toBeGreaterThan(3 * 3000);
    expect(b.timestampBytes()).toBeLessThanOrEqual(held + 3 * 1024);
    b.accept({ ...jittered(2, 29, T0), seq: 700 }); // resent under a new seq: known by its timestamps
    await b.flush();
    expect(lastPoint('d2', T0)).toMatchObject({ received: 3000, duplicates: 100 });
  });

  it('keeps a regular device exact far longer: an hour at 100 Hz is a 45 KB bitmap', async () => {
    const { stage: s } = stage({ ...base, timestampBudgetBytes: BUDGET });
    for (let seq = 0; seq < 3600; seq++) {
      const samples: Sample[] = Array.from({ length: 100 }, (_, j) => ({ ts: T0 + (seq * 100 + j) * 10, m: { p: 1 } }));
      s.accept({ site: 's1', line: 'l1', device: 'fast', seq, samples });
    }
    now = T0 + HOUR - 1;
    s.accept({ site: 's1', line: 'l1', device: 'fast', seq: 9999, samples: [{ ts: T0 + 5000, m: { p: 1 } }] }); // a resend under a new seq
    await s.flush();
    expect(s.timestampBytes()).toBeLessThanOrEqual(46_000);
    expect(lastPoint('fast', T0)).toMatchObject({ received: 360_000, duplicates: 1 });
  });
});
