import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedFactory, type SimulatedFactory } from '../../edge-agent/index.js';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { launchChromium } from '../support/browser.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { startTestPlatform, TEST_ADMIN_TOKEN } from '../support/platform.js';

/**
 * The live dashboard in real Chromium against the real platform (Mosquitto, InfluxDB) fed by a
 * simulated factory: 15 minutes of backlog (history, energy windows), then live samples every
 * second. A `silence` fault must reach the alert feed, and Acknowledge must be recorded by the API.
 * Screenshots (desktop, tablet, Chinese) go to .tmp/screenshots/; UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/dashboard.png (shown in docs/dashboard.md).
 */
/**
 * The browser globals the page functions below use. tsconfig has no DOM library (Node code must
 * not see browser types), so they are declared here, for this file only.
 */
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): PageElement[]; documentElement: { scrollWidth: number } };
declare const localStorage: { setItem(key: string, value: string): void; getItem(key: string): string | null };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, '.tmp/screenshots');
const DEVICES = ['site-01/line-01/m-001', 'site-01/line-01/m-002', 'site-01/line-01/m-003', 'site-01/line-02/m-001', 'site-01/line-02/m-002', 'site-01/line-02/m-003'];
const SILENT = 'site-01/line-01/m-001';

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: Platform;
let factory: SimulatedFactory;
let browser: Browser;
let page: Page;
let dir: string;

/**
 * Every chart of the machine view holds its history (15 min at 1-s steps: hundreds of points),
 * or says the machine does not report that metric (a compressor makes no parts).
 */
const waitForCharts = () =>
  page.waitForFunction(() => [...document.querySelectorAll('.chart[data-metric]')].every((c) => Number(c.dataset.points ?? 0) > 300 || c.dataset.note === 'empty'), undefined, { timeout: 15_000 });

const api = async <T>(path: string): Promise<T> => (await (await fetch(`${platform.httpUrl}${path}`)).json()) as T;

beforeAll(async () => {
  [influx, mosquitto, browser] = await Promise.all([startInfluxd(), startMosquitto(), launchChromium()]);
  dir = await mkdtemp(join(tmpdir(), 'pp-dashboard-'));
  await mkdir(SHOTS, { recursive: true });
  // Only a fast silence rule: the random plant never raises it; the injected fault does in seconds.
  const rules = { classes: { default: { inherit: false, rules: [{ id: 'silence', metric: '*', detector: 'silence', params: { timeoutS: 3 } }] } } };
  const rulesFile = join(dir, 'rules.json');
  await writeFile(rulesFile, JSON.stringify(rules));
  platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'dashboard', PP_MQTT_CLIENT_ID: 'pp-dashboard-test', PP_ANALYTICS_FILE: rulesFile, PP_ANALYTICS_TICK_MS: '250', PP_DATA_DIR: join(dir, 'data') });
  factory = await startSimulatedFactory({ brokerUrl: mosquitto.url, clientId: 'dash-gw', sites: 1, linesPerSite: 2, machinesPerLine: 3, seed: 5, sampleIntervalMs: 1000, publishIntervalMs: 500, startTs: Date.now() - 15 * 60_000 });
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await context.addInitScript(() => localStorage.setItem('pp.lang', 'en'));
  page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
});

