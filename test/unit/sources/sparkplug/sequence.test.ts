import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../../../src/sources/sparkplug/index.js';
import { MAX_HELD } from '../../../../src/sources/sparkplug/sequence.js';

describe('Sparkplug seq reorder buffer', () => {
  it('passes in-order messages straight through, wrapping 255 → 0', () => {
    const b = new ReorderBuffer<string>(254);
    expect(b.offer(254, 'a')).toEqual({ kind: 'in-order', ready: ['a'], gapClosed: false });
    expect(b.offer(255, 'b')).toEqual({ kind: 'in-order', ready: ['b'], gapClosed: false });
    expect(b.offer(0, 'c')).toEqual({ kind: 'in-order', ready: ['c'], gapClosed: false });
    expect(b.expected).toBe(1);
  });

  it('holds messages behind a gap and releases them in order when the missing one arrives', () => {
    const b = new ReorderBuffer<string>(10);
    expect(b.offer(12, 'm12')).toEqual({ kind: 'held', gapOpened: true, overflow: false });
    expect(b.offer(11, 'm11')).toEqual({ kind: 'held', gapOpened: false, overflow: false });
    expect(b.heldCount).toBe(2);
    expect(b.offer(10, 'm10')).toEqual({ kind: 'in-order', ready: ['m10', 'm11', 'm12'], gapClosed: true });
    expect(b.expected).toBe(13);
  });

  it('gives up on a gap: held messages come out in seq order (across the wrap) and the count of missing ones is exact', () => {
    const b = new ReorderBuffer<string>(250);
    b.offer(2, 'm2');
    b.offer(253, 'm253');
    b.offer(255, 'm255');
    // 250, 251, 252, 254, 0, 1 never came: 6 missing.
    expect(b.giveUp()).toEqual({ ready: ['m253', 'm255', 'm2'], missing: 6 });
    expect(b.expected).toBe(3);
    expect(b.heldCount).toBe(0);
    expect(b.giveUp()).toEqual({ ready: [], missing: 0 });
  });

  it('treats a message behind the expected seq as late (processed alone, expectation unchanged)', () => {
    const b = new ReorderBuffer<string>(100);
    expect(b.offer(99, 'old')).toEqual({ kind: 'late', ready: ['old'] });
    expect(b.offer(100 - 100, 'far-behind')).toEqual({ kind: 'late', ready: ['far-behind'] });
    expect(b.expected).toBe(100);
  });

  it('reports overflow when too many messages wait behind one gap', () => {
    const b = new ReorderBuffer<number>(0);
    let last = b.offer(1, 1);
    for (let s = 2; s <= MAX_HELD + 1; s++) last = b.offer(s, s);
    expect(last).toEqual({ kind: 'held', gapOpened: false, overflow: true });
  });

  it('drain empties the buffer in seq order without moving the expectation', () => {
    const b = new ReorderBuffer<string>(5);
    b.offer(8, 'm8');
    b.offer(7, 'm7');
    expect(b.drain()).toEqual(['m7', 'm8']);
    expect(b.heldCount).toBe(0);
  });
});
