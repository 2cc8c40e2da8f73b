import { describe, expect, it } from 'vitest';
import { mainThreadNs, UsageWindow } from '../../../load-tests/bench/proc-stats.js';

describe('main-thread CPU and run-queue wait from /proc', () => {
  it('counts the time this thread ran, and no more than the window', () => {
    const w = new UsageWindow(() => ({ self: process.pid })).start();
    const end = performance.now() + 200;
    while (performance.now() < end);
    const u = w.stop();
    const t = u.mainThread.self!;
    // Spinning for the whole window: on a CPU for most of it, unless the machine kept it waiting.
    expect(t.runPct + t.waitPct).toBeGreaterThan(80);
    expect(t.runPct).toBeLessThanOrEqual(u.cpuPct.self! + 10); // the whole process, counted in 10 ms ticks
    expect(t.runPct + t.waitPct).toBeLessThanOrEqual(105);
  });

  it('reads NaN for a process that is gone', () => {
    expect(mainThreadNs(2 ** 22 + 1).run).toBeNaN();
  });
});
