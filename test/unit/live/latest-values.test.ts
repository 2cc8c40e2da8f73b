import { describe, expect, it } from 'vitest';
import type { TelemetryBatch } from '../../../src/contract/index.js';
import { LatestValues } from '../../../src/live/latest-values.js';

const ref = { site: 's1', line: 'l1', device: 'd1' };
const batch = (samples: TelemetryBatch['samples']): TelemetryBatch => ({ ...ref, seq: null, samples });

describe('LatestValues', () => {
  it('gives the newest value of each metric in the batch, stamped with its newest sample, and keeps the merge of all', () => {
    const latest = new LatestValues();
    expect(latest.update(batch([{ ts: 1, m: { a: 1, b: 1 } }, { ts: 2, m: { a: 2 } }]))).toEqual({ type: 'telemetry', ...ref, ts: 2, m: { a: 2, b: 1 } });
    expect(latest.update(batch([{ ts: 3, m: { c: 3 } }]))).toEqual({ type: 'telemetry', ...ref, ts: 3, m: { c: 3 } });
    expect([...latest.all()]).toEqual([{ type: 'telemetry', ...ref, ts: 3, m: { a: 2, b: 1, c: 3 } }]);
  });

  it('orders an unordered batch by time before taking the newest values, and leaves the batch as it was', () => {
    const latest = new LatestValues();
    const samples: TelemetryBatch['samples'] = [{ ts: 5, m: { a: 5 } }, { ts: 4, m: { a: 4, b: 4 } }];
    expect(latest.update(batch(samples))).toMatchObject({ ts: 5, m: { a: 5, b: 4 } });
    expect(samples.map((s) => s.ts)).toEqual([5, 4]);
  });

  it('ignores samples no newer than what was shown, and answers null for a batch of only those', () => {
    const latest = new LatestValues();
    latest.update(batch([{ ts: 10, m: { a: 10 } }]));
    expect(latest.update(batch([{ ts: 9, m: { a: 9 } }, { ts: 10, m: { a: 99 } }]))).toBeNull();
    expect(latest.update(batch([{ ts: 8, m: { a: 8, b: 8 } }, { ts: 11, m: { a: 11 } }]))).toEqual({ type: 'telemetry', ...ref, ts: 11, m: { a: 11 } });
    expect([...latest.all()][0]!.m).toEqual({ a: 11 });
  });

  it('record keeps the same values as update without building a message, and newer batches are still news after it', () => {
    const kept = new LatestValues();
    const shown = new LatestValues();
    const batches = [batch([{ ts: 1, m: { a: 1, b: 1 } }]), batch([{ ts: 3, m: { a: 3 } }, { ts: 2, m: { c: 2 } }]), batch([{ ts: 2, m: { a: 99 } }])];
    for (const b of batches) {
      kept.record(b);
      shown.update(b);
    }
    expect([...kept.all()]).toEqual([...shown.all()]);
    expect([...kept.all()]).toEqual([{ type: 'telemetry', ...ref, ts: 3, m: { a: 3, b: 1, c: 2 } }]);
    expect(kept.update(batch([{ ts: 3, m: { a: 4 } }]))).toBeNull();
    expect(kept.update(batch([{ ts: 4, m: { b: 4 } }]))).toEqual({ type: 'telemetry', ...ref, ts: 4, m: { b: 4 } });
  });

  it('keeps its own copy of the values: a message it returned and the batch it was given are never changed by later batches', () => {
    const latest = new LatestValues();
    const first = batch([{ ts: 1, m: { a: 1 } }]);
    const msg = latest.update(first)!;
    latest.update(batch([{ ts: 2, m: { a: 2, b: 2 } }]));
    latest.record(batch([{ ts: 3, m: { a: 3 } }]));
    expect(msg).toEqual({ type: 'telemetry', ...ref, ts: 1, m: { a: 1 } });
    expect(first.samples[0]!.m).toEqual({ a: 1 });
    expect([...latest.all()][0]).toMatchObject({ ts: 3, m: { a: 3, b: 2 } });
  });

  it('record reads no value while each sample names every metric of the one before; a snapshot gets them all', () => {
    let reads = 0;
    /** A sample whose values count how often they are read. */
    const counted = (ts: number, values: Record<string, number>) => {
      const m = {};
      for (const [name, v] of Object.entries(values))
        Object.defineProperty(m, name, {
          enumerable: true,
          get: () => {
            reads++;
            return v;
          },
        });
      return { ts, m: m as Record<string, number> };
    };
    const latest = new LatestValues();
    latest.record(batch([counted(1, { a: 1, b: 1 })]));
    latest.record(batch([counted(2, { a: 2, b: 2 }), counted(3, { b: 3, a: 3, c: 3 })]));
    latest.record(batch([counted(4, { a: 4, b: 4, c: 4 })]));
    expect(reads).toBe(0);
    expect([...latest.all()]).toEqual([{ type: 'telemetry', ...ref, ts: 4, m: { a: 4, b: 4, c: 4 } }]);
    expect(reads).toBe(3); // the newest sample's, once
  });

  it('record keeps the newest value of a metric the following samples lack, in any order of arrival', () => {
    const latest = new LatestValues();
    latest.record(batch([{ ts: 1, m: { a: 1, b: 1 } }]));
    latest.record(batch([{ ts: 2, m: { a: 2 } }])); // lacks b: b's 1 is kept
    latest.record(batch([{ ts: 3, m: { a: 3, c: 3 } }]));
    latest.record(batch([{ ts: 2.5, m: { b: 99, d: 99 } }])); // older than what is kept: ignored
    expect([...latest.all()]).toEqual([{ type: 'telemetry', ...ref, ts: 3, m: { a: 3, b: 1, c: 3 } }]);
    latest.record(batch([{ ts: 5, m: { c: 5 } }, { ts: 4, m: { a: 4, b: 4 } }]));
    expect([...latest.all()][0]!.m).toEqual({ a: 4, b: 4, c: 5 });
    expect(latest.update(batch([{ ts: 6, m: { d: 6 } }]))).toEqual({ type: 'telemetry', ...ref, ts: 6, m: { d: 6 } });
    expect([...latest.all()][0]).toMatchObject({ ts: 6, m: { a: 4, b: 4, c: 5, d: 6 } });
  });

  it('keeps devices that share an id on other sites or lines apart, and gives them in the order first heard', () => {
    const latest = new LatestValues();
    const at = (site: string, line: string, ts: number, v: number): TelemetryBatch => ({ site, line, device: 'd1', seq: null, samples: [{ ts, m: { a: v } }] });
    latest.record(at('s1', 'l1', 1, 1));
    latest.record(at('s2', 'l1', 1, 2));
    latest.record(at('s1', 'l2', 1, 3));
    latest.record(at('s2', 'l1', 2, 4));
    expect(latest.update(at('s1', 'l1', 2, 5))).toMatchObject({ site: 's1', line: 'l1', ts: 2, m: { a: 5 } });
    expect(latest.size).toBe(3);
    expect([...latest.all()].map((e) => [e.site, e.line, e.m.a])).toEqual([
      ['s1', 'l1', 5],
      ['s2', 'l1', 4],
      ['s1', 'l2', 3],
    ]);
  });
});

