import { Counter, Gauge, type Registry } from 'prom-client';
import { Tally } from '../observability/tally.js';

export interface QualityProbes {
  devices(): number;
  online(): number;
  missingMessages(): number;
  timestampBytes(): number;
}

export type MessageVerdict = 'first' | 'next' | 'ahead' | 'gap-fill' | 'duplicate' | 'reset' | 'unsequenced';
export type SampleVerdict = 'received' | 'duplicate' | 'too_late';

/**
 * Quality-stage Prometheus metrics, on the platform's registry. Labels are small enumerations
 * (verdicts, status kinds), never ids: per-device figures live in InfluxDB (`quality`).
 */
export function createQualityMetrics(registry: Registry, probes: QualityProbes) {
  const r = { registers: [registry] };
  const messageVerdicts = new Tally<MessageVerdict>('verdict');
  const sampleVerdicts = new Tally<SampleVerdict>('verdict');
  return {
    /** Per stored message and sample: count here (see Tally), not on the counters. */
    messageVerdicts,
    sampleVerdicts,
    messages: new Counter({ ...r, name: 'pp_quality_messages_total', help: 'Stored messages by seq verdict (first, next, ahead = a gap opened, gap-fill = late, duplicate, reset, unsequenced)', labelNames: ['verdict'] as const, collect() { messageVerdicts.drainInto(this); } }),
    samples: new Counter({ ...r, name: 'pp_quality_samples_total', help: 'Stored samples by quality verdict (received, duplicate, too_late = past the late horizon, not accounted)', labelNames: ['verdict'] as const, collect() { sampleVerdicts.drainInto(this); } }),
    statusMessages: new Counter({ ...r, name: 'pp_quality_status_messages_total', help: 'Status messages taken (device, gateway) or ignored (invalid)', labelNames: ['kind'] as const }),
    flushes: new Counter({ ...r, name: 'pp_quality_flushes_total', help: 'Quality figures written to InfluxDB and local state saved' }),
    points: new Counter({ ...r, name: 'pp_quality_points_written_total', help: 'Points written to the quality measurement' }),
    devices: new Gauge({ ...r, name: 'pp_quality_devices', help: 'Devices watched (heard from and not retired)', collect() { this.set(probes.devices()); } }),
    online: new Gauge({ ...r, name: 'pp_quality_devices_online', help: 'Devices watched and online now', collect() { this.set(probes.online()); } }),
    timestampBytes: new Gauge({ ...r, name: 'pp_quality_timestamp_bytes', help: 'Bytes the received timestamps of every device window hold (they tell a duplicate sample from a new one), under PP_QUALITY_TIMESTAMP_BUDGET_MIB', collect() { this.set(probes.timestampBytes()); } }),
    timestampWindowsDropped: new Counter({ ...r, name: 'pp_quality_timestamp_windows_dropped_total', help: 'Device windows whose received timestamps were let go at PP_QUALITY_TIMESTAMP_BUDGET_MIB: their duplicates are told by seq alone from then on' }),
    missingMessages: new Gauge({ ...r, name: 'pp_quality_missing_messages', help: 'Messages currently missing (open seq gaps, all devices)', collect() { this.set(probes.missingMessages()); } }),
  };
}

export type QualityMetrics = ReturnType<typeof createQualityMetrics>;
