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

  it('refuses a timestamp before its window', () => {
    expect(() => new TimeSet(H).add(H - 1)).toThrow(RangeError);
  });
});
