import type { Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchWriter, SinkError, type Point, type Sink, type Spool } from '../../../src/storage/index.js';

/** An in-memory sink whose answers the test scripts (unit test only; real servers in integration). */
class FakeSink implements Sink {
  readonly name = 'fake';
  writes: string[] = [];
  failures: Error[] = [];
  /** Lines this sink refuses, like InfluxDB 1.x's partial write: the others are stored, the request answers 400. */
  refuses: (line: string) => boolean = () => false;
  delayMs = 0;
  active = 0;
  maxActive = 0;
  /** performance.now() at the start and end of each write call. */
  starts: number[] = [];
  ends: number[] = [];
  /** Every request body that reached the sink, refused or not. */
  requests: string[] = [];
  async connect() {}
  async ping() {}
  async close() {}
  async write(body: string) {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.starts.push(performance.now());
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const failure = this.failures.shift();
      if (failure) throw failure;
      const refused = body.split('\n').filter((l) => this.refuses(l));
      const stored = body.split('\n').filter((l) => !this.refuses(l));
      if (stored.length > 0) this.writes.push(stored.join('\n'));
      this.requests.push(body);
      if (refused.length > 0) throw new SinkError(`write: HTTP 400 {"error":"partial write: field type conflict dropped=${refused.length}"}`, false, 400);
    } finally {
      this.active--;
      this.ends.push(performance.now());
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

  it('while a write is in flight, a partial batch waits flushIntervalMs for more lines, not less', async () => {
    const sink = new FakeSink();
    sink.delayMs = 200;
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 40 });
    const busy = w.write(pts(1, 1)); // idle writer: goes at once and keeps a slot busy for 200 ms
    await sleep(5);
    const started = performance.now();
    const done = w.write(pts(10, 2));
    await sleep(10);
    expect(sink.starts).toHaveLength(1);
    expect(w.pendingLines).toBe(3);
    await done;
    expect(sink.starts[1]! - started).toBeGreaterThanOrEqual(35); // the free slot took it after the interval...
    expect(sink.starts[1]! - started).toBeLessThan(150); // ...not after the write in flight
    await busy;
    expect(sink.lines).toHaveLength(3);
    expect(w.pendingLines).toBe(0);
    await w.close();
  });

  it('an idle writer writes at the end of the turn: the calls of one turn go in one request, without waiting for flushIntervalMs', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 60_000 });
    const started = performance.now();
    const calls = [w.write(pts(1, 2)), w.write(pts(3, 2)), w.write(pts(5, 2))];
    expect(sink.starts).toHaveLength(0); // not inside write(): the rest of the turn joins the batch
    await Promise.all(calls);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sink.requests).toEqual([pts(1, 6).map((p) => `m,d=x v=${p.ts} ${p.ts}`).join('\n')]);
    await w.close();
  });

  it('group commit: lines that arrive during a write go together as the next batch as soon as it ends', async () => {
    const sink = new FakeSink();
    sink.delayMs = 50;
    const w = new BatchWriter(sink, { maxBatchLines: 1000, flushIntervalMs: 60_000, maxConcurrentWrites: 1 });
    const first = w.write(pts(0, 1));
    await sleep(5); // the first write is in flight
    const during = Array.from({ length: 20 }, (_, i) => w.write(pts(1 + i, 1)));
    await Promise.all([first, ...during]);
    expect(sink.writes.map((b) => b.split('\n').length)).toEqual([1, 20]);
    expect(sink.starts[1]! - sink.ends[0]!).toBeLessThan(30); // not the 60 s interval
    await w.close();
  });

  it('with lingerMs, an idle writer waits that long for more lines before a partial batch', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 60_000, lingerMs: 40 });
    const started = performance.now();
    const first = w.write(pts(1, 1));
    await sleep(10);
    const second = w.write(pts(2, 1));
    expect(sink.starts).toHaveLength(0);
    await Promise.all([first, second]);
    expect(sink.starts[0]! - started).toBeGreaterThanOrEqual(35);
    expect(sink.writes).toEqual(['m,d=x v=1 1\nm,d=x v=2 2']);
    await w.close();
  });

  it('under load, with both slots busy, batches still fill to maxBatchLines (a free slot does not take a partial batch)', async () => {
    const sink = new FakeSink();
    sink.delayMs = 20;
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 60_000 });
    // 8 one-line calls per millisecond, paced by the clock: 160 arrive during one write, more
    // than a batch. A slot frees every ~10 ms with ~80 waiting: taking them would halve batches.
    const calls: Promise<void>[] = [];
    const started = performance.now();
    for (let n = 0; n < 3200; await sleep(1)) {
      const due = Math.min(3200, Math.floor((performance.now() - started) * 8));
      for (; n < due; n++) calls.push(w.write([pt(n)]));
    }
    await w.flush();
    await Promise.all(calls);
    const sizes = sink.writes.map((b) => b.split('\n').length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(3200);
    // The first write goes partial (the writer was idle), and the last (flush); a pause of the
    // test's own thread may empty both slots once or twice: the rest are full.
    expect(sizes.filter((n) => n === 100).length).toBeGreaterThanOrEqual(0.8 * sizes.length);
    await w.close();
  });

  it('tells the observer how long the oldest line of each batch waited for its write to start', async () => {
    const sink = new FakeSink();
    const flushes: { lines: number; waitedMs: number }[] = [];
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 60_000, lingerMs: 40, observer: { onFlush: (lines, _ms, waitedMs) => flushes.push({ lines, waitedMs }) } });
    const first = w.write(pts(1, 2));
    await sleep(20);
    await Promise.all([first, w.write(pts(3, 1))]);
    expect(flushes).toHaveLength(1);
    expect(flushes[0]!.lines).toBe(3);
    expect(flushes[0]!.waitedMs).toBeGreaterThanOrEqual(35); // the first line's wait, not the last's
    expect(flushes[0]!.waitedMs).toBeLessThan(1000);
    await w.close();
  });

  it('flush() and close() send a lingering batch at once', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 60_000, lingerMs: 60_000 });
    const done = w.write(pts(1, 2));
    const started = performance.now();
    await w.flush();
    await done;
    expect(performance.now() - started).toBeLessThan(1000);
    const more = w.write(pts(3, 1));
    await w.close();
    await more;
    expect(sink.lines).toHaveLength(3);
  });

  it('refuses a negative lingerMs', () => {
    expect(() => new BatchWriter(new FakeSink(), { lingerMs: -1 })).toThrow(/lingerMs/);
  });

  it('with maxConcurrentWrites 1, keeps one write in flight and writes in acceptance order', async () => {
    const sink = new FakeSink();
    sink.delayMs = 5;
    const w = new BatchWriter(sink, { maxBatchLines: 10, flushIntervalMs: 1, maxConcurrentWrites: 1 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.write(pts(i * 7, 7))));
    expect(sink.maxActive).toBe(1);
    expect(sink.lines.map((l) => Number(l.split(' ')[2]))).toEqual(Array.from({ length: 350 }, (_, i) => i));
    expect(sink.writes.every((b) => b.split('\n').length <= 10)).toBe(true);
    await w.close();
  });

  it('writes two batches at once by default, never more, starting them in acceptance order; every line stored once', async () => {
    const sink = new FakeSink();
    sink.delayMs = 5;
    const w = new BatchWriter(sink, { maxBatchLines: 10, flushIntervalMs: 1 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.write(pts(i * 7, 7))));
    expect(sink.maxActive).toBe(2);
    // Each request's first timestamp is above the previous request's: batches left in order.
    const firsts = sink.requests.map((r) => Number(r.split('\n')[0]!.split(' ')[2]));
    expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
    expect(sink.lines.map((l) => Number(l.split(' ')[2])).sort((x, y) => x - y)).toEqual(Array.from({ length: 350 }, (_, i) => i));
    expect(w.pendingLines).toBe(0);
    await w.close();
  });

  it('a slow write does not hold back the next batch, nor its callers', async () => {
    // The sink answers the first request after 300 ms, the others at once.
    const sink = new FakeSink();
    let calls = 0;
    const write = sink.write.bind(sink);
    sink.write = async (body: string) => {
      if (calls++ === 0) await new Promise((r) => setTimeout(r, 300));
      return write(body);
    };
    const w = new BatchWriter(sink, { maxBatchLines: 5, flushIntervalMs: 60_000 });
    const first = w.write(pts(1, 5));
    const second = w.write(pts(10, 5));
    const started = performance.now();
    await second;
    expect(performance.now() - started).toBeLessThan(250);
    expect(w.pendingLines).toBe(5); // the first batch, still in flight
    await first;
    expect(w.pendingLines).toBe(0);
    expect(sink.lines).toHaveLength(10);
    await w.close();
  });

  it('with 40,000 one-line calls pending, writes every line once, in acceptance order, in full batches, and resolves every call', async () => {
    const sink = new FakeSink();
    sink.delayMs = 1; // the queue fills while the first batches are written
    const w = new BatchWriter(sink, { maxBatchLines: 5000, flushIntervalMs: 60_000 });
    const calls = Array.from({ length: 40_000 }, (_, i) => w.write([pt(i)]));
    expect(w.pendingLines).toBe(40_000);
    await Promise.all(calls);
    expect(sink.writes.map((b) => b.split('\n').length)).toEqual(Array(8).fill(5000));
    expect(sink.lines).toEqual(Array.from({ length: 40_000 }, (_, i) => `m,d=x v=${i} ${i}`));
    expect(w.pendingLines).toBe(0);
    // Taken in between, the queue starts again from what is left: later calls still go out in order.
    const more = Array.from({ length: 7000 }, (_, i) => w.write([pt(40_000 + i)]));
    await w.flush();
    await Promise.all(more);
    expect(sink.lines.slice(40_000)).toEqual(Array.from({ length: 7000 }, (_, i) => `m,d=x v=${40_000 + i} ${40_000 + i}`));
    await w.close();
  });

  it('rejects a concurrency that is not a positive integer', () => {
    expect(() => new BatchWriter(new FakeSink(), { maxConcurrentWrites: 0 })).toThrow(/maxConcurrentWrites/);
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

  it('flushNow writes a partial batch at once, or right after the write in flight', async () => {
    const sink = new FakeSink();
    sink.delayMs = 30;
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 60_000 });
    const first = w.write(pts(1, 2));
    w.flushNow();
    const second = w.write(pts(10, 3)); // arrives while the first write is in flight
    w.flushNow();
    const started = performance.now();
    await Promise.all([first, second]);
    expect(performance.now() - started).toBeLessThan(1000); // not the 60 s interval
    expect(sink.writes).toHaveLength(2);
    await w.close();
  });

  it('is full from four batches pending on (default), long before saturation, and not once they are written', async () => {
    const sink = new FakeSink();
    sink.delayMs = 30;
    const w = new BatchWriter(sink, { maxBatchLines: 10, flushIntervalMs: 1 });
    const first = w.write(pts(1, 39));
    expect(w.full).toBe(false);
    const second = w.write(pts(100, 1));
    expect(w.full).toBe(true);
    expect(w.saturated).toBe(false);
    await Promise.all([first, second]);
    expect(w.full).toBe(false);
    await w.close();
  });

  it('is full from fullBytes of line protocol pending on, whatever the line count, and counts them down as storage acknowledges', async () => {
    const sink = new FakeSink();
    sink.delayMs = 30;
    const w = new BatchWriter(sink, { maxBatchLines: 1000, flushIntervalMs: 1, fullBytes: 1000 });
    // Wide samples: 10 lines of about 200 bytes each, far below 4 batches of lines.
    const wide = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ measurement: 'm', tags: { d: 'x' }, fields: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`metric_${k}`, k])), ts: from + i }));
    const first = w.write(wide(1, 4));
    expect(w.pendingBytes).toBeGreaterThan(600);
    expect(w.pendingBytes).toBeLessThan(1000);
    expect(w.full).toBe(false);
    const second = w.write(wide(100, 1));
    expect(w.pendingBytes).toBeGreaterThanOrEqual(1000);
    expect(w.pendingLines).toBe(5);
    expect(w.full).toBe(true);
    await Promise.all([first, second]);
    expect(w.pendingBytes).toBe(0);
    expect(w.full).toBe(false);
    expect(sink.writes.join('\n').split('\n')).toHaveLength(5);
    await w.close();
  });

  it('counts refused lines out of the pending bytes too', async () => {
    const sink = new FakeSink();
    sink.refuses = (line) => line.includes('v=2 ');
    const w = new BatchWriter(sink, { maxBatchLines: 10, flushIntervalMs: 1 });
    const good = w.write(pts(1, 1));
    const bad = w.write(pts(2, 1));
    expect(w.pendingBytes).toBe('m,d=x v=1 1'.length + 'm,d=x v=2 2'.length);
    await good;
    await expect(bad).rejects.toThrow(/400/);
    expect(w.pendingBytes).toBe(0);
    await w.close();
  });

  it('refuses a fullBytes that is not a positive number', () => {
    expect(() => new BatchWriter(new FakeSink(), { fullBytes: 0 })).toThrow(/fullBytes must be positive/);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settles-or-not probe for a promise. */
function track(promise: Promise<void>) {
  const state = { settled: false, error: null as Error | null };
  promise.then(
    () => (state.settled = true),
    (e: Error) => {
      state.settled = true;
      state.error = e;
    },
  );
  return state;
}

/** A logger that records what it was asked to log (only the methods the writer uses). */
function recordingLogger() {
  const entries: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: unknown, msg?: string) => entries.push({ level, msg: msg ?? '' });
  const logger = { warn: at('warn'), info: at('info'), error: at('error'), debug: at('debug') } as unknown as Logger;
  return { logger, entries };
}

describe('BatchWriter: timing, backoff and failure handling', () => {
  afterEach(() => vi.restoreAllMocks());

  it('times the next flush from the oldest waiting chunk, not from the end of a long write', async () => {
    const sink = new FakeSink();
    sink.delayMs = 300;
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 300 });
    const first = w.write(pts(1, 1)); // flushed at ~300 ms, acknowledged at ~600 ms
    await sleep(320);
    // Buffered during the first write, it has waited its interval by the time that one ends:
    // it goes out at once, not flushIntervalMs later.
    await w.write(pts(2, 1));
    await first;
    expect(sink.writes).toEqual(['m,d=x v=1 1', 'm,d=x v=2 2']);
    expect(sink.starts[1]! - sink.ends[0]!).toBeLessThan(150);
    await w.close();
  });

  it('sends one write() larger than maxBatchLines as one request, whole', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { maxBatchLines: 3, flushIntervalMs: 60_000 });
    await w.write(pts(1, 7));
    expect(sink.writes).toHaveLength(1);
    expect(sink.lines).toHaveLength(7);
    await w.close();
  });

  it('backs off exponentially up to maxRetryDelayMs (upper bound of the full jitter)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    const sink = new FakeSink();
    sink.failures = Array.from({ length: 6 }, () => new SinkError('down', true, 503));
    const delays: number[] = [];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 5, maxRetryDelayMs: 40, observer: { onRetry: (_e, _a, d) => delays.push(d) } });
    await w.write(pts(1, 1));
    expect(delays.map(Math.round)).toEqual([5, 10, 20, 40, 40, 40]);
    expect(sink.lines).toEqual(['m,d=x v=1 1']);
    await w.close();
  });

  it('uses full jitter: a delay anywhere from 0 to the ceiling', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const sink = new FakeSink();
    sink.failures = Array.from({ length: 4 }, () => new SinkError('down', true, 503));
    const delays: number[] = [];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 1000, observer: { onRetry: (_e, _a, d) => delays.push(d) } });
    const started = performance.now();
    await w.write(pts(1, 1));
    expect(delays).toEqual([0, 0, 0, 0]);
    expect(performance.now() - started).toBeLessThan(500);
    await w.close();
  });

  it('caps a long Retry-After at maxRetryDelayMs', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('busy', true, 429, 60_000)];
    const delays: number[] = [];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, maxRetryDelayMs: 50, observer: { onRetry: (_e, _a, d) => delays.push(d) } });
    await w.write(pts(1, 1));
    expect(delays).toEqual([50]);
    await w.close();
  });

  it('keeps the caller waiting while storage fails (backpressure), then resolves', async () => {
    const sink = new FakeSink();
    sink.failures = Array.from({ length: 8 }, () => new SinkError('down', true, 503));
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 10, maxRetryDelayMs: 20 });
    const state = track(w.write(pts(1, 2)));
    await sleep(40);
    expect(state.settled).toBe(false);
    expect(w.pendingLines).toBe(2);
    await w.flush();
    expect(state).toEqual({ settled: true, error: null });
    expect(sink.lines).toHaveLength(2);
    await w.close();
  });

  it('rejects exactly the callers of a refused batch; batches before and after are written', async () => {
    const sink = new FakeSink();
    sink.delayMs = 5;
    const w = new BatchWriter(sink, { maxBatchLines: 2, flushIntervalMs: 1 });
    const a = w.write(pts(1, 2));
    await a;
    sink.refuses = (l) => l.endsWith(' 3') || l.endsWith(' 4');
    const b1 = track(w.write(pts(3, 1)));
    const b2 = track(w.write(pts(4, 1))); // same batch as b1 (2 lines)
    const c = w.write(pts(5, 2));
    await c;
    await w.flush(); // c may be written before b is refused: two batches are written at once
    expect(b1.error).toBeInstanceOf(SinkError);
    expect(b1.error?.message).toContain('field type conflict');
    expect(b2.error?.message).toContain('field type conflict');
    expect(sink.lines.map((l) => l.split(' ')[2])).toEqual(['1', '2', '5', '6']);
    await w.close();
  });

  it('a batch refused for some of its lines is split in halves: only the calls holding them are rejected, the rest is stored', async () => {
    const sink = new FakeSink();
    const failures: number[] = [];
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 5, observer: { onFailure: (_e, lines) => failures.push(lines) } });
    sink.refuses = (l) => l.includes('v=13 ') || l.includes('v=31 ');
    // 16 calls of 2 lines in one batch (one MQTT message each); calls 6 (lines 13, 14) and 15 (31, 32) hold a refused line.
    const calls = Array.from({ length: 16 }, (_, i) => track(w.write(pts(1 + 2 * i, 2))));
    await w.flush();
    const rejected = calls.flatMap((c, i) => (c.error ? [i] : []));
    expect(rejected).toEqual([6, 15]);
    expect(calls.every((c) => c.settled)).toBe(true);
    expect(failures).toEqual([2, 2]);
    // Every line of the accepted calls is stored; of the refused calls only their good lines
    // (InfluxDB's partial write stores them; they are written again harmlessly, idempotent).
    const stored = new Set(sink.lines.map((l) => Number(l.split(' ')[2])));
    for (let v = 1; v <= 32; v++) if (v !== 13 && v !== 31) expect(stored.has(v), `line ${v}`).toBe(true);
    expect(stored.has(13) || stored.has(31)).toBe(false);
    // The bisection costs a few requests per refused call, not one per call: 1 + 2·(4 levels) per bad half at most.
    expect(sink.requests.length).toBeLessThanOrEqual(1 + 2 * 2 * 4);
    expect(w.pendingLines).toBe(0);
    await w.close();
  });

  it('a refusal of the whole request (404: no such database) is not split: every caller of the batch is rejected at once', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('write: HTTP 404 {"error":"database not found"}', false, 404)];
    const w = new BatchWriter(sink, { maxBatchLines: 100, flushIntervalMs: 5 });
    const calls = Array.from({ length: 8 }, (_, i) => track(w.write(pts(1 + i, 1))));
    await w.flush();
    expect(calls.every((c) => c.error?.message.includes('database not found'))).toBe(true);
    expect(sink.requests).toHaveLength(0); // the one request failed before it was recorded
    expect(sink.starts).toHaveLength(1);
    await w.close();
  });

  it('an observer that throws does not turn a delivered batch into a retry (a duplicate)', async () => {
    const sink = new FakeSink();
    const { logger, entries } = recordingLogger();
    const w = new BatchWriter(sink, {
      flushIntervalMs: 1,
      logger,
      observer: {
        onFlush: () => {
          throw new Error('metrics broke');
        },
      },
    });
    await w.write(pts(1, 2));
    expect(sink.writes).toHaveLength(1);
    expect(entries.some((e) => e.level === 'error' && e.msg.includes('observer'))).toBe(true);
    await w.close();
  });

  it('flush() sends what is buffered at once and waits for it', async () => {
    const sink = new FakeSink();
    const w = new BatchWriter(sink, { flushIntervalMs: 60_000 });
    const state = track(w.write(pts(1, 3)));
    const started = performance.now();
    await w.flush();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sink.lines).toHaveLength(3);
    expect(w.pendingLines).toBe(0);
    await sleep(0);
    expect(state.settled).toBe(true);
    await w.close();
  });

  it('close() waits for a batch that is being retried', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('down', true, 503), new SinkError('down', true, 503)];
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 20 });
    const pending = w.write(pts(1, 2));
    await sleep(5);
    await w.close();
    await pending;
    expect(sink.lines).toHaveLength(2);
  });

  it('warns once when the queue goes above maxPendingLines, and says when it is back below', async () => {
    const sink = new FakeSink();
    sink.failures = [new SinkError('down', true, 503)];
    const { logger, entries } = recordingLogger();
    const w = new BatchWriter(sink, { maxPendingLines: 3, flushIntervalMs: 1, initialRetryDelayMs: 30, logger });
    const writes = [w.write(pts(1, 2)), w.write(pts(3, 2)), w.write(pts(5, 2))];
    expect(w.saturated).toBe(true);
    await Promise.all(writes);
    expect(w.saturated).toBe(false);
    expect(entries.filter((e) => e.level === 'warn' && e.msg.includes('maxPendingLines'))).toHaveLength(1);
    expect(entries.filter((e) => e.level === 'info' && e.msg.includes('back below'))).toHaveLength(1);
    await w.close();
  });
});

