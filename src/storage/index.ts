import { InfluxV1Sink, type InfluxV1Options } from './influx-v1-sink.js';
import { InfluxV2Sink, type InfluxV2Options } from './influx-v2-sink.js';
import type { Sink } from './sink.js';

export type { Point } from './point.js';
export { SinkError, type Sink } from './sink.js';
export { toLineProtocol, pointsToLineProtocol, LineProtocolError } from './line-protocol.js';
export { isRetryableStatus } from './http-errors.js';
export { InfluxV1Sink, quoteDatabaseName, type InfluxV1Options } from './influx-v1-sink.js';
export { InfluxV2Sink, type InfluxV2Options } from './influx-v2-sink.js';
export { DiscardSink } from './discard-sink.js';
export { BatchWriter, type BatchWriterOptions, type BatchWriterObserver } from './batch-writer.js';
export { Spool, SpoolFullError, type SpoolOptions, type SpoolStats, type SpoolRecord } from './spool.js';
export { queryInfluxQL, type Row, type QueryAuth } from './query-v1.js';
export { influxHistory, NO_HISTORY, type HistoryReader } from './history.js';
export { startManagedInfluxd, findOnPath, influxdConfig, influxdEnv, INFLUXD_ENV, INFLUXD_DATA_SETTINGS, type ManagedInfluxd, type ManagedInfluxdOptions } from './managed-influxd.js';

/** Which InfluxDB API to write to: 1.x (`/write`) or 2.x (`/api/v2/write`, also 3.x, Cloud, 1.8+). */
export type SinkConfig = ({ kind: 'v1' } & InfluxV1Options) | ({ kind: 'v2' } & InfluxV2Options);

export function createSink(config: SinkConfig): Sink {
  switch (config.kind) {
    case 'v1':
      return new InfluxV1Sink(config);
    case 'v2':
      return new InfluxV2Sink(config);
    default:
      throw new Error(`unknown sink kind ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
}
