import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';

async function activeSeconds(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('pp_process_event_loop_active_seconds_total');
  const line = text.split('\n').find((l) => l.startsWith('pp_process_event_loop_active_seconds_total '));
  return Number(line!.split(' ')[1]);
}

const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('event-loop busy time metric', () => {
  it('grows by the time the thread spent running callbacks, not by time spent waiting', async () => {
    const metrics = createMetrics();
    const a = await activeSeconds(metrics);
    // Busy: 300 ms of synchronous work in callbacks, then a turn of the loop so it is counted.
    for (let i = 0; i < 3; i++) {
      spin(100);
      await new Promise((r) => setImmediate(r));
    }
    const b = await activeSeconds(metrics);
    expect(b - a).toBeGreaterThanOrEqual(0.28);
    // Waiting: 300 ms in a timer, the thread idle in between.
    await new Promise((r) => setTimeout(r, 300));
    const c = await activeSeconds(metrics);
    expect(c - b).toBeLessThan(0.15);
    expect(c).toBeGreaterThanOrEqual(b);
  });
});