describe('BatchWriter with a failing spool', () => {
  it('a spool error other than "full" does not strand the batch: it waits for the sink instead', async () => {
    const errors: Error[] = [];
    const spool = {
      pending: false,
      append: async () => {
        throw new Error('EACCES: permission denied, open spool/000000000001.seg');
      },
      peek: async () => null,
      commit: async () => {},
    } as unknown as Spool;
    const sink = new FakeSink();
    sink.failures = Array.from({ length: 3 }, () => new SinkError('down', true, 503));
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 5, spool, observer: { onSpoolError: (e) => errors.push(e) } });
    await w.write(pts(1, 2));
    expect(sink.lines).toHaveLength(2);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.message).toContain('EACCES');
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

  it('replaying a spooled batch that storage partly refuses: only the refused lines go to the rejected file, the rest is stored', async () => {
    const { Spool } = await import('../../../src/storage/index.js');
    const { readFile } = await import('node:fs/promises');
    const dir = await tmp();
    const spool = await Spool.open({ dir });
    const sink = new FakeSink();
    sink.failures = [new SinkError('down', true)];
    const failures: number[] = [];
    const replayed: number[] = [];
    const rejectedFile = (await import('node:path')).join(dir, 'rejected.lp');
    const w = new BatchWriter(sink, { flushIntervalMs: 1, initialRetryDelayMs: 10, spool, replayLinesPerSecond: 1e6, rejectedFile, observer: { onFailure: (_e, n) => failures.push(n), onReplayed: (n) => replayed.push(n) } });
    sink.refuses = (l) => l.includes('v=7 ');
    await w.write(pts(1, 10)); // the sink is down: spooled as one record of 10 lines
    const deadline = Date.now() + 5000;
    // The replayer commits the record, then reports it: wait for both.
    while ((spool.pending || replayed.length === 0) && Date.now() < deadline) await sleep(10);
    expect(spool.pending).toBe(false);
    expect(new Set(sink.lines)).toEqual(new Set(pts(1, 10).filter((p) => p.ts !== 7).map((p) => `m,d=x v=${p.ts} ${p.ts}`)));
    const rejected = await readFile(rejectedFile, 'utf8');
    expect(rejected.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['m,d=x v=7 7']);
    expect(rejected).toMatch(/^# \S+ write: HTTP 400 .*field type conflict/);
    expect(failures).toEqual([1]);
    expect(replayed).toEqual([9]);
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
