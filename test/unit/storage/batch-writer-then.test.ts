import { describe, expect, it } from 'vitest';
import { BatchWriter, SinkError, type Point, type Sink } from '../../../src/storage/index.js';
import type { WriteWaiter } from '../../../src/storage/write-waiter.js';

/** Holds each request until the test lets it through; refuses (400) any request holding a line with `bad`. */
class GateSink implements Sink {
  readonly name = 'gate';
  readonly requests: string[] = [];
  private readonly open: (() => void)[] = [];
  async connect() {}
  async ping() {}
  async close() {}
  async write(body: string) {
    this.requests.push(body);
    await new Promise<void>((r) => this.open.push(r));
    if (body.includes('bad')) throw new SinkError('write: HTTP 400 partial write', false, 400);
  }
  release(): void {
    for (const r of this.open.splice(0)) r();
  }
}

/** Records what it was told, and whether that came inside the call that was given it. */
class Recorder implements WriteWaiter {
  told: (Error | undefined)[] = [];
  inside = false;
  written(err?: Error): void {
    if (this.inside) throw new Error('told inside the call');
    this.told.push(err);
  }
}

const point = (ts: number, field = 'v'): Point => ({ measurement: 'm', tags: { d: 'x' }, fields: { [field]: ts }, ts });
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('BatchWriter.writeThen: the promise-free form of write', () => {
  it('tells each waiter once, after the sink holds its lines, never inside the call', async () => {
    const sink = new GateSink();
    const w = new BatchWriter(sink, { maxBatchLines: 2, flushIntervalMs: 1 });
    const a = new Recorder();
    const b = new Recorder();
    a.inside = b.inside = true;
    w.writeThen([point(1)], a);
    w.writeThen([point(2)], b);
    a.inside = b.inside = false;
    await settle();
    expect(sink.requests).toEqual(['m,d=x v=1 1\nm,d=x v=2 2']);
    expect(a.told).toEqual([]); // the sink has not answered yet
    sink.release();
    await settle();
    expect(a.told).toEqual([undefined]);
    expect(b.told).toEqual([undefined]);
    expect(w.pendingLines).toBe(0);
    await w.close();
  });

  it("hands storage's refusal to the refused call's waiter only; the others of the batch are stored", async () => {
    const sink = new GateSink();
    const w = new BatchWriter(sink, { maxBatchLines: 3, flushIntervalMs: 1 });
    const waiters = [new Recorder(), new Recorder(), new Recorder()];
    w.writeThen([point(1)], waiters[0]!);
    w.writeThen([point(2, 'bad')], waiters[1]!);
    w.writeThen([point(3)], waiters[2]!);
    for (let i = 0; i < 10 && waiters.some((r) => r.told.length === 0); i++) {
      await settle();
      sink.release();
    }
    expect(waiters[0]!.told).toEqual([undefined]);
    expect(waiters[1]!.told).toHaveLength(1);
    expect(waiters[1]!.told[0]).toBeInstanceOf(SinkError);
    expect(waiters[2]!.told).toEqual([undefined]);
    await w.close();
  });

  it('a waiter that throws does not leave the others of its batch unanswered', async () => {
    const sink = new GateSink();
    const w = new BatchWriter(sink, { maxBatchLines: 3, flushIntervalMs: 1 });
    const thrower: WriteWaiter = {
      written: () => {
        throw new Error('waiter broke');
      },
    };
    const after = new Recorder();
    w.writeThen([point(1)], thrower);
    w.writeThen([point(2)], after);
    await settle();
    sink.release();
    await settle();
    expect(after.told).toEqual([undefined]);
    await w.close();
  });

  it('throws at once, with nothing buffered, for a point it cannot write or a closed writer', async () => {
    const sink = new GateSink();
    const w = new BatchWriter(sink, { flushIntervalMs: 1 });
    const r = new Recorder();
    expect(() => w.writeThen([{ measurement: 'm', tags: {}, fields: {}, ts: 1 }], r)).toThrow();
    expect(w.pendingLines).toBe(0);
    await w.close();
    expect(() => w.writeThen([point(1)], r)).toThrow(/closed/);
    await settle();
    expect(r.told).toEqual([]);
  });
});
