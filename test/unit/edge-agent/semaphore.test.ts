import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../../edge-agent/publisher/index.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('Semaphore', () => {
  it('hands out at most `limit` slots, FIFO, with a priority lane', async () => {
    const s = new Semaphore(2);
    const order: string[] = [];
    await s.acquire();
    await s.acquire();
    void s.acquire().then(() => order.push('a'));
    void s.acquire().then(() => order.push('b'));
    void s.acquire(true).then(() => order.push('urgent'));
    expect(s.waiting).toBe(3);
    s.release();
    await tick();
    s.release();
    await tick();
    expect(order).toEqual(['urgent', 'a']);
    expect(s.inUse).toBe(2);
    s.release();
    await tick();
    expect(order).toEqual(['urgent', 'a', 'b']);
  });

  it('changes its limit at run time (e.g. a new Receive Maximum)', async () => {
    const s = new Semaphore(4);
    for (let i = 0; i < 4; i++) await s.acquire();
    s.setLimit(2);
    let got = false;
    void s.acquire().then(() => (got = true));
    s.release();
    s.release();
    await tick();
    expect(got).toBe(false); // 2 in use = the new limit
    s.release();
    await tick();
    expect(got).toBe(true);
    s.setLimit(10);
    expect(s.limit).toBe(10);
    expect(() => s.setLimit(0)).toThrow(/limit/);
  });

  it('whenAvailable() and whenIdle() resolve at the right moments', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    let available = false;
    let idle = false;
    void s.whenAvailable().then(() => (available = true));
    void s.whenIdle().then(() => (idle = true));
    await tick();
    expect([available, idle]).toEqual([false, false]);
    s.release();
    await tick();
    expect([available, idle]).toEqual([true, true]);
    expect(() => s.release()).toThrow(/more often/);
  });
});
