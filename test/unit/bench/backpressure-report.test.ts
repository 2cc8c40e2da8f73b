import { describe, expect, it } from 'vitest';
import type { BackpressureResult, ClosedLoop, VariantResult } from '../../../load-tests/bench/backpressure.js';
import { backpressureMarkdown, brokerDrops, drainedOrLost, overloadShift } from '../../../load-tests/bench/backpressure-report.js';
import { shippedWindow } from '../../../load-tests/bench/platform-process.js';
import { loadConfig } from '../../../src/config/index.js';

const loop = (samplesPerS: number, cpuPct: Record<string, number>, loopBusyPct: number): ClosedLoop => ({
  samplesPerS,
  cpuUsPerSample: 10,
  peakRssMiB: 200,
  peakInflight: 2000,
  loadAvg1: 1,
  split: { cpuPct, machinePct: 199.5, oursPct: Object.values(cpuPct).reduce((a, b) => a + b, 0), loopBusyPct, threadRunPct: 60, threadWaitPct: 30 },
});

const variant = (label: string, busy: number): VariantResult => ({
  label,
  rev: label === 'current' ? 'working tree' : 'abc1234',
  idleRssMiB: 130,
  window: label === 'current' ? 10_000 : 2000,
  closed10: [loop(50_000, { platform: 60, mosquitto: 5, influxd: 40, generator: 15 }, busy)],
  closed1: [loop(20_000, { platform: 70, mosquitto: 10, influxd: 20, generator: 10 }, busy)],
  overload: null,
  backlog: null,
});

describe('backpressure report: what limits each closed loop', () => {
  it('shows each process, their CPU per stored sample, the ceiling of two cores, the machine and the thread', () => {
    const r: BackpressureResult = {
      options: { baselineRev: 'abc1234', repetitions: 1, closedLoopMs: 12_000, warmupMs: 4_000, overloadMs: 20_000, backlogSamples: 300_000, receiveMaximum: 2000, batchLines: 5000, onlyOverload: false, currentEnv: {} },
      current: variant('current', 97.4),
      baseline: variant('baseline', Number.NaN),
      speedup: { closed10: 1, closed1: 1 },
      influx: { platformConcurrency: { samplesPerS: 100_000, batchLines: 5000, writers: 2 }, best: { samplesPerS: 120_000, batchLines: 5000, writers: 2 } },
      loadAvg: { start: 1, end: 2 },
    };
    const md = backpressureMarkdown(r).join('\n');
    // 120 % of a core at 50,000 samples/s: 24 µs per sample, so two cores allow 83,333 samples/s.
    expect(md).toContain('| current (working tree) | 10 samples | 60 % | 5 % | 40 % | 15 % | 120 % (24.0 µs/sample: ≤ 83,333 samples/s on 2 cores) | 200 % | 97 % | 60 % | 30 % |');
    // 110 % at 20,000 samples/s: 55 µs.
    expect(md).toContain('| current (working tree) | 1 sample | 70 % | 10 % | 20 % | 10 % | 110 % (55.0 µs/sample: ≤ 36,364 samples/s on 2 cores) |');
    // A revision without the event-loop metric: a dash, not NaN.
    expect(md).toContain('| baseline (abc1234) | 10 samples | 60 % | 5 % | 40 % | 15 % | 120 % (24.0 µs/sample: ≤ 83,333 samples/s on 2 cores) | 200 % | – | 60 % | 30 % |');
    expect(md).not.toContain('NaN');
  });

  it('leaves out the closed loops that did not run (--only-overload has no 1-sample loop)', () => {
    const only = (v: VariantResult): VariantResult => ({ ...v, closed1: [] });
    const r: BackpressureResult = {
      options: { baselineRev: 'abc1234', repetitions: 1, closedLoopMs: 12_000, warmupMs: 4_000, overloadMs: 20_000, backlogSamples: 300_000, receiveMaximum: 2000, batchLines: 5000, onlyOverload: true, currentEnv: {} },
      current: only(variant('current', 97.4)),
      baseline: only(variant('baseline', Number.NaN)),
      speedup: { closed10: 1, closed1: Number.NaN },
      influx: { platformConcurrency: { samplesPerS: 100_000, batchLines: 5000, writers: 2 }, best: { samplesPerS: 120_000, batchLines: 5000, writers: 2 } },
      loadAvg: { start: 1, end: 2 },
    };
    const md = backpressureMarkdown(r).join('\n');
    expect(md).toContain('| current (working tree) | 10 samples |');
    expect(md).not.toContain('| 1 sample |');
    expect(md).not.toContain('NaN µs');
    expect(md).toContain('receive-maximum 2000,');
  });

  it("says each tree's own window when the bench leaves it to their defaults", () => {
    const r: BackpressureResult = {
      options: { baselineRev: 'abc1234', repetitions: 1, closedLoopMs: 12_000, warmupMs: 4_000, overloadMs: 20_000, backlogSamples: 300_000, receiveMaximum: null, batchLines: 5000, onlyOverload: false, currentEnv: {} },
      current: variant('current', 97.4),
      baseline: variant('baseline', Number.NaN),
      speedup: { closed10: 1, closed1: 1 },
      influx: { platformConcurrency: { samplesPerS: 100_000, batchLines: 5000, writers: 2 }, best: { samplesPerS: 120_000, batchLines: 5000, writers: 2 } },
      loadAvg: { start: 1, end: 2 },
    };
    expect(backpressureMarkdown(r).join('\n')).toContain("receive-maximum its tree's default (this tree 10000, baseline 2000)");
  });
});

