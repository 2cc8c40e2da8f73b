import { describe, expect, it } from 'vitest';
import { Fifo } from '../../../src/queue/fifo.js';

describe('Fifo', () => {
  it('gives items back oldest first across its compactions, and nothing once empty', () => {
    const q = new Fifo<number>();
    const pushed = Array.from({ length: 10_000 }, (_, i) => [i, i + 10_000]).flat();
    const out: number[] = [];
    // Interleaved pushes and takes, long enough to pass the compaction threshold several times.
    for (let i = 0; i < 10_000; i++) {
      q.push(i);
      q.push(i + 10_000);
      out.push(q.shift()!);
    }
    expect(q.size).toBe(10_000);
    expect(q.peek()).toBe(pushed[10_000]);
    while (q.size > 0) out.push(q.shift()!);
    expect(out).toEqual(pushed);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
  });

  it('clear empties it', () => {
    const q = new Fifo<string>();
    q.push('a');
    q.push('b');
    q.clear();
    expect(q.size).toBe(0);
    q.push('c');
    expect(q.shift()).toBe('c');
  });
});
