import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeviceStatusRegistry } from './device-status-registry.js';

/**
 * Sparkplug-specific Prometheus metrics, on the platform's registry (the pipeline's own counters
 * carry `source="sparkplug"`). Labels are bounded: message types and skip reasons only.
 */
export function createSparkplugMetrics(registry: Registry, devices: DeviceStatusRegistry) {
  const r = { registers: [registry] };
  return {
    messages: new Counter({ ...r, name: 'pp_sparkplug_messages_total', help: 'Sparkplug messages received, by message type', labelNames: ['type'] as const }),
    metricsSkipped: new Counter({ ...r, name: 'pp_sparkplug_metrics_skipped_total', help: 'Sparkplug metric values not stored: strings, bytes, datasets, templates, arrays, transient or control metrics', labelNames: ['reason'] as const }),
    historicalSamples: new Counter({ ...r, name: 'pp_sparkplug_historical_samples_total', help: 'is_historical samples stored (flagged historical: kept out of live alerting)' }),
    seqGaps: new Counter({ ...r, name: 'pp_sparkplug_seq_gaps_total', help: 'Sparkplug seq gaps not filled within the reorder timeout' }),
    lateMessages: new Counter({ ...r, name: 'pp_sparkplug_late_messages_total', help: 'Sparkplug messages that arrived behind the expected seq (late or repeated); stored anyway' }),
    rebirthRequests: new Counter({ ...r, name: 'pp_sparkplug_rebirth_requests_total', help: 'NCMD Node Control/Rebirth requests published' }),
    staleDeaths: new Counter({ ...r, name: 'pp_sparkplug_stale_deaths_total', help: 'NDEATH messages ignored because their bdSeq belongs to an older session' }),
    connected: new Gauge({ ...r, name: 'pp_sparkplug_connected', help: '1 when the Sparkplug client is connected to the broker' }),
    devicesOnline: new Gauge({ ...r, name: 'pp_sparkplug_devices_online', help: 'Sparkplug devices (and edge nodes) online', collect() { this.set(devices.counts().online); } }),
  };
}

export type SparkplugMetrics = ReturnType<typeof createSparkplugMetrics>;
