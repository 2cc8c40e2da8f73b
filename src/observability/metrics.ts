import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Tally } from './tally.js';

export type IngestSource = 'mqtt' | 'http' | 'line_protocol' | 'sparkplug' | 'nats';

/**
 * The platform's Prometheus metrics. One registry per platform instance (not prom-client's
 * global one), so several instances can live in one process (tests) without clashing.
 * Label values are bounded: sources and error codes only, never ids or metric names from input.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pp_process_' });
  const r = { registers: [registry] };
  // The thread's busy time since start, as a counter: its increase over any window divided by the
  // window's length is how busy the JavaScript thread was (1 = it never waited for I/O), which
  // tells a thread that is the limit from a process that is waiting on something else.
  let loopActiveMs = 0;
  // Gauges read at scrape time from whoever owns the value (set by the app at wiring time).
  // Counted for every message and every stored batch: plain numbers, handed to their counters
  // when read (tally.ts). Rejections are rare and keep prom-client's own `inc`.
  const tally = () => new Tally<IngestSource>('source');
  const messagesReceived = tally();
  const samplesReceived = tally();
  const samplesStored = tally();
  const unknownMetrics = tally();
  const probes = { writeQueueLines: () => 0, mqttInflight: () => 0, mqttInflightPeak: () => 0, spool: (): { bytes: number; records: number; oldestAt: number | null; corruptSegments: number } | null => null, alertsOpen: () => 0 };
  return {
    registry,
    probes,
    messagesReceived,
    samplesReceived,
    samplesStored,
    unknownMetrics,
    messagesReceivedTotal: new Counter({ ...r, name: 'pp_messages_received_total', help: 'Messages (MQTT) or requests (HTTP) received', labelNames: ['source'] as const, collect() { messagesReceived.drainInto(this); } }),
    messagesRejected: new Counter({ ...r, name: 'pp_messages_rejected_total', help: 'Messages rejected whole, by reason code', labelNames: ['source', 'reason'] as const }),
    samplesReceivedTotal: new Counter({ ...r, name: 'pp_samples_received_total', help: 'Valid samples accepted for storage', labelNames: ['source'] as const, collect() { samplesReceived.drainInto(this); } }),
    samplesRejected: new Counter({ ...r, name: 'pp_samples_rejected_total', help: 'Samples rejected, by reason code', labelNames: ['source', 'reason'] as const }),
    samplesStoredTotal: new Counter({ ...r, name: 'pp_samples_stored_total', help: 'Samples acknowledged by storage', labelNames: ['source'] as const, collect() { samplesStored.drainInto(this); } }),
    unknownMetricsTotal: new Counter({ ...r, name: 'pp_unknown_metric_messages_total', help: 'Messages carrying metrics outside the catalogue (kept, flagged)', labelNames: ['source'] as const, collect() { unknownMetrics.drainInto(this); } }),
    deadLetters: new Counter({ ...r, name: 'pp_dead_letters_total', help: 'Rejected MQTT messages republished to the dead-letter topic' }),
    writeBatchLines: new Histogram({ ...r, name: 'pp_write_batch_lines', help: 'Lines per storage write', buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000] }),
    writeDuration: new Histogram({ ...r, name: 'pp_write_duration_seconds', help: 'Latency of successful storage writes', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }),
    writeWait: new Histogram({ ...r, name: 'pp_write_wait_seconds', help: 'How long the oldest line of a storage write waited for the write to start (batch fill)', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] }),
    writeRetries: new Counter({ ...r, name: 'pp_write_retries_total', help: 'Storage writes retried after a transient failure' }),
    writeFailures: new Counter({ ...r, name: 'pp_write_failures_total', help: 'Storage writes that failed permanently' }),
    writeQueueLines: new Gauge({ ...r, name: 'pp_write_queue_lines', help: 'Lines waiting to be written to storage', collect() { this.set(probes.writeQueueLines()); } }),
    mqttInflight: new Gauge({ ...r, name: 'pp_mqtt_inflight_messages', help: 'MQTT messages received and not yet acknowledged (waiting for durability)', collect() { this.set(probes.mqttInflight()); } }),
    mqttInflightPeak: new Gauge({ ...r, name: 'pp_mqtt_inflight_messages_peak', help: 'The most MQTT messages held unacknowledged at once since start (at most PP_MQTT_RECEIVE_MAXIMUM, plus one more window while a dead letter awaits its PUBACK)', collect() { this.set(probes.mqttInflightPeak()); } }),
    spoolBytes: new Gauge({ ...r, name: 'pp_spool_bytes', help: 'Bytes in the on-disk spool waiting for replay', collect() { this.set(probes.spool()?.bytes ?? 0); } }),
    spoolRecords: new Gauge({ ...r, name: 'pp_spool_records', help: 'Batches in the spool waiting for replay (this run)', collect() { this.set(probes.spool()?.records ?? 0); } }),
    spoolOldestAge: new Gauge({ ...r, name: 'pp_spool_oldest_age_seconds', help: 'Age of the oldest spooled batch not yet replayed', collect() { const at = probes.spool()?.oldestAt; this.set(at ? (Date.now() - at) / 1000 : 0); } }),
    spoolCorruptSegments: new Gauge({ ...r, name: 'pp_spool_corrupt_segments', help: 'Spool segments found corrupt and skipped (kept as *.corrupt)', collect() { this.set(probes.spool()?.corruptSegments ?? 0); } }),
    spoolAppendedLines: new Counter({ ...r, name: 'pp_spool_appended_lines_total', help: 'Lines written to the spool (storage down or slow)' }),
    spoolReplayedLines: new Counter({ ...r, name: 'pp_spool_replayed_lines_total', help: 'Lines replayed from the spool into storage' }),
    spoolErrors: new Counter({ ...r, name: 'pp_spool_errors_total', help: 'Spool appends refused (full, disk full, I/O error)' }),
    ingestThrottled: new Counter({ ...r, name: 'pp_ingest_throttled_total', help: 'HTTP ingest requests answered 503 because storage and spool could not keep up' }),
    alertsOpen: new Gauge({ ...r, name: 'pp_alerts_open', help: 'Alerts currently open', collect() { this.set(probes.alertsOpen()); } }),
    alertTransitionsTotal: new Counter({ ...r, name: 'pp_alert_transitions_total', help: 'Alert transitions (opened, resolved, acknowledged), by category', labelNames: ['type', 'category'] as const }),
    energyWindows: new Counter({ ...r, name: 'pp_energy_windows_total', help: 'Device energy windows closed and stored (all window sizes)' }),
    analyticsErrors: new Counter({ ...r, name: 'pp_analytics_errors_total', help: 'Batches the analytics stage failed on (the data was still stored; see the log)' }),
    mqttWindowOverruns: new Counter({ ...r, name: 'pp_mqtt_window_overrun_messages_total', help: 'QoS 1 messages a broker sent beyond our receive-maximum (it ignores it; the platform stops reading at the window instead)', labelNames: ['source'] as const }),
    eventLoopActive: new Counter({
      ...r,
      name: 'pp_process_event_loop_active_seconds_total',
      help: 'Time the main thread spent running callbacks rather than waiting for events (performance.eventLoopUtilization): its rate is the thread\'s busy share',
      collect() {
        const now = performance.eventLoopUtilization().active;
        this.inc((now - loopActiveMs) / 1000);
        loopActiveMs = now;
      },
    }),
    mqttConnected: new Gauge({ ...r, name: 'pp_mqtt_connected', help: '1 when connected to the broker' }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
