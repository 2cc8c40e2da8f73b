import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, SpoolFullError } from '../../../src/storage/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-spool-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function drain(spool: Spool): Promise<string[]> {
  const out: string[] = [];
  for (let rec = await spool.peek(); rec; rec = await spool.peek()) {
    out.push(rec.body);
    await spool.commit();
  }
  return out;
}

describe('Spool', () => {
  it('gives records back in append order, once each', async () => {
    const spool = await Spool.open({ dir });
    for (let i = 0; i < 100; i++) await spool.append(`m v=${i} ${i}`, 1);
    expect(spool.stats()).toMatchObject({ records: 100, lines: 100 });
    expect(await drain(spool)).toEqual(Array.from({ length: 100 }, (_, i) => `m v=${i} ${i}`));
    expect(spool.pending).toBe(false);
    expect(spool.stats().bytes).toBe(0);
    await spool.close();
  });

  it('survives a restart: what was not committed is there after reopening', async () => {
    const a = await Spool.open({ dir, segmentBytes: 200 });
    for (let i = 0; i < 30; i++) await a.append(`m v=${i} ${i}`, 1);
    expect((await readdir(dir)).filter((n) => n.endsWith('.seg')).length).toBeGreaterThan(3);
    for (let i = 0; i < 5; i++) {
      await a.peek();
      await a.commit();
    }
    await a.close(); // or a crash: every append was fsynced
    const b = await Spool.open({ dir, segmentBytes: 200 });
    // The age of the oldest waiting record is known at once, from its header.
    expect(b.stats().oldestAt).toBeGreaterThan(Date.now() - 60_000);
    const got = await drain(b);
    // Commits are not persisted: a reopened spool replays its first segment again (writes are idempotent).
    expect(got.slice(-25)).toEqual(Array.from({ length: 25 }, (_, i) => `m v=${i + 5} ${i + 5}`));
    expect(new Set(got).size).toBe(got.length);
    await b.close();
  });

  it('refuses appends beyond maxBytes with SpoolFullError, and accepts again once drained', async () => {
    const spool = await Spool.open({ dir, maxBytes: 300 });
    await spool.append('x'.repeat(200), 1);
    await expect(spool.append('y'.repeat(200), 1)).rejects.toBeInstanceOf(SpoolFullError);
    await drain(spool);
    await spool.append('z'.repeat(200), 1);
    expect(await drain(spool)).toEqual(['z'.repeat(200)]);
    await spool.close();
  });

  it('skips a corrupt segment, reports it, keeps it as .corrupt and replays the rest', async () => {
    const a = await Spool.open({ dir, segmentBytes: 150 });
    for (let i = 0; i < 12; i++) await a.append(`measurement value=${i} ${i}`, 1);
    await a.close();
    const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
    expect(segs.length).toBeGreaterThanOrEqual(3);
    // Flip a byte inside the body of the second segment's first record.
    const victim = join(dir, segs[1]!);
    const bytes = await readFile(victim);
    bytes[25] = bytes[25]! ^ 0xff;
    await writeFile(victim, bytes);
    const b = await Spool.open({ dir, segmentBytes: 150 });
    const got = await drain(b);
    expect(b.stats().corruptSegments).toBe(1);
    // 44-byte records, segments rotate past 150 bytes: 4 records a segment, the 4 of segment 2 are lost.
    expect(got).toHaveLength(8);
    expect(got).not.toContain('measurement value=4 4');
    expect(got[0]).toBe('measurement value=0 0');
    expect(got.at(-1)).toBe('measurement value=11 11');
    expect(await readdir(dir)).toContain(`${segs[1]}.corrupt`);
    await b.close();
  });

  it('treats a record cut short by a crash as the end of its segment', async () => {
    const a = await Spool.open({ dir });
    await a.append('m v=1 1', 1);
    await a.append('m v=2 2', 1);
    await a.close();
    const seg = join(dir, (await readdir(dir)).find((n) => n.endsWith('.seg'))!);
    const bytes = await readFile(seg);
    await writeFile(seg, bytes.subarray(0, bytes.length - 3));
    const b = await Spool.open({ dir });
    expect(await drain(b)).toEqual(['m v=1 1']);
    expect(b.stats().corruptSegments).toBe(1);
    await b.close();
  });
});

describe('Spool under concurrent append and replay', () => {
  it('never loses a record appended while the reader empties the spool (the truncate race)', async () => {
    const spool = await Spool.open({ dir });
    const got: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 400; i++) {
        await spool.append(`m v=${i} ${i}`, 1);
        if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
      writing = false;
    })();
    while (writing || spool.pending) {
      const rec = await spool.peek();
      if (!rec) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      got.push(rec.body);
      await spool.commit(rec);
    }
    await writer;
    expect(spool.stats().corruptSegments).toBe(0);
    expect(got).toEqual(Array.from({ length: 400 }, (_, i) => `m v=${i} ${i}`));
    await spool.close();
  });
});
