import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from '../../../src/live/index.js';

/** The per-key throttle behind "at most 2 messages a second per device, latest value wins". */
describe('Coalescer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  const make = (merge?: (a: number[], b: number[]) => number[]) => {
    const delivered: { at: number; key: string; value: number[] }[] = [];
    const c = new Coalescer<number[]>(500, (key, value) => delivered.push({ at: Date.now(), key, value }), merge);
    return { c, delivered };
  };

  it('delivers the first value at once, then at most one per interval per key, always the latest', () => {
    const { c, delivered } = make();
    for (let i = 0; i < 30; i++) {
      c.offer('d1', [i]);
      vi.advanceTimersByTime(50); // 20 offers a second for 1.5 s
    }
    vi.advanceTimersByTime(1000);
    // Value i is offered at 50·i ms: at 500 ms the latest is 9, at 1000 ms 19, then the last one.
    expect(delivered.map((d) => d.value[0])).toEqual([0, 9, 19, 29]);
    for (let i = 1; i < delivered.length; i++) expect(delivered[i]!.at - delivered[i - 1]!.at).toBeGreaterThanOrEqual(500);
    expect(c.pendingCount).toBe(0);
  });

  it('keys are independent: one busy device does not hold back another', () => {
    const { c, delivered } = make();
    c.offer('busy', [1]);
    c.offer('busy', [2]);
    c.offer('quiet', [9]);
    expect(delivered.map((d) => `${d.key}=${d.value[0]}`)).toEqual(['busy=1', 'quiet=9']);
    vi.advanceTimersByTime(500);
    expect(delivered.map((d) => `${d.key}=${d.value[0]}`)).toEqual(['busy=1', 'quiet=9', 'busy=2']);
  });

  it('merges held values with the merge function, and cancel() forgets a held one', () => {
    const { c, delivered } = make((a, b) => [...a, ...b]);
    c.offer('k', [1]);
    c.offer('k', [2]);
    c.offer('k', [3]);
    vi.advanceTimersByTime(500);
    expect(delivered.map((d) => d.value)).toEqual([[1], [2, 3]]);
    c.offer('k', [4]);
    c.cancel('k');
    vi.advanceTimersByTime(2000);
    expect(delivered).toHaveLength(2);
  });

  it('holds one value per key however many arrive (memory stays bounded), and nothing after close()', () => {
    const { c, delivered } = make();
    c.offer('k', [0]);
    for (let i = 1; i <= 10_000; i++) c.offer('k', [i]);
    expect(c.pendingCount).toBe(1);
    c.close();
    vi.advanceTimersByTime(1000);
    expect(delivered).toHaveLength(1);
    expect(c.offer('k', [1])).toBe(false);
  });
});
