import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/ports.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';

// What `npm start` does on a fresh machine: embedded broker, managed influxd, simulated factory.
let platform: PlatformProcess | null = null;
let dataDir = '';
afterEach(async () => {
  await platform?.kill('SIGKILL');
  platform = null;
  // A platform killed by a failing test leaves its managed influxd running (it has its own
  // process group, so that Ctrl-C reaches the platform first): stop it through its pid file.
  const pid = Number(await readFile(join(dataDir, 'influxdb', 'influxd.pid'), 'utf8').catch(() => ''));
  const cmdline = pid ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
  if (cmdline.includes('influxd') && cmdline.includes(dataDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start on embedded defaults', () => {
  it('runs broker, influxd and a simulated factory, shows data arriving, and stops cleanly on Ctrl-C', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pp-start-'));
    platform = await spawnPlatform({ PP_SIMULATOR: 'true', PP_INFLUX_MANAGED: 'true', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: String(await freePort()), PP_SIM_INTERVAL_MS: '100', PP_LOG_LEVEL: 'info' });
    const p = platform;
    // /readyz answers before the simulator is up and the banner printed.
    await waitFor(() => p.output().includes('PlantPulse is running'), 20_000, 'the banner');
    expect(p.output()).toMatch(/Storage\s+http:\/\/127\.0\.0\.1:\d+ \(InfluxDB v1 API, database "plantpulse", started by PlantPulse/);
    await waitFor(async () => (await scrapeMetric(p.url, 'pp_samples_stored_total', { source: 'mqtt' })) >= 100, 30_000, 'simulated samples stored');
    const ready = (await (await fetch(`${p.url}/readyz`)).json()) as { checks: { storage: { url: string; managed: boolean } } };
    expect(ready.checks.storage.managed).toBe(true);
    const influxUrl = ready.checks.storage.url;
    const q = await fetch(`${influxUrl}/query?db=plantpulse&q=${encodeURIComponent('SELECT count(power_kw) FROM telemetry')}`);
    const count = ((await q.json()) as { results: { series?: { values: [string, number][] }[] }[] }).results[0]!.series![0]!.values[0]![1];
    expect(count).toBeGreaterThanOrEqual(100);

    const code = await p.kill('SIGINT');
    expect(code).toBe(0);
    expect(p.output()).toContain('stopped cleanly');
    // The managed influxd went down with it.
    await expect(fetch(`${influxUrl}/ping`)).rejects.toThrow();
  });

  it('without influxd on PATH it runs without history and says so loudly', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pp-start-'));
    // A PATH without influxd (node itself is started by absolute path).
    platform = await spawnPlatform({ PATH: '/nonexistent', PP_SIMULATOR: 'true', PP_INFLUX_MANAGED: 'true', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: String(await freePort()), PP_SIM_INTERVAL_MS: '100' });
    const q = platform;
    await waitFor(() => q.output().includes('PlantPulse is running'), 20_000, 'the banner');
    expect(platform.output()).toContain('NO INFLUXDB');
    expect(platform.output()).toContain('WITHOUT HISTORY');
    const ready = (await (await fetch(`${platform.url}/readyz`)).json()) as { checks: { storage: { kind: string } } };
    expect(ready.checks.storage.kind).toBe('none');
  });

  it('refuses to start on a bad variable and names it', async () => {
    await expect(spawnPlatform({ PP_HTTP_PORT: 'eighty' })).rejects.toThrow(/PP_HTTP_PORT/);
  });
});
