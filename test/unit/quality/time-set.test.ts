import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeSet } from '../../../src/quality/time-set.js';

const H = Date.UTC(2026, 0, 5, 16);

describe('TimeSet', () => {
  it('tells new timestamps from repeated ones, in and out of order, past its initial capacity', () => {
    const s = new TimeSet(H);
    for (let i = 0; i < 100; i += 2) expect(s.add(H + i * 1000)).toBe(true);
    for (let i = 1; i < 100; i += 2) expect(s.add(H + i * 1000)).toBe(true); // out of order: inserted between
    expect(s.size).toBe(100);
    for (let i = 0; i < 100; i++) expect(s.add(H + i * 1000)).toBe(false);
    expect(s.has(H + 99_000)).toBe(true);
    expect(s.has(H + 99_001)).toBe(false);
    expect(s.size).toBe(100);
  });

  it('round-trips through a buffer (SQLite blob)', () => {
    const s = new TimeSet(H);
    for (const off of [5, 3_599_999, 0, 1234]) s.add(H + off);
    const back = TimeSet.fromBuffer(H, s.toBuffer());
    expect(back.size).toBe(4);
    expect(back.add(H + 1234)).toBe(false);
    expect(back.add(H + 1235)).toBe(true);
  });

  it('answers as a plain set would, whatever the order, across sealed blocks, and round-trips', () => {
    // Mostly in order with late ones and repeats, as devices deliver; offsets up to the hour and beyond 2^28 (5-byte deltas).
    const offsets = fc.array(fc.oneof(fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 1500 });
    fc.assert(
      fc.property(offsets, fc.boolean(), (offs, sorted) => {
        const input = sorted ? [...offs].sort((a, b) => a - b) : offs;
        const s = new TimeSet(H);
        const model = new Set<number>();
        for (const off of input) {
          expect(s.add(H + off)).toBe(!model.has(off));
          model.add(off);
        }
        expect(s.size).toBe(model.size);
        for (const off of input.slice(0, 50)) expect(s.has(H + off)).toBe(true);
        for (const off of [1, 999, 2_000_001, 0xfffffffe]) expect(s.has(H + off)).toBe(model.has(off));
        const want = [...model].sort((a, b) => a - b);
        const buf = s.toBuffer();
        expect([...new Uint32Array(new Uint8Array(buf).buffer)]).toEqual(want);
        const back = TimeSet.fromBuffer(H, buf);
        expect(back.size).toBe(model.size);
        for (const off of want.slice(-20)) expect(back.add(H + off)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('holds an hour of in-order samples in 1.5–2.5 bytes each, spare room included (as plain offsets in a doubling array: 4.6 at 1 s, 5.8 at 10 ms)', () => {
    for (const [intervalMs, most] of [
      [1000, 2.7],
      [10, 1.6],
    ] as const) {
      const s = new TimeSet(H);
      const n = Math.floor(3_600_000 / intervalMs);
      for (let i = 0; i < n; i++) s.add(H + i * intervalMs);
      expect(s.size).toBe(n);
      expect(s.bytes / n).toBeLessThan(most);
    }
  });

  it('refuses a timestamp before its window', () => {
    expect(() => new TimeSet(H).add(H - 1)).toThrow(RangeError);
  });
});
