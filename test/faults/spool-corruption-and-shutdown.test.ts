import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { freePort, waitFor } from '../support/ports.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';

let influx: InfluxdProcess;
let dataDir: string;
let platform: PlatformProcess | null = null;

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = await mkdtemp(join(tmpdir(), 'pp-corrupt-'));
});
afterAll(async () => {
  await platform?.kill('SIGKILL');
  await influx?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const base = Date.now() - 3_600_000;
async function post(url: string, batch: number) {
  const samples = Array.from({ length: 20 }, (_, i) => ({ ts: base + batch * 20 + i, m: { power_kw: batch + i / 100 } }));
  return fetch(`${url}/api/v1/ingest/site-c/line-1/dev-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples }) });
}

/** Lines per record of a spool segment, read from the record headers (see src/storage/spool.ts). */
function recordLines(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 0; pos + 20 <= bytes.length; pos += 20 + bytes.readUInt32LE(pos)) out.push(bytes.readUInt32LE(pos + 16));
  return out;
}

describe('graceful shutdown and a corrupted spool', () => {
  it('SIGTERM with InfluxDB down spools what it holds and exits; a corrupt segment is skipped and reported, the rest replayed', async () => {
    const env = { PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'corrupt', PP_DATA_DIR: dataDir, PP_SPOOL_SEGMENT_BYTES: '4096', PP_LOG_LEVEL: 'info', PP_MQTT_EMBEDDED_PORT: String(await freePort()) };
    platform = await spawnPlatform(env);
    await influx.kill('SIGKILL');
    for (let b = 0; b < 40; b++) expect((await post(platform.url, b)).status).toBe(200); // spooled, fsynced
    const started = Date.now();
    expect(await platform.kill('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(platform.output()).toContain('stopped cleanly');
    platform = null;

    const spoolDir = join(dataDir, 'spool');
    const segments = (await readdir(spoolDir)).filter((n) => n.endsWith('.seg')).sort();
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const victim = join(spoolDir, segments[1]!);
    const bytes = await readFile(victim);
    const lost = recordLines(bytes).reduce((a, b) => a + b, 0);
    bytes[30] = bytes[30]! ^ 0xff; // inside the first record's body: its checksum fails
    await writeFile(victim, bytes);

    await influx.restart();
    platform = await spawnPlatform(env);
    const p = platform;
    const stored = async () => Number((await queryInfluxQL(influx.url, 'corrupt', 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
    await waitFor(async () => (await stored()) === 800 - lost, 30_000, `${800 - lost} samples replayed`, 250);
    await waitFor(async () => (await scrapeMetric(p.url, 'pp_spool_bytes')) === 0, 10_000, 'spool drained');
    expect(await scrapeMetric(p.url, 'pp_spool_corrupt_segments')).toBe(1);
    expect(await readdir(spoolDir)).toContain(`${segments[1]}.corrupt`);
    expect(p.output()).toContain('corrupt spool segment');
    console.log(`corrupt spool: ${segments.length} segments, ${lost} samples in the corrupt one were skipped, ${800 - lost} replayed`);
    // Stop it here: the next test reuses `platform`, and a process left running outlives the suite.
    await p.kill('SIGKILL');
    platform = null;
  });

  it('a second signal exits at once, even while the first is still flushing', async () => {
    const env = { PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'second', PP_DATA_DIR: dataDir, PP_SPOOL_ENABLED: 'false', PP_SHUTDOWN_TIMEOUT_MS: '60000', PP_LOG_LEVEL: 'info', PP_MQTT_EMBEDDED_PORT: String(await freePort()) };
    const p = await spawnPlatform(env);
    platform = p;
    await influx.kill('SIGKILL');
    const held = post(p.url, 1).catch(() => null); // no spool: held in memory, waiting for InfluxDB
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    await waitFor(() => p.output().includes('stopping'), 5000, 'the first signal to be seen');
    await new Promise((r) => setTimeout(r, 500));
    expect(p.child.exitCode).toBeNull(); // still flushing: InfluxDB is down
    const started = Date.now();
    expect(await p.kill('SIGTERM')).toBe(130);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(p.output()).toContain('second signal');
    platform = null;
    await held;
    await influx.restart();
  });
});
