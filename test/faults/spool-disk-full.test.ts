import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

// The spool lives on a real 256 KiB tmpfs, so the kernel answers ENOSPC. Mounting needs root,
// which the test environment (CI runs as root) has; without it this test fails, it never skips.
const DB = 'diskfull';
let influx: InfluxdProcess;
let platform: Platform;
let spoolDir: string;

beforeAll(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'pp-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', spoolDir]);
  influx = await startInfluxd();
  platform = await startTestPlatform({
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: DB,
    PP_MQTT_EMBEDDED_PORT: '0',
    PP_SPOOL_DIR: spoolDir,
    PP_SPOOL_MAX_BYTES: String(100 * 1024 * 1024), // far above the disk: ENOSPC comes first
    PP_WRITE_MAX_PENDING_LINES: '2000',
  });
});
afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
  execFileSync('umount', [spoolDir]);
  await rm(spoolDir, { recursive: true, force: true });
});

describe('the spool disk fills up while InfluxDB is down', () => {
  it('says so, slows intake (503), corrupts nothing, and loses nothing it acknowledged', async () => {
    await influx.kill('SIGKILL');
    const base = Date.now() - 3_600_000;
    let nextBatch = 0;
    let acked = 0;
    let refused = 0;
    const held: Promise<void>[] = [];
    // Eight clients posting 100-sample batches until the platform pushes back.
    const worker = async () => {
      while (refused < 20 && nextBatch < 5000) {
        const b = nextBatch++;
        const samples = Array.from({ length: 100 }, (_, i) => ({ ts: base + b * 100 + i, m: { power_kw: b + i / 1000, temperature_c: 40.5 } }));
        const req = fetch(`${platform.httpUrl}/api/v1/ingest/site-d/line-1/dev-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples }) });
        const res = await Promise.race([req, new Promise<null>((r) => setTimeout(() => r(null), 500))]);
        if (res === null) {
          // Held: neither stored nor spooled yet. It must succeed once InfluxDB is back.
          held.push(req.then(async (r) => {
            expect(r.status).toBe(200);
            acked += ((await r.json()) as { accepted: number }).accepted;
          }));
          continue;
        }
        if (res.status === 503) {
          refused++;
          expect(res.headers.get('retry-after')).toBe('5');
          expect(((await res.json()) as { code: string }).code).toBe('PP_ERR_STORAGE_UNAVAILABLE');
          continue;
        }
        expect(res.status).toBe(200);
        acked += ((await res.json()) as { accepted: number }).accepted;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(refused).toBeGreaterThanOrEqual(20);
    const spoolErrors = await scrapeMetric(platform.httpUrl, 'pp_spool_errors_total');
    expect(spoolErrors).toBeGreaterThan(0);
    expect(await scrapeMetric(platform.httpUrl, 'pp_ingest_throttled_total')).toBeGreaterThanOrEqual(20);
    const ready = await fetch(`${platform.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('storage and spool cannot keep up');
    const spooled = await scrapeMetric(platform.httpUrl, 'pp_spool_appended_lines_total');
    expect(spooled).toBeGreaterThan(1000);

    await influx.restart();
    await Promise.all(held);
    const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
    await waitFor(async () => (await stored()) === acked, 30_000, `all ${acked} acknowledged samples stored`, 500).catch(async (e) => {
      const m = async (n: string) => scrapeMetric(platform.httpUrl, n);
      console.log('disk full failed', { acked, stored: await stored(), spooled: await m('pp_spool_appended_lines_total'), replayed: await m('pp_spool_replayed_lines_total'), spoolBytes: await m('pp_spool_bytes'), queue: await m('pp_write_queue_lines'), files: await readdir(spoolDir) });
      throw e;
    });
    console.log(`disk full: ${acked} samples acknowledged (${spooled} spooled before the disk filled, ${held.length} requests held), ${refused} requests refused with 503, ${spoolErrors} spool appends refused; stored ${await stored()}`);
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_spool_bytes')) === 0, 30_000, 'spool drained');
    expect(await scrapeMetric(platform.httpUrl, 'pp_spool_corrupt_segments')).toBe(0);
    expect((await readdir(spoolDir)).filter((n) => n.endsWith('.corrupt'))).toEqual([]);
  });
});
