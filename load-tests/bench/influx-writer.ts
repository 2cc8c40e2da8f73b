/**
 * Child process of the InfluxDB-limit phase: writes the platform's own points (the `telemetry`
 * measurement, tags site/line/device, one field per metric, values from the same simulated
 * machines) as line protocol through the platform's own InfluxDB sink, in batches of the
 * platform's batch size, with the platform's concurrency (its batch writer keeps one write in
 * flight), as fast as InfluxDB acknowledges. Line bodies are assembled from a pool of recorded
 * lines with fresh timestamps (unique per device, so the count in InfluxDB is exact), which
 * costs a fraction of what InfluxDB spends on them: the figure is InfluxDB's, not ours.
 *
 * argv: <influx url> <database> <workload shape JSON> <batch lines> <concurrency> <duration ms>
 * IPC: {type:'progress', lines} every 2 s (as the broker-alone ticker), then {type:'done', lines, seconds, batches}.
 */
import { telemetryPoints } from '../../src/pipeline/index.js';
import { InfluxV1Sink, pointsToLineProtocol } from '../../src/storage/index.js';
import { Workload, type WorkloadShape } from './workload.js';

const [url, database, shapeJson, batchArg, concurrencyArg, durationArg] = process.argv.slice(2);
if (!url || !database || !shapeJson || !process.send) throw new Error('usage: run by the bench over IPC');
const shape = JSON.parse(shapeJson) as WorkloadShape;
const batchLines = Number(batchArg ?? 5000);
const concurrency = Number(concurrencyArg ?? 1);
const durationMs = Number(durationArg ?? 10_000);

const LINES_PER_DEVICE = 4;
const startTs = Date.now() - 2 * 3_600_000;
const workload = new Workload(shape, startTs);
// Per device: a few of its lines with the timestamp cut off.
const pool: string[][] = workload.devices.map((d, i) => {
  const samples = workload.nextSamples(i, startTs);
  return pointsToLineProtocol(telemetryPoints({ ...d, seq: 0, samples }))
    .split('\n')
    .slice(0, LINES_PER_DEVICE)
    .map((l) => l.slice(0, l.lastIndexOf(' ') + 1));
});
const nextTs = new Float64Array(pool.length).fill(startTs + 60_000);
let cursor = 0;

function body(): string {
  const lines: string[] = new Array(batchLines);
  for (let j = 0; j < batchLines; j++) {
    const d = cursor % pool.length;
    const ts = nextTs[d]!;
    nextTs[d] = ts + 1;
    lines[j] = pool[d]![(cursor >> 3) % LINES_PER_DEVICE] + String(ts);
    cursor++;
  }
  return lines.join('\n');
}

async function main() {
  const sink = new InfluxV1Sink({ url: url!, database: database!, timeoutMs: 60_000 });
  await sink.connect();
  process.send!({ type: 'ready' });
  let lines = 0;
  let batches = 0;
  const progress = setInterval(() => process.send!({ type: 'progress', lines }), 2000);
  const t0 = performance.now();
  const loop = async () => {
    // Each loop prepares its next body while the others' writes are in flight, as the platform does.
    while (performance.now() - t0 < durationMs) {
      const b = body();
      await sink.write(b);
      lines += batchLines;
      batches++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  clearInterval(progress);
  process.send!({ type: 'done', lines, batches, seconds: (performance.now() - t0) / 1000 });
  process.disconnect();
}

main().catch((err: Error) => {
  process.send?.({ type: 'error', message: err.stack ?? err.message });
  process.exit(1);
});
