import type { DecodeResult, TelemetryBatch } from '../contract/index.js';
import type { IngestSource, Logger, Metrics } from '../observability/index.js';
import { telemetryPoints } from './to-points.js';

/** What the pipeline needs from storage: resolve only once the points are durable. */
export interface DurableWriter {
  write(points: ReturnType<typeof telemetryPoints>): Promise<void>;
  /** True when storage and spool cannot keep up: sources must slow down. */
  readonly saturated: boolean;
}

/**
 * The runner between sources and sinks (DESIGN.md data flow). Sources hand it decoded batches;
 * it counts, enriches (later: registry, analytics) and hands points to storage, and its promise
 * resolves only when the batch is durable, which is when sources acknowledge (MQTT PUBACK,
 * HTTP 2xx). Sources never know about sinks.
 */
export class Pipeline {
  constructor(
    private readonly writer: DurableWriter,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Count what a decoder said about one message (accepted, rejected, unknown metrics). */
  account(source: IngestSource, result: DecodeResult): void {
    this.metrics.messagesReceived.inc({ source });
    if (result.batch === null) {
      for (const r of result.rejections) this.metrics.messagesRejected.inc({ source, reason: r.code });
      return;
    }
    for (const r of result.rejections) this.metrics.samplesRejected.inc({ source, reason: r.code });
    if (result.unknownMetrics.length > 0) this.metrics.unknownMetrics.inc({ source });
  }

  /** Sources that can refuse work (HTTP) check this first; MQTT slows down through its acks. */
  get saturated(): boolean {
    return this.writer.saturated;
  }

  throttled(): void {
    this.metrics.ingestThrottled.inc();
  }

  /** Store a validated batch; resolves when durable. */
  async ingest(source: IngestSource, batch: TelemetryBatch): Promise<void> {
    const n = batch.samples.length;
    if (n === 0) return;
    this.metrics.samplesReceived.inc({ source }, n);
    await this.writer.write(telemetryPoints(batch));
    this.metrics.samplesStored.inc({ source }, n);
    this.log.trace({ site: batch.site, line: batch.line, device: batch.device, samples: n }, 'batch stored');
  }
}
