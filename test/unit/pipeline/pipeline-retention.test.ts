import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { Pipeline, type DurableWriter } from '../../../src/pipeline/index.js';
import type { Point } from '../../../src/storage/index.js';

// A full collection on demand: --expose-gc for a fresh context only (the test process's own
// flags are left alone; the flag must be on when the context is made).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

/** Storage that is slow: a write stays pending until the test resolves it, like a held message's. */
class PendingWriter implements DurableWriter {
  readonly saturated = false;
  readonly given: WeakRef<Point[]>[] = [];
  readonly resolves: (() => void)[] = [];
  write(points: Point[]): Promise<void> {
    // Only a weak reference: what a real writer keeps is its line protocol, not the points.
    this.given.push(new WeakRef(points));
    return new Promise((resolve) => this.resolves.push(resolve));
  }
}

describe('Pipeline.ingest: what a batch waiting for storage keeps alive', () => {
  it('not its points: once handed to storage they are garbage, while the batch waits to be durable', async () => {
    const writer = new PendingWriter();
    const p = new Pipeline(writer, createMetrics(), createLogger('silent'), { process: () => [] });
    const batch = { site: 's1', line: 'l1', device: 'm1', seq: 1, samples: Array.from({ length: 10 }, (_, i) => ({ ts: 1_700_000_000_000 + i, m: { power_kw: i } })) };
    const stored = p.ingest('mqtt', batch);
    await new Promise((r) => setImmediate(r));
    expect(writer.given).toHaveLength(1);
    gc();
    expect(writer.given[0]!.deref()).toBeUndefined();
    // Still waiting for storage, and done once storage says so.
    let done = false;
    void stored.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    writer.resolves[0]!();
    await stored;
    expect(done).toBe(true);
  });
});
