import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriter, InfluxV1Sink, InfluxV2Sink, pointsToLineProtocol, queryInfluxQL, SinkError, startManagedInfluxd, type Point } from '../../../src/storage/index.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { startInfluxd, type InfluxdProcess } from '../../support/influxd.js';
import { waitFor } from '../../support/ports.js';

// The 1.x write path against a real influxd (Debian's 1.6), started by the platform's own
// managed-influxd on a free port: database creation, exact round trips of escaped names and
// values, the server's own errors, and retries through a 5xx spell and a killed server.

let influx: InfluxdProcess;
const DB = 'pp it "q" db'; // a space and quotes: CREATE DATABASE must quote it right
const base = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

beforeAll(async () => {
  influx = await startInfluxd();
});
afterAll(async () => {
  await influx?.stop();
});

const q = (query: string, db = DB) => queryInfluxQL(influx.url, db, query);

describe('managed influxd (the npm start path)', () => {
  it('runs from its generated config, loopback only, logging to a file in the data dir', async () => {
    const res = await fetch(`${influx.url}/ping`);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-influxdb-version')).toMatch(/^1\./);
    const conf = await readFile(join(influx.dataDir, 'influxd.conf'), 'utf8');
    expect(conf).toContain(`bind-address = "127.0.0.1:${influx.port}"`);
    expect(await influx.log(200)).toContain(`addr=127.0.0.1:${influx.port}`);
    expect(Number(await readFile(join(influx.dataDir, 'influxd.pid'), 'utf8'))).toBe(influx.pid());
  });

  it('runs with GOGC=200 and snapshots its cache every 10 MB, not 25 (influxd ignores a misspelled key: the snapshot shows it took)', async () => {
    const environ = (await readFile(`/proc/${influx.pid()}/environ`, 'utf8')).split('\0');
    expect(environ).toContain('GOGC=200');
    const db = 'pp snapshot';
    await new InfluxV1Sink({ url: influx.url, database: db }).connect();
    // 100,000 points of 9 float fields: about 14 MB of cached values (16 bytes each, plus keys).
    const fields = { a: 1.5, b: 2.5, c: 3.5, d: 4.5, e: 5.5, f: 6.5, g: 7.5, h: 8.5, i: 9.5 };
    for (let batch = 0; batch < 20; batch++) {
      const points: Point[] = [];
      for (let n = 0; n < 5000; n++) points.push({ measurement: 'telemetry', tags: { device: `d${n % 200}` }, fields, ts: base + (batch * 25 + Math.floor(n / 200)) * 1000 });
      const res = await fetch(`${influx.url}/write?db=${encodeURIComponent(db)}&precision=ms`, { method: 'POST', body: pointsToLineProtocol(points) });
      expect(res.status).toBe(204);
    }
    const snapshots = async () => {
      const vars = (await (await fetch(`${influx.url}/debug/vars`)).json()) as Record<string, { name?: string; tags?: { database?: string }; values?: { cacheCompactions?: number } }>;
      return Object.values(vars).filter((v) => v.name === 'tsm1_engine' && v.tags?.database === db).reduce((sum, v) => sum + (v.values?.cacheCompactions ?? 0), 0);
    };
    await waitFor(async () => (await snapshots()) >= 1, 15_000, 'a cache snapshot', 250);
    expect((await q('SELECT count(a) FROM telemetry', db))[0]?.count).toBe(100_000);
  });

  it('replaces an influxd left running on its data dir by a killed platform, and stop() ends it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pp-influxd-leftover-'));
    try {
      const first = await startManagedInfluxd({ dataDir });
      const firstExit = new Promise((r) => first.process.once('exit', r));
      // The platform "died" without stopping it; the next start must not trip over its lock.
      const second = await startManagedInfluxd({ dataDir });
      await firstExit;
      expect(first.process.signalCode).toBe('SIGKILL');
      expect((await fetch(`${second.url}/ping`)).status).toBe(204);
      await second.stop();
      expect(second.process.exitCode !== null || second.process.signalCode !== null).toBe(true);
      await expect(fetch(`${second.url}/ping`)).rejects.toThrow();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('InfluxV1Sink against influxd 1.6', () => {
  it('connect() creates the database, and again is a no-op', async () => {
    const sink = new InfluxV1Sink({ url: influx.url, database: DB });
    await sink.connect();
    await sink.connect();
    const names = (await q('SHOW DATABASES', '')).map((r) => r.name);
    expect(names.filter((n) => n === DB)).toHaveLength(1);
  });

  it('stores escaped names and values exactly as given, numbers as floats', async () => {
    const sink = new InfluxV1Sink({ url: influx.url, database: DB });
    const tags = { site: 'a,b=c d', line: 'back\\slash', device: '工厂-1' };
    const points: Point[] = [
      { measurement: 'lp test, m', tags, fields: { 'power kw': 1.5, 'a=b,c': 2, note: 'say "hi" \\ bye\\', multi: 'line1\nline2', ok: true, off: false }, ts: base },
      { measurement: 'lp test, m', tags, fields: { 'power kw': 1, big: 1e21, tiny: 5e-324, sum: 0.1 + 0.2, neg: -0, huge: Number.MAX_VALUE }, ts: base + 1 },
    ];
    const writer = new BatchWriter(sink, { flushIntervalMs: 1 });
    await writer.write(points);
    await writer.close();

    const rows = await q('SELECT * FROM "lp test, m" ORDER BY time');
    const nulls = { 'power kw': null, 'a=b,c': null, note: null, multi: null, ok: null, off: null, big: null, tiny: null, sum: null, neg: null, huge: null };
    expect(rows).toEqual([
      { ...nulls, time: base, ...tags, 'power kw': 1.5, 'a=b,c': 2, note: 'say "hi" \\ bye\\', multi: 'line1\nline2', ok: true, off: false },
      { ...nulls, time: base + 1, ...tags, 'power kw': 1, big: 1e21, tiny: 5e-324, sum: 0.1 + 0.2, neg: 0, huge: Number.MAX_VALUE },
    ]);
    const types = Object.fromEntries((await q('SHOW FIELD KEYS FROM "lp test, m"')).map((r) => [r.fieldKey, r.fieldType]));
    expect(types).toMatchObject({ 'power kw': 'float', big: 'float', neg: 'float', note: 'string', ok: 'boolean' });
    expect((await q('SHOW TAG VALUES FROM "lp test, m" WITH KEY = "site"')).map((r) => r.value)).toEqual(['a,b=c d']);
  });

  it('overwrites the same series and timestamp (idempotent replays)', async () => {
    const sink = new InfluxV1Sink({ url: influx.url, database: DB });
    await sink.write(`idem,site=s v=1 ${base}`);
    await sink.write(`idem,site=s v=2 ${base}`);
    expect(await q('SELECT v FROM idem')).toEqual([{ time: base, v: 2 }]);
  });

  it('writes into the configured retention policy', async () => {
    const res = await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE RETENTION POLICY "one_week" ON "pp it \\"q\\" db" DURATION 7d REPLICATION 1` }) });
    expect(await res.text()).not.toContain('error');
    const sink = new InfluxV1Sink({ url: influx.url, database: DB, retentionPolicy: 'one_week' });
    const ts = Date.now() - 1000;
    await sink.write(`rp_m,site=s v=7 ${ts}`);
    expect(await q('SELECT v FROM "pp it \\"q\\" db"."one_week"."rp_m"')).toEqual([{ time: ts, v: 7 }]);
    expect(await q('SELECT v FROM "rp_m"')).toEqual([]); // not in the default policy
  });

  it("the server's refusal is not retryable and carries its reason; later batches still go in", async () => {
    const sink = new InfluxV1Sink({ url: influx.url, database: DB });
    await sink.write(`conflict,site=s v=1 ${base}`);
    const failures: Error[] = [];
    const writer = new BatchWriter(sink, { maxBatchLines: 1, flushIntervalMs: 1, observer: { onFailure: (e) => failures.push(e) } });
    const refused = writer.write([{ measurement: 'conflict', tags: { site: 's' }, fields: { v: 'text' }, ts: base + 1 }]);
    const fine = writer.write([{ measurement: 'conflict', tags: { site: 's' }, fields: { v: 3 }, ts: base + 2 }]);
    const err = await refused.then(() => null, (e: unknown) => e as SinkError);
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ retryable: false, status: 400 });
    expect(err!.message).toContain('field type conflict');
    await fine;
    expect(failures).toHaveLength(1);
    expect((await q('SELECT v FROM conflict')).map((r) => r.v)).toEqual([1, 3]);
    await writer.close();
  });

  it('a batch with a field type conflict: influxd stores the rest (partial write, 400); the writer splits it and rejects only the call holding the conflict', async () => {
    const sink = new InfluxV1Sink({ url: influx.url, database: DB });
    await sink.write(`split,site=s v=1 ${base}`); // v is a float from now on
    // What influxd itself answers to a batch with one conflicting point among good ones.
    const partial = await sink.write([`split,site=s v=2 ${base + 1}`, `split,site=s v="text" ${base + 2}`, `split,site=s v=3 ${base + 3}`].join('\n')).then(() => null, (e: unknown) => e as SinkError);
    expect(partial).toMatchObject({ retryable: false, status: 400 });
    expect(partial!.message).toMatch(/partial write: field type conflict.*dropped=1/);
    expect((await q('SELECT v FROM split')).map((r) => r.v)).toEqual([1, 2, 3]);

    // Through the batch writer: 20 calls (one MQTT message each) of 3 points in one batch; call 13 holds a text value.
    const failures: number[] = [];
    const writer = new BatchWriter(sink, { maxBatchLines: 1000, flushIntervalMs: 20, observer: { onFailure: (_e, lines) => failures.push(lines) } });
    const t0 = base + 100;
    const outcomes = Array.from({ length: 20 }, (_, call) =>
      writer
        .write(Array.from({ length: 3 }, (_, k) => ({ measurement: 'split', tags: { site: 's' }, fields: { v: call === 13 && k === 1 ? 'text' : call * 10 + k }, ts: t0 + call * 3 + k })))
        .then(() => 'stored', (e: SinkError) => `${e.status}`),
    );
    const results = await Promise.all(outcomes);
    expect(results.flatMap((r, call) => (r === 'stored' ? [] : [[call, r]]))).toEqual([[13, '400']]);
    expect(failures).toEqual([3]);
    const stored = await q(`SELECT v FROM split WHERE time >= ${t0}ms`);
    // All 59 valid points, including the two good ones of call 13 (influxd kept them).
    expect(stored).toHaveLength(59);
    expect(stored.map((r) => r.v)).not.toContain('text');
    await writer.close();
  });

  it('a write to a missing database is refused (404), not retried', async () => {
    const err = await new InfluxV1Sink({ url: influx.url, database: 'nope' }).write('m v=1 1').then(() => null, (e: unknown) => e as SinkError);
    expect(err).toMatchObject({ retryable: false, status: 404 });
    expect(err!.message).toContain('database not found');
  });

  it('InfluxV2Sink.ping() falls back to /ping on a server without /health (influxd 1.6)', async () => {
    await expect(new InfluxV2Sink({ url: influx.url, org: 'o', bucket: 'b', token: '' }).ping()).resolves.toBeUndefined();
  });
});

describe('retries against influxd in trouble', () => {
  it('retries through 503s and completes once the server answers again', async () => {
    const proxy = await startFaultProxy(influx.url);
    try {
      const retries: SinkError[] = [];
      const writer = new BatchWriter(new InfluxV1Sink({ url: proxy.url, database: DB }), { flushIntervalMs: 1, initialRetryDelayMs: 20, maxRetryDelayMs: 100, observer: { onRetry: (e) => retries.push(e) } });
      proxy.set({ kind: 'error', status: 503 });
      let settled = false;
      const done = writer.write([{ measurement: 'flaky', tags: { site: 's' }, fields: { v: 1 }, ts: base }]).then(() => (settled = true));
      await waitFor(() => retries.length >= 3, 10_000, 'three retries');
      expect(settled).toBe(false);
      expect(retries[0]).toMatchObject({ retryable: true, status: 503 });
      proxy.set({ kind: 'pass' });
      await done;
      expect(await q('SELECT v FROM flaky')).toEqual([{ time: base, v: 1 }]);
      await writer.close();
    } finally {
      await proxy.close();
    }
  });

  it('influxd killed: the write waits, retrying; after a restart on the same port and data it completes, nothing lost', async () => {
    const sink = new InfluxV1Sink({ url: influx.url, database: DB, timeoutMs: 2000 });
    const before = Array.from({ length: 100 }, (_, i): Point => ({ measurement: 'outage', tags: { site: 's', phase: 'before' }, fields: { v: i }, ts: base + i }));
    const during = Array.from({ length: 100 }, (_, i): Point => ({ measurement: 'outage', tags: { site: 's', phase: 'during' }, fields: { v: i }, ts: base + i }));
    const retries: SinkError[] = [];
    const writer = new BatchWriter(sink, { flushIntervalMs: 5, initialRetryDelayMs: 50, maxRetryDelayMs: 300, observer: { onRetry: (e) => retries.push(e) } });
    await writer.write(before);

    await influx.kill('SIGKILL');
    await expect(sink.ping()).rejects.toMatchObject({ retryable: true });
    let settled = false;
    const pending = writer.write(during).then(() => (settled = true));
    await waitFor(() => retries.length >= 2, 10_000, 'retries while influxd is down');
    expect(settled).toBe(false);
    expect(writer.pendingLines).toBe(100);
    expect(retries.every((e) => e.retryable && e.status === undefined)).toBe(true);

    await influx.restart();
    await pending;
    await writer.close();
    const counts = Object.fromEntries((await q('SELECT count(v) FROM outage GROUP BY phase')).map((r) => [r.phase, r.count]));
    expect(counts).toEqual({ before: 100, during: 100 });
  });
});
