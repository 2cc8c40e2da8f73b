import type { Sink } from './sink.js';

/**
 * Used only when no InfluxDB is configured and none can be started: the platform still runs
 * (live data, validation, metrics) but keeps no history, and says so loudly at start-up and in
 * /readyz. Nothing is durable, so nothing is promised.
 */
export class DiscardSink implements Sink {
  readonly name = 'none (no InfluxDB: history is not kept)';
  async connect(): Promise<void> {}
  async write(_lineProtocol: string): Promise<void> {}
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
