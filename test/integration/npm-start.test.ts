import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/ports.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';

// What `npm start` does on a fresh machine: embedded broker, managed influxd, simulated factory,
// and the product's access default (test platforms otherwise run with PP_AUTH=off).
const PRODUCT_AUTH = { PP_AUTH: '', PP_BOOTSTRAP_ADMIN_TOKEN: '' };
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
    platform = await spawnPlatform({ ...PRODUCT_AUTH, PP_SIMULATOR: 'true', PP_INFLUX_MANAGED: 'true', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: String(await freePort()), PP_SIM_INTERVAL_MS: '100', PP_LOG_LEVEL: 'info' });
    const p = platform;
    // /readyz answers before the simulator is up and the banner printed.
    await waitFor(() => p.output().includes('PlantPulse is running'), 20_000, 'the banner');
    expect(p.output()).toMatch(/Storage\s+http:\/\/127\.0\.0\.1:\d+ \(InfluxDB v1 API, database "plantpulse", started by PlantPulse/);
    // The platform's own start set V8's heap growth and its budget (PP_HEAP_GROWTH_PERCENT's and PP_HEAP_BUDGET_MIB's defaults).
    expect(p.output()).toMatch(/"heapGrowthPercent":100,"heapBudgetMiB":112,.*V8 old generation grows/);
    // /metrics needs a token by default: the first admin token, from the banner.
    expect((await fetch(`${p.url}/metrics`)).status).toBe(401);
    const adminToken = /ppt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(p.output())![0];
    await waitFor(async () => (await scrapeMetric(p.url, 'pp_samples_stored_total', { source: 'mqtt' }, adminToken)) >= 100, 30_000, 'simulated samples stored');
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

  it('with the history-less opt-out (PP_INFLUX_MANAGED=false) it installs nothing, runs without history and says so loudly', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pp-start-'));
    // A PATH without influxd (node itself is started by absolute path).
    platform = await spawnPlatform({ ...PRODUCT_AUTH, PATH: '/nonexistent', PP_SIMULATOR: 'true', PP_INFLUX_MANAGED: 'false', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: String(await freePort()), PP_SIM_INTERVAL_MS: '100' });
    const q = platform;
    await waitFor(() => q.output().includes('PlantPulse is running'), 20_000, 'the banner');
    expect(platform.output()).toContain('NO INFLUXDB');
    expect(platform.output()).toContain('WITHOUT HISTORY');
    expect(platform.output()).not.toContain('installing');
    const ready = (await (await fetch(`${platform.url}/readyz`)).json()) as { checks: { storage: { kind: string } } };
    expect(ready.checks.storage.kind).toBe('none');
  });

  it('without influxd and without a way to install it, stops before starting and says what to do', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pp-start-'));
    // No influxd and no apt-get on this PATH: npm start cannot do the set-up, so it must not run history-less silently.
    await expect(spawnPlatform({ ...PRODUCT_AUTH, PATH: '/nonexistent', PP_SIMULATOR: 'true', PP_INFLUX_MANAGED: 'true', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: String(await freePort()) })).rejects.toThrow(
      /InfluxDB is not installed[\s\S]*PP_INFLUX_URL[\s\S]*PP_INFLUX_MANAGED=false/,
    );
  });

  it('requires API tokens by default and prints a first admin token once, in the banner only', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pp-start-'));
    const env = { ...PRODUCT_AUTH, PATH: '/nonexistent', PP_SIMULATOR: 'false', PP_INFLUX_MANAGED: 'false', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: String(await freePort()), PP_LOG_LEVEL: 'debug' };
    platform = await spawnPlatform(env);
    const p = platform;
    await waitFor(() => p.output().includes('PlantPulse is running'), 20_000, 'the banner');
    const tokens = p.output().match(/ppt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/g) ?? [];
    // Shown in the banner (and its curl example), nowhere in the log lines.
    expect(new Set(tokens).size).toBe(1);
    const token = tokens[0]!;
    expect(p.output().split('\n').filter((l) => l.startsWith('{') && l.includes(token))).toEqual([]);
    expect((await fetch(`${p.url}/api/v1/alerts`)).status).toBe(401);
    expect((await fetch(`${p.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // A restart on the same data dir keeps that token and creates no other.
    await p.kill('SIGINT');
    platform = await spawnPlatform(env);
    const again = platform;
    await waitFor(() => again.output().includes('PlantPulse is running'), 20_000, 'the banner');
    expect(again.output()).not.toMatch(/ppt_[0-9a-f]{12}_/);
    expect((await fetch(`${again.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('refuses to start on a bad variable and names it', async () => {
    await expect(spawnPlatform({ PP_HTTP_PORT: 'eighty' })).rejects.toThrow(/PP_HTTP_PORT/);
  });
});
