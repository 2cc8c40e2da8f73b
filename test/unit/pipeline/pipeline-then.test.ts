import { describe, expect, it } from 'vitest';
import type { TelemetryBatch } from '../../../src/contract/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { Pipeline, type DurableWriter } from '../../../src/pipeline/index.js';
import { HeldWriter } from '../../support/held-writer.js';

const batch = (device: string): TelemetryBatch => ({ site: 's1', line: 'l1', device, seq: 1, samples: [{ ts: 1_700_000_000_000, m: { power_kw: 1 } }] });
const tick = () => new Promise((r) => setTimeout(r, 1));

describe('Pipeline.ingestThen: ingest without promises', () => {
  it('writes through the writer\'s callback form; the listeners hear the batch before its waiter, and only once it is durable', async () => {
    const writer = new HeldWriter();
    const p = new Pipeline(writer, createMetrics(), createLogger('silent'));
    const events: string[] = [];
    p.onStored((b) => events.push(`stored ${b.device}`));
    p.ingestThen('mqtt', batch('m1'), { written: (err) => events.push(`waiter m1 ${err?.message ?? 'ok'}`) });
    p.ingestThen('mqtt', batch('m2'), { written: (err) => events.push(`waiter m2 ${err?.message ?? 'ok'}`) });
    await tick();
    expect(events).toEqual([]);
    expect(writer.held.map((h) => h.points[0]!.tags.device)).toEqual(['m1', 'm2']);
    expect(writer.promiseWrites).toBe(0);
    writer.held[1]!.waiter.written();
    writer.held[0]!.waiter.written(new Error('refused'));
    expect(events).toEqual(['stored m2', 'waiter m2 ok', 'waiter m1 refused']);
  });

  it('waits on write\'s promise for a writer without the callback form, and hands its rejection to the waiter', async () => {
    let fail = false;
    const writer: DurableWriter = { saturated: false, write: async () => void (fail ? await Promise.reject(new Error('no')) : undefined) };
    const p = new Pipeline(writer, createMetrics(), createLogger('silent'));
    const told: string[] = [];
    p.ingestThen('http', batch('m1'), { written: (err) => told.push(err?.message ?? 'ok') });
    fail = true;
    p.ingestThen('http', batch('m2'), { written: (err) => told.push(err?.message ?? 'ok') });
    await tick();
    expect(told).toEqual(['ok', 'no']);
  });

  it('a writer that throws refuses the batch in a later microtask, not inside the call', async () => {
    const writer: DurableWriter = {
      saturated: false,
      write: () => Promise.resolve(),
      writeThen: () => {
        throw new Error('writer broke');
      },
    };
    const p = new Pipeline(writer, createMetrics(), createLogger('silent'));
    const told: string[] = [];
    p.ingestThen('mqtt', batch('m1'), { written: (err) => told.push(err?.message ?? 'ok') });
    expect(told).toEqual([]);
    await tick();
    expect(told).toEqual(['writer broke']);
  });
});
