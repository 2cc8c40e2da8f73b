import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { Pipeline, type DurableWriter } from '../../../src/pipeline/index.js';
import type { Point } from '../../../src/storage/index.js';
import type { TelemetryBatch } from '../../../src/contract/index.js';

/** Storage that holds every write until the test resolves it. */
class PendingWriter implements DurableWriter {
  readonly saturated = false;
  readonly resolves: (() => void)[] = [];
  write(_points: Point[]): Promise<void> {
    return new Promise((resolve) => this.resolves.push(resolve));
  }
}

const value = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? NaN);
const batch = (samples: number): TelemetryBatch => ({ site: 's1', line: 'l1', device: 'm1', seq: 1, samples: Array.from({ length: samples }, (_, i) => ({ ts: 1_700_000_000_000 + i, m: { power_kw: i } })) });

describe('Pipeline counts: per source, as plain numbers handed to Prometheus when read', () => {
  it('received when decoded, stored only once durable, each counted once across scrapes', async () => {
    const writer = new PendingWriter();
    const metrics = createMetrics();
    const p = new Pipeline(writer, metrics, createLogger('silent'));
    p.account('mqtt', { batch: batch(1), rejections: [], unknownMetrics: [] });
    p.account('mqtt', { batch: batch(3), rejections: [], unknownMetrics: ['mystery'] });
    p.account('http', { batch: batch(2), rejections: [], unknownMetrics: [] });
    const stored = [p.ingest('mqtt', batch(1)), p.ingest('mqtt', batch(3)), p.ingest('http', batch(2))];
    let text = await metrics.registry.metrics();
    expect(value(text, 'pp_messages_received_total{source="mqtt"}')).toBe(2);
    expect(value(text, 'pp_messages_received_total{source="http"}')).toBe(1);
    expect(value(text, 'pp_unknown_metric_messages_total{source="mqtt"}')).toBe(1);
    expect(value(text, 'pp_samples_received_total{source="mqtt"}')).toBe(4);
    expect(value(text, 'pp_samples_received_total{source="http"}')).toBe(2);
    expect(text).not.toContain('pp_samples_stored_total{');

    writer.resolves[0]!();
    writer.resolves[1]!();
    await Promise.all(stored.slice(0, 2));
    text = await metrics.registry.metrics();
    expect(value(text, 'pp_samples_stored_total{source="mqtt"}')).toBe(4);
    expect(text).not.toContain('pp_samples_stored_total{source="http"}');
    // A second scrape adds nothing that was already handed over.
    expect(value(text, 'pp_messages_received_total{source="mqtt"}')).toBe(2);
    expect(value(text, 'pp_samples_received_total{source="mqtt"}')).toBe(4);

    writer.resolves[2]!();
    await stored[2];
    p.account('mqtt', { batch: batch(5), rejections: [], unknownMetrics: [] });
    text = await metrics.registry.metrics();
    expect(value(text, 'pp_samples_stored_total{source="http"}')).toBe(2);
    expect(value(text, 'pp_samples_stored_total{source="mqtt"}')).toBe(4);
    expect(value(text, 'pp_messages_received_total{source="mqtt"}')).toBe(3);
  });

  it('a writer that throws rejects the batch\'s promise (the source keeps the message unacknowledged), it does not throw at the source', async () => {
    const writer: DurableWriter = {
      saturated: false,
      write: () => {
        throw new Error('writer broke');
      },
    };
    const p = new Pipeline(writer, createMetrics(), createLogger('silent'));
    let result: Promise<void> | undefined;
    expect(() => (result = p.ingest('mqtt', batch(1)))).not.toThrow();
    await expect(result).rejects.toThrow('writer broke');
  });

  it('a stored-batch listener that throws does not fail the batch; the others still hear it', async () => {
    const writer = new PendingWriter();
    const p = new Pipeline(writer, createMetrics(), createLogger('silent'));
    const heard: number[] = [];
    p.onStored(() => {
      throw new Error('listener broke');
    });
    p.onStored((b) => heard.push(b.samples.length));
    const stored = p.ingest('mqtt', batch(2));
    writer.resolves[0]!();
    await expect(stored).resolves.toBeUndefined();
    expect(heard).toEqual([2]);
  });
});
