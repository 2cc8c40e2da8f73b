import { describe, expect, it } from 'vitest';
import { IntervalLearner } from '../../../src/quality/interval-learner.js';

describe('IntervalLearner', () => {
  it('is the lower median of the last 32 positive spacings', () => {
    const l = new IntervalLearner();
    expect(l.intervalMs).toBeNull();
    l.add(0);
    l.add(-5);
    expect(l.intervalMs).toBeNull();
    for (const s of [1000, 1000, 990, 1010, 60_000]) l.add(s); // one outage-sized outlier
    expect(l.intervalMs).toBe(1000);
    for (let i = 0; i < 32; i++) l.add(5000); // the gateway now samples every 5 s
    expect(l.intervalMs).toBe(5000);
    expect(l.toJSON()).toHaveLength(32);
    expect(new IntervalLearner([10, 30, 20, 40]).intervalMs).toBe(20);
  });

  it('answers from the median it keeps until the next spacing, and a spacing after a read moves it', () => {
    const l = new IntervalLearner([100, 100, 100]);
    expect(l.intervalMs).toBe(100);
    expect(l.intervalMs).toBe(100);
    for (let i = 0; i < 4; i++) l.add(300);
    expect(l.intervalMs).toBe(300); // 100 ×3, 300 ×4: the lower median of seven is the fourth
    l.add(0); // not a spacing: nothing changes
    expect(l.intervalMs).toBe(300);
  });
});
