import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createWebhookMetrics } from '../../../src/webhooks/index.js';

describe('webhook outbox gauges', () => {
  it('read the outbox once per scrape, and afresh on the next', async () => {
    const registry = new Registry();
    let reads = 0;
    let pending = 3;
    createWebhookMetrics(registry, () => {
      reads++;
      return { pending, oldestAt: Date.now() - 5000 };
    });
    const first = await registry.metrics();
    expect(reads).toBe(1);
    expect(first).toMatch(/^pp_webhook_outbox_depth 3$/m);
    expect(first).toMatch(/^pp_webhook_oldest_pending_age_seconds (4|5)(\.\d+)?$/m);
    await new Promise((r) => setImmediate(r));
    pending = 7;
    const second = await registry.metrics();
    expect(reads).toBe(2);
    expect(second).toMatch(/^pp_webhook_outbox_depth 7$/m);
  });
});
