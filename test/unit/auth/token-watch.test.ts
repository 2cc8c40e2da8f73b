import { describe, expect, it } from 'vitest';
import { TokenWatch, type WatchedConnection } from '../../../src/auth/index.js';

function conn(tokenId: string): WatchedConnection & { closed: boolean; ended: string[] } {
  const c = {
    tokenId,
    closed: false,
    ended: [] as string[],
    gone: () => c.closed,
    end: (reason: string) => {
      c.ended.push(reason);
      c.closed = true;
    },
  };
  return c;
}

describe('token watch', () => {
  it('ends every connection of a token once it is no longer active, the others stay', () => {
    const active = new Set(['a', 'b']);
    const asked: string[] = [];
    const w = new TokenWatch((id) => (asked.push(id), active.has(id)));
    const [a1, a2, b1] = [conn('a'), conn('a'), conn('b')];
    for (const c of [a1, a2, b1]) w.add(c);
    w.check();
    expect([a1.ended, a2.ended, b1.ended]).toEqual([[], [], []]);
    // One store lookup per distinct token, not per connection.
    expect(asked.sort()).toEqual(['a', 'b']);
    active.delete('a');
    w.check();
    expect([a1.ended, a2.ended, b1.ended]).toEqual([['token revoked or expired'], ['token revoked or expired'], []]);
    expect(w.size).toBe(1);
  });

  it('forgets connections that closed by themselves without asking the store about them', () => {
    const asked: string[] = [];
    const w = new TokenWatch((id) => (asked.push(id), true));
    const c = conn('a');
    w.add(c);
    c.closed = true;
    w.check();
    expect(asked).toEqual([]);
    expect(w.size).toBe(0);
  });

  it('a store that throws (busy) ends nothing; the next pass asks again', () => {
    let busy = true;
    const w = new TokenWatch(() => {
      if (busy) throw new Error('SQLITE_BUSY');
      return false;
    });
    const c = conn('a');
    w.add(c);
    w.check();
    expect(c.ended).toEqual([]);
    busy = false;
    w.check();
    expect(c.ended).toEqual(['token revoked or expired']);
  });
});
