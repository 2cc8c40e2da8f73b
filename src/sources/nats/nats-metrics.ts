import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the JetStream source. `unit` is a partition number or `unmapped`: bounded by PP_NATS_PARTITIONS. */
export function createNatsMetrics(registry: Registry, probes: { owned: () => number; inflight: () => number; connected: () => boolean }) {
  const r = { registers: [registry] };
  return {
    acked: new Counter({ ...r, name: 'pp_nats_messages_acked_total', help: 'JetStream messages acknowledged (data durable or dead-lettered), by unit of ownership', labelNames: ['unit'] as const }),
    withheld: new Counter({ ...r, name: 'pp_nats_acks_withheld_total', help: 'Messages finished after this worker\'s lease lapsed: not acked, left for the next owner' }),
    ownershipChanges: new Counter({ ...r, name: 'pp_nats_ownership_changes_total', help: 'Units acquired or given up by this worker', labelNames: ['change'] as const }),
    owned: new Gauge({ ...r, name: 'pp_nats_units_owned', help: 'Partitions (and the unmapped unit) this worker owns now', collect() { this.set(probes.owned()); } }),
    inflight: new Gauge({ ...r, name: 'pp_nats_inflight_messages', help: 'JetStream messages delivered and not yet acknowledged (waiting for durability)', collect() { this.set(probes.inflight()); } }),
    connected: new Gauge({ ...r, name: 'pp_nats_connected', help: '1 while connected to NATS', collect() { this.set(probes.connected() ? 1 : 0); } }),
  };
}
export type NatsMetrics = ReturnType<typeof createNatsMetrics>;
