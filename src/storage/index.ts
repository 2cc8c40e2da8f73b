import { InfluxV1Sink, type InfluxV1Options } from './influx-v1-sink.js';
import { InfluxV2Sink, type InfluxV2Options } from './influx-v2-sink.js';
import type { Sink } from './sink.js';

export type { Point } from './point.js';
export { SinkError, type Sink } from './sink.js';
export { toLineProtocol, pointsToLineProtocol } from './line-protocol.js';
export { InfluxV1Sink, type InfluxV1Options } from './influx-v1-sink.js';
export { InfluxV2Sink, type InfluxV2Options } from './influx-v2-sink.js';
export { DiscardSink } from './discard-sink.js';
export { BatchWriter, type BatchWriterOptions } from './batch-writer.js';
export { Spool, SpoolFullError, type SpoolOptions, type SpoolStats, type SpoolRecord } from './spool.js';
export { queryInfluxQL, type Row, type QueryAuth } from './query-v1.js';
export { startManagedInfluxd, findOnPath, type ManagedInfluxd, type ManagedInfluxdOptions } from './managed-influxd.js';

export type SinkConfig = ({ kind: 'v1' } & InfluxV1Options) | ({ kind: 'v2' } & InfluxV2Options);

export function createSink(config: SinkConfig): Sink {
  return config.kind === 'v1' ? new InfluxV1Sink(config) : new InfluxV2Sink(config);
}