afterAll(async () => {
  await browser?.close();
  await factory?.stop();
  await platform?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('live dashboard in Chromium, against a simulated plant', () => {
  it('shows the plant: every machine with a state colour and power, and the plant figures', async () => {
    await page.goto(`${platform.httpUrl}/`);
    expect(page.url()).toBe(`${platform.httpUrl}/dashboard/`);
    // Every machine, each showing a state of its own (not `silent`: while the backlog is still
    // being stored, the newest data the page has may be minutes old, and it says so).
    await page.waitForFunction((n) => {
      const tiles = [...document.querySelectorAll('.tile[data-device]')];
      return tiles.length === n && tiles.every((t) => ['running', 'idle', 'stopped', 'fault'].includes(t.dataset.state ?? ''));
    }, DEVICES.length, { timeout: 20_000 });
    const tiles = await page.$$eval('.tile[data-device]', (els) => els.map((e) => ({ key: (e as unknown as PageElement).dataset.device, state: (e as unknown as PageElement).dataset.state, text: e.textContent })));
    expect(tiles.map((t) => t.key).sort()).toEqual(DEVICES);
    for (const t of tiles) {
      expect(['running', 'idle', 'stopped', 'fault']).toContain(t.state);
      expect(t.text).toMatch(/\d kW/);
    }
    expect(await page.textContent('[data-kpi=running]')).toMatch(/^\d \/ 6$/);
    expect(await page.textContent('#conn')).toContain('Live');
    // Energy windows from the backlog: today's energy comes from /api/v1/energy.
    await page.waitForFunction(() => /\d kWh/.test(document.querySelector('[data-kpi=energy]')?.textContent ?? ''), undefined, { timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'overview-1920x1080.png') });
  });

  it('a machine view loads its history, then its charts grow with live data within seconds', async () => {
    await page.click('.tile[data-device="site-01/line-01/m-002"]');
    expect(page.url()).toContain('#/machine/site-01/line-01/m-002');
    const power = '.chart[data-metric=power_kw]';
    // 15 min of history at 1-s steps: hundreds of points before any live one.
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.points ?? 0) > 300, power, { timeout: 15_000 });
    const before = Number(await page.getAttribute(power, 'data-last'));
    await page.waitForFunction(([sel, last]) => Number(document.querySelector(sel as string)?.dataset.last ?? 0) > (last as number), [power, before] as const, { timeout: 5_000 });
    for (const metric of ['temperature_c', 'vibration_mm_s', 'output_units']) expect(Number(await page.getAttribute(`.chart[data-metric=${metric}]`, 'data-points'))).toBeGreaterThan(300);
    await page.screenshot({ path: join(SHOTS, 'machine-1920x1080.png') });
  });

  it('an injected fault appears in the alert feed; Acknowledge is recorded by the API', async () => {
    await page.goto(`${platform.httpUrl}/dashboard/#/`);
    // The operator's name, through the settings dialog.
    await page.click('#settings-open');
    await page.fill('#operator', 'wang.fang');
    await page.click('#settings-save');
    expect(await page.$$('#alert-feed li[data-alert-id]')).toHaveLength(0);
    const injectedAt = Date.now();
    factory.injectFault(SILENT, 'silence');
    const item = page.locator('#alert-feed li[data-alert-id]');
    await item.waitFor({ timeout: 15_000 });
    const arrivedMs = Date.now() - injectedAt;
    expect(arrivedMs).toBeLessThan(12_000); // 3-s timeout + ticks + publish interval, pushed live (no polling)
    expect(await item.textContent()).toContain(SILENT);
    expect(await page.textContent('#alert-count')).toBe('1');
    // Its tile goes grey (silent) and carries the alert; the others keep their state colours.
    await page.waitForFunction((key) => document.querySelector(`.tile[data-device="${key}"]`)?.dataset.state === 'silent', SILENT, { timeout: 15_000 });
    expect(await page.textContent(`.tile[data-device="${SILENT}"] .tile-alerts`)).toBe('⚠ 1');
    expect(await page.$$eval('.tile[data-state=silent]', (els) => els.length)).toBe(1);
    const id = (await item.getAttribute('data-alert-id'))!;
    // While the alert is seen again and again (`updated`, its count and value grow), its text is
    // refreshed in place: the button someone is about to press stays the same element.
    const button = item.locator('button[data-action=ack]');
    const metaBefore = await item.locator('.alert-meta').textContent();
    await button.evaluate((b) => ((b as unknown as { marked: boolean }).marked = true));
    await page.waitForFunction(([sel, before]) => document.querySelector(sel as string)?.textContent !== before, [`li[data-alert-id="${id}"] .alert-meta`, metaBefore] as const, { timeout: 5000 });
    expect(await button.evaluate((b) => (b as unknown as { marked?: boolean }).marked)).toBe(true);
    await button.click();
    await page.waitForSelector(`#alert-feed li[data-alert-id="${id}"][data-acked=true]`, { timeout: 5_000 });
    expect(await page.textContent(`#alert-feed li[data-alert-id="${id}"]`)).toContain('Acknowledged by wang.fang');
    const alert = await api<Alert>(`/api/v1/alerts/${id}`);
    expect(alert).toMatchObject({ state: 'open', rule: 'silence', device: 'm-001', ackedBy: 'wang.fang' });
    expect(alert.ackedAt).toBeGreaterThanOrEqual(injectedAt);
    await page.screenshot({ path: join(SHOTS, 'alert-acknowledged-1920x1080.png') });
  });

  it('switches to Chinese and back', async () => {
    await page.click('#lang-toggle');
    expect(await page.textContent('.kpi-label')).toBe('当前功率');
    expect(await page.textContent('#alert-feed li[data-alert-id]')).toContain('已由 wang.fang 确认');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await page.screenshot({ path: join(SHOTS, 'overview-zh-1920x1080.png') });
    await page.click('#lang-toggle');
    expect(await page.textContent('.kpi-label')).toBe('Power now');
  });

  it('fits a tablet (768 × 1024) without sideways scrolling; screenshots for the docs', async () => {
    // Desktop: the feed is a column beside the plant.
    const feed = await page.locator('.feed').boundingBox();
    expect(feed!.x).toBeGreaterThan(1400);
    await page.reload();
    await page.waitForFunction(() => /\d kWh/.test(document.querySelector('[data-kpi=energy]')?.textContent ?? ''), undefined, { timeout: 20_000 });
    // The docs' picture: regenerated on request only, so a test run leaves tracked files alone.
    const readmeShot = join(SHOTS, 'readme-1920x1080.png');
    await page.screenshot({ path: readmeShot });
    expect((await stat(readmeShot)).size).toBeLessThan(300 * 1024);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await copyFile(readmeShot, join(ROOT, 'docs/dashboard.png'));

    await page.setViewportSize({ width: 768, height: 1024 });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
    const tabletFeed = await page.locator('.feed').boundingBox();
    expect(tabletFeed!.x).toBeLessThan(10); // the feed moved under the plant
    await page.screenshot({ path: join(SHOTS, 'overview-768x1024.png'), fullPage: true });
    await page.click('.tile[data-device="site-01/line-02/m-003"]');
    await waitForCharts();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
    await waitForCharts();
    await page.screenshot({ path: join(SHOTS, 'machine-768x1024.png'), fullPage: true });
    for (const f of ['overview-1920x1080', 'machine-1920x1080', 'alert-acknowledged-1920x1080', 'overview-zh-1920x1080', 'overview-768x1024', 'machine-768x1024']) expect((await stat(join(SHOTS, `${f}.png`))).size).toBeGreaterThan(20_000);
  });

  it('with PP_AUTH=required: refused without a token; with one (settings dialog) it is sent as Bearer on fetch and ?token= on the WebSocket', async () => {
    // A second platform on the same broker and InfluxDB, with authentication on.
    const secured = await startTestPlatform({ PP_AUTH: 'required', PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'dashboard', PP_MQTT_CLIENT_ID: 'pp-dashboard-auth-test', PP_DATA_DIR: join(dir, 'data-auth') });
    const context = await browser.newContext();
    try {
      const p = await context.newPage();
      const auth: (string | undefined)[] = [];
      p.on('request', (r) => r.url().includes('/api/v1/alerts') && auth.push(r.headers().authorization));
      const sockets: string[] = [];
      p.on('websocket', (ws) => sockets.push(ws.url()));
      await p.goto(`${secured.httpUrl}/dashboard/`); // the page itself is public: it holds no data
      await p.waitForSelector('#conn[data-state=unauthorized]', { timeout: 10_000 });
      expect(await p.$$('.tile')).toHaveLength(0);

      await p.click('#settings-open');
      await p.fill('#token', TEST_ADMIN_TOKEN);
      await p.click('#settings-save');
      await p.waitForSelector('#conn[data-state=live]', { timeout: 10_000 });
      await p.waitForSelector('.tile[data-device]', { timeout: 15_000 });
      expect(sockets.at(-1)).toBe(`${secured.httpUrl.replace('http', 'ws')}/api/v1/live?token=${TEST_ADMIN_TOKEN}`);
      await expect.poll(() => auth.filter((a) => a !== undefined).length).toBeGreaterThan(0);
      expect(auth.at(-1)).toBe(`Bearer ${TEST_ADMIN_TOKEN}`);
      expect(await p.evaluate(() => localStorage.getItem('pp.token'))).toBe(TEST_ADMIN_TOKEN);
    } finally {
      await context.close();
      await secured.stop();
    }
  });
});