describe('the window a tree ships', () => {
  it("is this tree's PP_MQTT_RECEIVE_MAXIMUM default, and a revision's from its own env schema", () => {
    expect(shippedWindow()).toBe(loadConfig({}).mqtt.receiveMaximum);
    // A revision's is read from git (HEAD: any clone has it); a window is 1–65,535 messages.
    const atHead = shippedWindow('HEAD');
    expect(Number.isInteger(atHead) && atHead >= 1 && atHead <= 65_535).toBe(true);
  });

  it('calls missing samples lost only once the overload drained; before that they may still be queued', () => {
    expect(drainedOrLost({ drainMs: 52_161, published: 1_000, inInfluxDb: 1_000 })).toBe('drained in 52,161 ms, lost 0 (counted in InfluxDB)');
    expect(drainedOrLost({ drainMs: 40_000, published: 1_000, inInfluxDb: 990 })).toBe('drained in 40,000 ms, lost 10 (counted in InfluxDB)');
    expect(drainedOrLost({ drainMs: -1, published: 2_500_000, inInfluxDb: 78_000 })).toBe('not drained within 180 s (2,422,000 not yet in InfluxDB)');
  });

  it('reports broker drops only where the tree reports them', () => {
    expect(brokerDrops(0)).toBe('the broker dropped 0');
    expect(brokerDrops(12_345)).toBe('the broker dropped 12,345');
    expect(brokerDrops(Number.NaN)).toBe('broker drops not reported by this tree');
  });

  it('says what the offer took from the processes that store under overload, against the closed loop', () => {
    const v = variant('current', 95);
    expect(overloadShift(v)).toBeNull(); // no overload ran
    v.overload = {
      offeredSamplesPerS: 100_000,
      storedSamplesPerS: 41_000,
      ofMaximum: 0.82,
      peakRssMiB: 250,
      peakInflight: 2500,
      cpuPct: { platform: 52, mosquitto: 8, influxd: 34, harness: 30 },
      drainMs: 1000,
      published: 1,
      stored: 1,
      inInfluxDb: 1,
      writes: { count: 1, meanMs: 1, meanLines: 1, retries: 0 },
      publishedSamplesPerS: 98_000,
      brokerPeakRssMiB: 900,
      brokerDropped: 0,
      memoryAtPeak: null,
      survivedFullGcMiB: [],
    };
    // Closed loop: fleet 15 + Mosquitto 5 = 20 %, platform 60 + influxd 40 = 100 %; under the offer 38 % and 86 %.
    expect(overloadShift(v)).toBe('Under the overload, current (working tree): the offer\'s own processes (fleet and Mosquitto) took 38 % of a core against 20 % in the closed loop; the platform and influxd 86 % against 100 % (×0.86), and stored 82 % of the maximum.');
  });
});
