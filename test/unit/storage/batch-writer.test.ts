import { describe, expect, it } from 'vitest';
import { BatchWriter, SinkError, type Point, type Sink } from '../../../src/storage/index.js';

/** An in-memory sink whose answers the test scripts (unit test only; real servers in integration). */
class FakeSink implements Sink {
  readonly name = 'fake';
  writes: string[] = [];
  failures: Error[] = [];
  delayMs = 0;
  active = 0;
  maxActive = 0;
  async connect() {}
  async ping() {}
  async close() {}
  async write(body: string) {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const failure = this.failures.shift();
      if (failure) throw failure;
      this.writes.push(body);
    } finally {
      this.active--;
    }
  }
  get lines() {
    return this.writes.flatMap((w) => w.split('\n'));
  }
}

const pt = (ts: number): Point => ({ measurement: 'm', tags: { d: 'x' }, fields: { v: ts }, ts });
const pts = (from: number, n: number) => Array.from({ length: n }, (_, i) => pt(from + i));

describe('BatchWriter', () => {
  it('flushes as soon as maxBatchLines are buffered', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { maxBatchLines: 3, flushIntervalMs: 60_000 });
    const done = w.write(pts(1, 3));
    await done;
    expect(sink.writes).toEqual(['m,d=x v=1 1\nm,d=x v=2 2\nm,d=x v=3 3']);
    await w.close();
  });

  it('flushes a partial batch after flushIntervalMs, not before', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 40 });
    const started = performance.now();
    const done = w.write(pts(1, 2));
    await new Promise((r) => setTimeout(r, 10));
    expect(sink.writes).toHaveLength(0);
    expect(w.pendingLines).toBe(2);
    await done;
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(sink.lines).toHaveLength(2);
    expect(w.pendingLines).toBe(0);
    await w.close();
  });

  it('keeps one write in flight and writes in acceptance order', async () => {
    const sink = new FakeSink();
    sink.delayMs = 5;
    const w = new BatchWriter(sink, { maxBatchLines: 10, flushIntervalMs: 1 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.write(pts(i * 7, 7))));
    expect(sink.maxActive).toBe(1);
    expect(sink.lines.map((l) => Number(l.split(' ')[2]))).toEqual(Array.from({ length: 350 }, (_, i) => i));
    expect(sink.writes.every((b) => b.split('\n').length <= 10)).toBe(true);
    await w.close();
  });

  it('retries transient failures until they succeed; the promise waits meanwhile', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('down', true), new SinkError('still down', true), new Error('socket hang up')];
    const retries: number[] = [];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 5, observer: { onRetry: (_e, attempt) => retries.push(attempt) } });
    await w.write(pts(1, 4));
    expect(retries).toEqual([1, 2, 3]);
    expect(sink.lines).toHaveLength(4);
    await w.close();
  });

  it('honours Retry-After', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('busy', true, 429, 120)];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 1 });
    const started = performance.now();
    await w.write(pts(1, 1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    await w.close();
  });

  it('a permanent failure rejects only the promises of that batch', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('bad request', false, 400)];
    const failures: number[] = [];
    const w = new BatchWriter(sink, { maxBatchLines: 2, flushIntervalMs: 1, observer: { onFailure: (_e, lines) => failures.push(lines) } });
    const first = w.write(pts(1, 2));
    const second = w.write(pts(3, 2));
    await expect(first).rejects.toThrow('bad request');
    await second;
    expect(sink.lines).toEqual(['m,d=x v=3 3', 'm,d=x v=4 4']);
    expect(failures).toEqual([2]);
    await w.close();
  });

  it('throws a bad point to its caller before anything is buffered', () => {
    const w = new BatchWriter(new FakeSink());
    expect(() => w.write([pt(1), { ...pt(2), fields: { v: NaN } }])).toThrow(/not finite/);
    expect(w.pendingLines).toBe(0);
  });

  it('close() flushes what is buffered, then refuses writes', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { flushIntervalMs: 60_000 });
    const pending = w.write(pts(1, 3));
    await w.close();
    await pending;
    expect(sink.lines).toHaveLength(3);
    await expect(w.write(pts(9, 1))).rejects.toThrow(/closed/);
  });

  it('reports saturation above maxPendingLines', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('down', true)];
    const w = new BatchWriter(sink, { maxPendingLines: 5, flushIntervalMs: 1, initialRetryDelayMs: 50 });
    const done = w.write(pts(1, 6));
    expect(w.saturated).toBe(true);
    await done;
    expect(w.saturated).toBe(false);
    await w.close();
  });
});

describe('BatchWriter with a spool', () => {
  const tmp = async () => (await import('node:fs/promises')).mkdtemp((await import('node:path')).join((await import('node:os')).tmpdir(), 'pp-bw-'));

  it('spools when the sink fails, acknowledges at once, then replays in order when it is back', async () => {
    const { Spool } = await import('../../../src/storage/index.js');
    const spool = await Spool.open({ dir: await tmp() });
    const sink = new FakeSink();
    sink.failures = Array.from({ length: 6 }, () => new SinkError('down', true));
    const spooled: number[] = [];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 10, spool, replayLinesPerSecond: 1e6, observer: { onSpooled: (n) => spooled.push(n) } });
    await w.write(pts(1, 3)); // resolves although the sink refuses: it is fsynced in the spool
    await w.write(pts(4, 3));
    expect(spooled.reduce((a, b) => a + b, 0)).toBe(6);
    expect(w.spooling).toBe(true);
    const deadline = Date.now() + 5000;
    while (spool.pending && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(sink.lines).toEqual(pts(1, 6).map((p) => `m,d=x v=${p.ts} ${p.ts}`));
    expect(spool.stats().bytes).toBe(0);
    await w.close();
    await spool.close();
  });

  it('spools a write that is slower than spoolAfterMs', async () => {
    const { Spool } = await import('../../../src/storage/index.js');
    const spool = await Spool.open({ dir: await tmp() });
    const sink = new FakeSink();
    sink.delayMs = 300;
    const w = new BatchWriter(sink, { flushIntervalMs: 1, spool, spoolAfterMs: 50 });
    const started = performance.now();
    await w.write(pts(1, 2));
    expect(performance.now() - started).toBeLessThan(250);
    expect(spool.stats().records + sink.writes.length).toBeGreaterThan(0);
    await w.close();
    await spool.close();
  });

  it('falls back to holding data in memory when the spool is full', async () => {
    const { Spool } = await import('../../../src/storage/index.js');
    const spool = await Spool.open({ dir: await tmp(), maxBytes: 1024 * 1024 });
    const sink = new FakeSink();
    sink.failures = Array.from({ length: 50 }, () => new SinkError('down', true));
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 20, maxRetryDelayMs: 30, spool, maxPendingLines: 2 });
    (spool as unknown as { maxBytes: number }).maxBytes = 10; // full
    let settled = false;
    const done = w.write(pts(1, 3)).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    expect(w.saturated).toBe(true);
    await done; // the sink recovered after 50 failures
    expect(sink.lines).toHaveLength(3);
    await w.close();
    await spool.close();
  });
});
