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
        expect([...s.values()]).toEqual(want);
        const back = TimeSet.fromBuffer(H, s.toBuffer());
        expect(back.size).toBe(model.size);
        for (const off of want.slice(-20)) expect(back.add(H + off)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('holds an hour of a regular device as a bitmap: about 1 bit per sampling slot (delta blocks took 1.5–2.5 bytes per sample)', () => {
    for (const [intervalMs, phase] of [
      [1000, 17],
      [10, 3],
      [100, 0],
    ] as const) {
      const s = new TimeSet(H);
      const n = Math.floor((3_600_000 - phase) / intervalMs);
      // Every 50th sample lost, a few off the grid (a reading stamped late): kept exactly too.
      for (let i = 0; i < n; i++) if (i % 50 !== 7) s.add(H + phase + i * intervalMs + (i % 997 === 3 ? 1 : 0));
      const held = n - Math.ceil((n - 7) / 50);
      expect(s.size).toBe(held);
      expect(s.bytes / held).toBeLessThan(0.15);
      expect(s.has(H + phase + 7 * intervalMs)).toBe(false);
      expect(s.has(H + phase + 8 * intervalMs)).toBe(true);
      expect(s.has(H + phase + 3 * intervalMs + 1)).toBe(true);
    }
  });

  it('keeps a jittered device in delta blocks, 1.5–2.5 bytes per sample (as plain offsets in a doubling array: 4.6 at 1 s, 5.8 at 10 ms)', () => {
    for (const [intervalMs, most] of [
      [1000, 2.7],
      [10, 1.6],
    ] as const) {
      const s = new TimeSet(H);
      const n = Math.floor(3_590_000 / intervalMs);
      // Timestamps 0–3 ms late, irregularly: no grid holds 90 % of them.
      for (let i = 0; i < n; i++) s.add(H + i * intervalMs + ((i * 7919) % 4));
      expect(s.size).toBe(n);
      expect(s.bytes / n).toBeLessThan(most);
      expect(s.bytes / n).toBeGreaterThan(0.9); // not a bitmap
    }
  });

  it('never holds more than a bitmap of every millisecond of its window (450 KB for an hour), whatever the rate', () => {
    // A 6-minute window (spanMs) to keep the test short: 60,000 random milliseconds of it, in no
    // order; delta blocks would take about 70 KB, the bitmap of every millisecond 45 KB.
    const span = 360_000;
    const s = new TimeSet(H, null, span);
    const model = new Set<number>();
    let x = 12345;
    for (let i = 0; i < 60_000; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const off = (x >>> 0) % span;
      expect(s.add(H + off)).toBe(!model.has(off));
      model.add(off);
    }
    expect(s.size).toBe(model.size);
    expect(model.size).toBeGreaterThan(50_000);
    expect(s.bytes).toBeLessThanOrEqual(span / 8 + 64);
  });

  it('answers as a plain set would on grids, off them and past the densest form, and round-trips', () => {
    // Devices on a clock (step, phase) with lost samples, some stamped off the grid, replays, random
    // offsets; a 20 s window (spanMs), so the every-millisecond bitmap (2.5 KB) is reached too.
    const span = 20_000;
    const gridded = fc.record({ step: fc.integer({ min: 1, max: 300 }), phase: fc.integer({ min: 0, max: 299 }), n: fc.integer({ min: 0, max: 1500 }), lose: fc.integer({ min: 2, max: 40 }), jitterEvery: fc.integer({ min: 3, max: 400 }) }).map(({ step, phase, n, lose, jitterEvery }) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) if (i % lose !== 0) out.push(Math.min(span + 500, phase + i * step + (i % jitterEvery === 0 ? 1 : 0)));
      return out;
    });
    const random = fc.array(fc.integer({ min: 0, max: span + 100 }), { maxLength: 4000 });
    const input = fc.tuple(gridded, random, fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 5 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(input, ([grid, rand, far, mix]) => {
        // mix: the device alone, then random after it, random first, or interleaved
        const offs = mix === 0 ? grid : mix === 1 ? [...grid, ...rand] : mix === 2 ? [...rand, ...grid] : grid.flatMap((g, i) => [g, rand[i] ?? g]);
        offs.push(...far, ...grid.slice(0, 30)); // beyond the window, and repeats
        const s = new TimeSet(H, null, span);
        const model = new Set<number>();
        for (const off of offs) {
          expect(s.add(H + off)).toBe(!model.has(off));
          model.add(off);
        }
        expect(s.size).toBe(model.size);
        for (const off of [0, 1, 299, 5000, span - 1, span, 0xfffffffe]) expect(s.has(H + off)).toBe(model.has(off));
        const want = [...model].sort((a, b) => a - b);
        expect([...s.values()]).toEqual(want);
        const back = TimeSet.fromBuffer(H, s.toBuffer(), null, span);
        expect([...back.values()]).toEqual(want);
        const most = Math.max(span / 8, 4 * model.size) + 64 + 5 * far.length + 24 * 3;
        expect(s.bytes).toBeLessThanOrEqual(most);
        expect(back.bytes).toBeLessThanOrEqual(most + 1024); // restored offsets fill a fresh plain block
        for (const off of [...grid.slice(-5), 7, span - 2]) expect(back.add(H + off)).toBe(!model.has(off));
      }),
      { numRuns: 200 },
    );
  });

  it('reports its growth to a meter, and its release', () => {
    const meter = { used: 0 };
    const a = new TimeSet(H, meter);
    const b = new TimeSet(H, meter);
    for (let i = 0; i < 5000; i++) {
      a.add(H + i * 10);
      b.add(H + i * 1000 + (i % 3));
      expect(meter.used).toBe(a.bytes + b.bytes);
    }
    a.release();
    expect(meter.used).toBe(b.bytes);
    b.release();
    expect(meter.used).toBe(0);
  });

  it('saves as compactly as it holds (SQLite, hand-over), and restores the plain offsets saved before that form', () => {
    const s = new TimeSet(H);
    for (let i = 0; i < 360_000; i++) s.add(H + i * 10 + (i % 1000 === 0 ? 3 : 0));
    const buf = s.toBuffer();
    expect(buf.length).toBeLessThan(46_000); // 4 bytes per offset before: 1.44 MB
    const back = TimeSet.fromBuffer(H, buf);
    expect(back.size).toBe(s.size);
    expect(back.add(H + 30)).toBe(false);
    expect(back.add(H + 3)).toBe(false);
    expect(back.add(H + 5)).toBe(true);

    const plain = Buffer.from(new Uint32Array([0, 1000, 2000, 2999]).buffer);
    const old = TimeSet.fromBuffer(H, plain);
    expect([...old.values()]).toEqual([0, 1000, 2000, 2999]);
    expect(old.add(H + 2999)).toBe(false);
    expect(() => TimeSet.fromBuffer(H, buf.subarray(0, buf.length - 10))).toThrow(RangeError);
  });

  it('refuses a timestamp before its window', () => {
    expect(() => new TimeSet(H).add(H - 1)).toThrow(RangeError);
  });
});
