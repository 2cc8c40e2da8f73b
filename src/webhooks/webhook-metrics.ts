import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type OutboxDepth = { pending: number; oldestAt: number | null };

/**
 * `depth` once per scrape: both outbox gauges are collected in the same turn of the event loop, so
 * the first reads the outbox (one query) and the second reuses it; the next turn reads afresh.
 */
function oncePerScrape(depth: () => OutboxDepth): () => OutboxDepth {
  let cached: OutboxDepth | null = null;
  return () => {
    if (cached === null) {
      cached = depth();
      setImmediate(() => (cached = null));
    }
    return cached;
  };
}

/** Webhook delivery metrics, on the platform's registry. The gauges read the outbox at scrape time. */
export function createWebhookMetrics(registry: Registry, readDepth: () => OutboxDepth) {
  const r = { registers: [registry] };
  const depth = oncePerScrape(readDepth);
  return {
    enqueued: new Counter({ ...r, name: 'pp_webhook_enqueued_total', help: 'Alert transitions written to the webhook outbox (one per matching subscription)' }),
    enqueueErrors: new Counter({ ...r, name: 'pp_webhook_enqueue_errors_total', help: 'Transitions that could not be written to the outbox (see the log)' }),
    deliveries: new Counter({ ...r, name: 'pp_webhook_deliveries_total', help: 'Delivery attempts by outcome: delivered (2xx), retried (failed, will retry), dead (failed past PP_WEBHOOK_DEAD_AFTER_S)', labelNames: ['outcome'] as const }),
    latency: new Histogram({ ...r, name: 'pp_webhook_delivery_latency_seconds', help: 'From the transition entering the outbox to its 2xx answer, retries included', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400] }),
    outboxDepth: new Gauge({ ...r, name: 'pp_webhook_outbox_depth', help: 'Deliveries waiting in the outbox (all subscriptions)', collect() { this.set(depth().pending); } }),
    oldestPendingAge: new Gauge({ ...r, name: 'pp_webhook_oldest_pending_age_seconds', help: 'Age of the oldest delivery waiting in the outbox', collect() { const at = depth().oldestAt; this.set(at === null ? 0 : (Date.now() - at) / 1000); } }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
