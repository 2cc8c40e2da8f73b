import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the read side (src/view/). `kind` is alerts, quality or live: bounded. */
export function createViewMetrics(registry: Registry, probes: { queued: () => number; pending: () => number }) {
  const r = { registers: [registry] };
  return {
    published: new Counter({ ...r, name: 'pp_view_published_total', help: 'Read-side messages published to NATS (worker)', labelNames: ['kind'] as const }),
    publishFailures: new Counter({ ...r, name: 'pp_view_publish_failures_total', help: 'Alert transition publishes that failed and are retried (worker)' }),
    dropped: new Counter({ ...r, name: 'pp_view_dropped_total', help: 'Alert transitions dropped because the publish queue was full while NATS could not take them (worker)' }),
    queued: new Gauge({ ...r, name: 'pp_view_publish_queue', help: 'Alert transitions waiting to be stored by JetStream (worker)', collect() { this.set(probes.queued()); } }),
    applied: new Counter({ ...r, name: 'pp_view_applied_total', help: 'Read-side messages applied to this API node\'s view, by kind', labelNames: ['kind'] as const }),
    ignored: new Counter({ ...r, name: 'pp_view_ignored_total', help: 'Read-side messages that changed nothing here (repeats, older news) or could not be read, by kind', labelNames: ['kind'] as const }),
    pending: new Gauge({ ...r, name: 'pp_view_alerts_pending', help: 'Alert transitions in the stream not yet read by this API node (catching up)', collect() { this.set(probes.pending()); } }),
  };
}
export type ViewMetrics = ReturnType<typeof createViewMetrics>;
