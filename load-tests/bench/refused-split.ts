/**
 * `npm run bench:refused`: what a batch that InfluxDB partly refuses costs the batch writer, against
 * a real influxd (the managed one, on a free port, in a temporary directory). One batch of
 * `CALLS` writes (one per MQTT message) of `LINES` lines each is written with 0, 1, 4 and 16 of
 * the writes holding a field type conflict (influxd 1.x: a 400 "partial write"). The writer
 * splits the batch in halves until it finds the refused writes (src/storage/split-refused.ts).
 * Reported per case: requests to influxd, wall time (median of `ROUNDS`), writes rejected, points
 * stored (checked against what should be).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriter, InfluxV1Sink, queryInfluxQL, startManagedInfluxd, type Point, type Sink } from '../../src/storage/index.js';
import { median } from './stats.js';

const CALLS = 500;
const LINES = 10;
const ROUNDS = 5;
const BAD_COUNTS = [0, 1, 4, 16];
const DB = 'bench_refused';

/** The platform's sink, with its requests counted. */
class CountingSink implements Sink {
  readonly name = 'counting';
  requests = 0;
  constructor(private readonly inner: Sink) {}
  connect() {
    return this.inner.connect();
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
  write(body: string) {
    this.requests++;
    return this.inner.write(body);
  }
}

/** Bad writes spread evenly over the batch, so none sits at a convenient boundary. */
function badCalls(n: number): Set<number> {
  return new Set(Array.from({ length: n }, (_, i) => Math.floor(((i + 0.5) * CALLS) / n)));
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-bench-refused-'));
  const influx = await startManagedInfluxd({ dataDir });
  try {
    const sink = new CountingSink(new InfluxV1Sink({ url: influx.url, database: DB }));
    await sink.connect();
    let ts = Date.now() - 3_600_000;
    console.log(`one batch of ${CALLS} writes × ${LINES} lines (${CALLS * LINES} lines) against influxd; median of ${ROUNDS} rounds`);
    console.log('bad writes | requests | ms (median) | rejected writes | points stored / expected');
    for (const bad of BAD_COUNTS) {
      const times: number[] = [];
      let requests = 0;
      let rejected = 0;
      let stored = 0;
      let expected = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const measurement = `r${bad}_${round}`;
        const which = badCalls(bad);
        // The measurement's field `v` is a float before the batch: a string in it is a conflict.
        await sink.write(`${measurement},d=seed v=1 ${ts++}`);
        const writer = new BatchWriter(sink, { maxBatchLines: CALLS * LINES, flushIntervalMs: 60_000 });
        const batch = Array.from({ length: CALLS }, (_, c): Point[] => Array.from({ length: LINES }, (_, k) => ({ measurement, tags: { d: `d${c}` }, fields: { v: which.has(c) && k === 0 ? 'text' : k }, ts: ts++ })));
        const before = sink.requests;
        const started = performance.now();
        // The last write fills the batch (maxBatchLines), which starts the one request at once.
        const calls = batch.map((points) => writer.write(points).then(() => true, () => false));
        await writer.flush();
        times.push(performance.now() - started);
        requests = sink.requests - before;
        rejected = (await Promise.all(calls)).filter((ok) => !ok).length;
        await writer.close();
        const rows = await queryInfluxQL(influx.url, DB, `SELECT count(v) FROM "${measurement}" WHERE d != 'seed'`);
        stored = Number(rows[0]?.count ?? 0);
        // A refused write's other lines are stored too: influxd keeps them (partial write).
        expected = CALLS * LINES - bad;
      }
      console.log(`${String(bad).padStart(10)} | ${String(requests).padStart(8)} | ${median(times).toFixed(0).padStart(11)} | ${String(rejected).padStart(15)} | ${stored} / ${expected}`);
      if (rejected !== bad || stored !== expected) throw new Error(`case ${bad}: rejected ${rejected} writes (expected ${bad}), stored ${stored} points (expected ${expected})`);
    }
  } finally {
    await influx.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
