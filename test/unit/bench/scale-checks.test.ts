import { describe, expect, it } from 'vitest';
import { bottleneck, reconcile, type LoadPicture } from '../../../load-tests/bench/scale-checks.js';
import { interleave } from '../../../load-tests/bench/scale.js';
import { median, percentiles } from '../../../load-tests/bench/stats.js';

// The benchmark's pure helpers only: the benchmarks themselves run with `npm run bench`, never here.

describe('bench: reconcile (lost, duplicated, unexpected)', () => {
  it('passes when every acknowledged sample is a distinct point and nothing was written twice', () => {
    expect(reconcile(1000, 1000, 1000)).toEqual({ acked: 1000, written: 1000, unique: 1000, lost: 0, duplicates: 0, unexpected: 0, ok: true });
  });

  it('counts acknowledged samples missing from InfluxDB as lost', () => {
    const r = reconcile(1000, 990, 990);
    expect(r).toMatchObject({ lost: 10, duplicates: 0, ok: false });
  });

  it('counts samples stored beyond the distinct points as duplicates (InfluxDB overwrote them)', () => {
    const r = reconcile(1000, 1012, 1000);
    expect(r).toMatchObject({ lost: 0, duplicates: 12, unexpected: 0, ok: false });
  });

  it('tells loss and duplication apart when both happen', () => {
    expect(reconcile(1000, 1000, 995)).toMatchObject({ lost: 5, duplicates: 5, ok: false });
  });

  it('flags points nobody acknowledged', () => {
    expect(reconcile(1000, 1000, 1003)).toMatchObject({ lost: 0, unexpected: 3, ok: false });
  });
});

describe('bench: bottleneck', () => {
  const base: LoadPicture = { cores: 2, machinePct: 120, cpuPct: { platforms: 50, influxd: 40, mosquitto: 10, harness: 15 }, otherPct: 5, busiestInstanceCpuPct: 50, samplesPerS: 10_000, influxAloneSamplesPerS: 30_000 };

  it('names the machine CPU when the cores are nearly all busy, biggest user first', () => {
    const b = bottleneck({ ...base, machinePct: 195, cpuPct: { platforms: 90, influxd: 60, mosquitto: 15, harness: 20 }, otherPct: 10 });
    expect(b.limit).toBe('cpu');
    expect(b.why).toMatch(/195 % of 200 %/);
    expect(b.why.indexOf('platforms')).toBeLessThan(b.why.indexOf('influxd'));
  });

  it('names InfluxDB when the rate is close to what InfluxDB alone takes', () => {
    expect(bottleneck({ ...base, samplesPerS: 27_000 }).limit).toBe('influxdb');
  });

  it('names the broker when Mosquitto (single-threaded) uses a whole core', () => {
    expect(bottleneck({ ...base, cpuPct: { ...base.cpuPct, mosquitto: 97 } }).limit).toBe('broker');
  });

  it('names a platform instance whose JavaScript thread is about one core busy', () => {
    expect(bottleneck({ ...base, busiestInstanceCpuPct: 88 }).limit).toBe('instance');
  });

  it('otherwise says nothing was saturated', () => {
    expect(bottleneck(base).limit).toBe('latency');
    expect(bottleneck({ ...base, influxAloneSamplesPerS: Number.NaN }).limit).toBe('latency');
  });
});

describe('bench: interleaving and statistics', () => {
  it('rotates the instance counts per repetition', () => {
    expect(interleave([1, 2, 3], 1)).toEqual([1, 2, 3]);
    expect(interleave([1, 2, 3], 2)).toEqual([2, 3, 1]);
    expect(interleave([1, 2, 3], 3)).toEqual([3, 1, 2]);
    expect(interleave([1, 2, 3], 4)).toEqual([1, 2, 3]);
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 20 }, (_, i) => 20 - i); // 20 … 1, unsorted on purpose
    expect(percentiles(xs)).toEqual({ n: 20, p50: 10, p95: 19, p99: 20, max: 20 });
    expect(median([3, 1, 2])).toBe(2);
    expect(percentiles([]).n).toBe(0);
    expect(Number.isNaN(percentiles([]).p50)).toBe(true);
  });
});
