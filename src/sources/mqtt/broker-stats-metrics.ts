import { Gauge, type Registry } from 'prom-client';

/**
 * What the broker says about its own queue (Mosquitto's `$SYS` statistics, broker-stats.ts), on
 * the platform's registry. Gauges holding the broker's figures as it reports them: the dropped
 * count is the broker's counter since it started (it goes back to 0 when the broker restarts,
 * which Prometheus' `increase()` handles). Registered only when the watcher runs (an external
 * MQTT broker), so with the embedded broker or NATS they are absent.
 */
export function createBrokerStatsMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    dropped: new Gauge({ ...r, name: 'pp_broker_dropped_messages', help: 'Messages the broker dropped since it started because a client\'s queue or in-flight limit was reached (Mosquitto $SYS/broker/publish/messages/dropped); acknowledged to their publishers and lost' }),
    storedMessages: new Gauge({ ...r, name: 'pp_broker_stored_messages', help: 'Messages held in the broker\'s store: retained ones and those queued for persistent sessions (Mosquitto $SYS/broker/store/messages/count)' }),
    storedBytes: new Gauge({ ...r, name: 'pp_broker_stored_bytes', help: 'Payload bytes held in the broker\'s store (Mosquitto $SYS/broker/store/messages/bytes)' }),
  };
}

export type BrokerStatsMetrics = ReturnType<typeof createBrokerStatsMetrics>;
