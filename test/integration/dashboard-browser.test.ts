import { execFileSync } from 'node:child_process';
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
 * Then the charts' axes (a short span, a long one, values over a million) and the Chinese screen
 * at 1440 × 900 and on a tablet: labels that differ and keep their digits, Chinese text drawn in a
 * font that has it, nothing overflowing its box.
 * Screenshots (desktop, tablet, Chinese) go to .tmp/screenshots/; UPDATE_DOCS_SCREENSHOT=1 also
 * refreshes docs/dashboard.png and docs/dashboard-zh.png (shown in docs/dashboard.md).
 */
/**
 * The browser globals the page functions below use. tsconfig has no DOM library (Node code must
 * not see browser types), so they are declared here, for this file only.
 */
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  className: string;
  scrollWidth: number;
  clientWidth: number;
  clientHeight: number;
  querySelectorAll(selector: string): PageElement[];
}
interface Canvas2D {
  font: string;
  measureText(text: string): { width: number };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageElement[];
  documentElement: { scrollWidth: number };
  createElement(tag: 'canvas'): { getContext(kind: '2d'): Canvas2D };
};
declare function getComputedStyle(el: unknown): { display: string; getPropertyValue(name: string): string };
declare const window: { timeAxis(font: string): { values(u: null, splits: number[], axis: number, space: number, step: number): string[] } };
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

/** A machine whose figures pass a million (a whole site's feeder, a long-running counter). */
const BIG = 'site-09/line-01/m-big';
type Ticks = [number, string][];

/** One minute of it, just stored: its charts span that minute, their values ~1.2 million. */
async function ingestBigMachine(): Promise<void> {
  const now = Date.now();
  const samples = Array.from({ length: 60 }, (_, i) => ({ ts: now - (60 - i) * 1000, m: { power_kw: Math.round(1_234_567 + 40_000 * Math.sin(i / 9)), output_units: 1_234_567 + 3 * i, state: 2 } }));
  const res = await fetch(`${platform.httpUrl}/api/v1/ingest/${BIG}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples }) });
  expect(res.status).toBe(200);
}

/** A page of its own, at `size`, in `lang`. */
async function openPage(size: { width: number; height: number }, lang: 'en' | 'zh'): Promise<Page> {
  const context = await browser.newContext({ viewport: size });
  await context.addInitScript((l) => localStorage.setItem('pp.lang', l), lang);
  const p = await context.newPage();
  p.on('pageerror', (err) => console.error('page error:', err.message));
  return p;
}

/** The labels a chart's axes drew (the chart writes them to `data-x-ticks` / `data-y-ticks`). */
async function chartTicks(p: Page, metric: string): Promise<{ x: Ticks; y: Ticks }> {
  const raw = await p.$eval(`.chart[data-metric=${metric}]`, (el) => ({ x: (el as unknown as PageElement).dataset.xTicks ?? '[]', y: (el as unknown as PageElement).dataset.yTicks ?? '[]' }));
  return { x: JSON.parse(raw.x) as Ticks, y: JSON.parse(raw.y) as Ticks };
}

/**
 * Each y label's width in the chart's font against the y axis' width on the page (uPlot's
 * `.u-axis` elements, x first): a label wider than the axis less its tick (8 px) and gap (5 px)
 * is clipped at the chart's left edge.
 */
async function yLabelRoom(p: Page, metric: string): Promise<{ axis: number; widest: number; labels: number }> {
  return p.$eval(`.chart[data-metric=${metric}]`, (el) => {
    const chart = el as unknown as PageElement;
    const axis = chart.querySelectorAll('.u-axis')[1]!;
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = `12px ${getComputedStyle(document.documentElement).getPropertyValue('--font')}`;
    const labels = (JSON.parse(chart.dataset.yTicks ?? '[]') as [number, string][]).map(([, label]) => label);
    return { axis: axis.clientWidth, widest: Math.max(...labels.map((l) => ctx.measureText(l).width)), labels: labels.length };
  });
}

/** Time labels: at least `min`, all different, in `format`. */
function expectTimeTicks(ticks: Ticks, format: RegExp, min = 4): void {
  const labels = ticks.map(([, label]) => label);
  expect(labels.length).toBeGreaterThanOrEqual(min);
  expect(new Set(labels).size).toBe(labels.length);
  for (const label of labels) expect(label).toMatch(format);
}

/** Value labels of a million-scale chart: every label from 100,000 up shows every digit of its value. */
function expectAllDigits(ticks: Ticks): void {
  const large = ticks.filter(([v]) => Math.abs(v) >= 100_000);
  expect(large.length).toBeGreaterThanOrEqual(2);
  for (const [v, label] of large) expect(label.replace(/\D/g, '')).toBe(String(Math.round(Math.abs(v))));
}

/** Layout boxes whose content is wider than they are (text cut off or spilling over a neighbour). */
async function overflowing(p: Page): Promise<string[]> {
  return p.evaluate(() =>
    [...document.querySelectorAll('.topbar, .topbar > *, .layout, .view, .feed, .feed h2, .kpi, .kpi > *, .site, .line, .line-head, .tile, .tile > *, .machine-head, .chart, .alert, .alert > *, .btn')]
      .filter((el) => getComputedStyle(el).display !== 'inline' && el.scrollWidth > el.clientWidth)
      .map((el) => `${el.className}: "${(el.textContent ?? '').slice(0, 40)}" (${el.scrollWidth} > ${el.clientWidth})`),
  );
}

/** The families of the installed fonts that cover Chinese. */
function cjkFamilies(): Set<string> {
  const out = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return new Set(out.split(/[\n,]/).map((f) => f.trim()).filter(Boolean));
}

/**
 * The fonts Chromium drew the text of `selector`'s elements with (DevTools protocol: what was
 * rendered, not what CSS asked for; `document.fonts.check()` answers true for any system font
 * name, installed or not).
 */
async function renderedFonts(p: Page, selector: string): Promise<string[]> {
  const cdp = await p.context().newCDPSession(p);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector });
    expect(nodeIds.length).toBeGreaterThan(0);
    const families = new Set<string>();
    for (const nodeId of nodeIds) for (const font of (await cdp.send('CSS.getPlatformFontsForNode', { nodeId })).fonts) families.add(font.familyName);
    return [...families];
  } finally {
    await cdp.detach();
  }
}

const waitForPlant = (p: Page) => p.waitForFunction(() => /\d/.test(document.querySelector('[data-kpi=energy]')?.textContent ?? '') && document.querySelectorAll('.tile[data-device]').length > 6, undefined, { timeout: 20_000 });
/**
 * Until a chart holds `n` points and has drawn its axes with them: the chart records its points
 * when data arrives and its tick labels when uPlot next draws, a frame later or more on a loaded
 * machine, so reading the ticks right after the points once found none.
 */
const waitForPoints = (p: Page, metric: string, n: number) =>
  p.waitForFunction(
    ([m, min]) => {
      const chart = document.querySelector(`.chart[data-metric=${m as string}]`) as unknown as PageElement | null;
      return Number(chart?.dataset.points ?? 0) >= (min as number) && (JSON.parse(chart?.dataset.xTicks ?? '[]') as unknown[]).length > 0;
    },
    [metric, n] as const,
    { timeout: 15_000 },
  );

describe('charts and the Chinese screen at 1440 × 900 and on a tablet', () => {
  const DESKTOP = { width: 1440, height: 900 };
  const TABLET = { width: 768, height: 1024 };

  beforeAll(ingestBigMachine);

  for (const size of [DESKTOP, TABLET]) {
    const tag = `${size.width}x${size.height}`;

    it(`${tag}: one minute of data has second ticks, all different; million-scale values keep every digit`, async () => {
      const p = await openPage(size, 'en');
      try {
        await p.goto(`${platform.httpUrl}/dashboard/#/machine/${BIG}`);
        await waitForPoints(p, 'power_kw', 55);
        await waitForPoints(p, 'output_units', 55);
        for (const metric of ['power_kw', 'output_units']) {
          const ticks = await chartTicks(p, metric);
          expectTimeTicks(ticks.x, /^\d\d:\d\d:\d\d$/);
          expectAllDigits(ticks.y);
          const room = await yLabelRoom(p, metric);
          expect(room.labels).toBe(ticks.y.length);
          expect(room.widest + 8 + 5).toBeLessThanOrEqual(room.axis);
        }
        await p.screenshot({ path: join(SHOTS, `chart-1min-large-${tag}.png`), fullPage: true });
      } finally {
        await p.context().close();
      }
    });

    it(`${tag}: fifteen minutes of data has minute ticks, all different`, async () => {
      const p = await openPage(size, 'en');
      try {
        await p.goto(`${platform.httpUrl}/dashboard/#/machine/site-01/line-01/m-002`);
        await waitForPoints(p, 'power_kw', 300);
        await waitForPoints(p, 'temperature_c', 300);
        // Steps of 2 minutes: uPlot's own list would go from 1 straight to 5 (three ticks).
        for (const metric of ['power_kw', 'temperature_c']) expectTimeTicks((await chartTicks(p, metric)).x, /^\d\d:\d\d$/, 6);
        await p.screenshot({ path: join(SHOTS, `chart-15min-${tag}.png`), fullPage: true });
      } finally {
        await p.context().close();
      }
    });

    it(`${tag}: the Chinese screen: its text, drawn in a CJK font, nothing overflowing`, async () => {
      const cjk = cjkFamilies();
      expect(cjk.size).toBeGreaterThan(0); // scripts/ensure-test-services.sh installs fonts-noto-cjk
      const p = await openPage(size, 'zh');
      try {
        await p.goto(`${platform.httpUrl}/dashboard/`);
        await waitForPlant(p);
        expect(await p.getAttribute('html', 'lang')).toBe('zh-CN');
        expect(await p.textContent('.kpi-label')).toBe('当前功率');
        expect(await p.textContent('.feed h2')).toContain('未关闭告警');
        expect(await p.textContent('#settings-open')).toBe('设置');
        expect(await p.textContent('#lang-toggle')).toBe('EN');
        expect(await p.textContent('.tile[data-device] .tile-state')).toMatch(/^(运行|待机|停机|故障|未知)/);
        for (const selector of ['.kpi-label', '.feed h2 > span', '#settings-open', '.tile-state']) for (const font of await renderedFonts(p, selector)) expect(cjk.has(font), `${selector} drawn in ${font}`).toBe(true);
        expect(await overflowing(p)).toEqual([]);
        expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
        const shot = join(SHOTS, `overview-zh-${tag}.png`);
        await p.screenshot({ path: shot });
        if (size === DESKTOP) {
          expect((await stat(shot)).size).toBeLessThan(300 * 1024);
          if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await copyFile(shot, join(ROOT, 'docs/dashboard-zh.png'));
        }

        await p.goto(`${platform.httpUrl}/dashboard/#/machine/${BIG}`);
        await waitForPoints(p, 'power_kw', 55);
        expect(await p.textContent('.chart[data-metric=power_kw] .u-title')).toBe('功率（kW）');
        for (const font of await renderedFonts(p, '.u-title')) expect(cjk.has(font), `chart title drawn in ${font}`).toBe(true);
        const ticks = await chartTicks(p, 'power_kw');
        expectTimeTicks(ticks.x, /^\d\d:\d\d:\d\d$/);
        expectAllDigits(ticks.y);
        const room = await yLabelRoom(p, 'power_kw');
        expect(room.widest + 8 + 5).toBeLessThanOrEqual(room.axis);
        expect(await overflowing(p)).toEqual([]);
        await p.screenshot({ path: join(SHOTS, `machine-zh-${tag}.png`), fullPage: true });
      } finally {
        await p.context().close();
      }
    });
  }

  it('every span gets tick labels that differ: the axis module in the page, from a minute to a month', async () => {
    const p = await openPage(DESKTOP, 'en');
    try {
      await p.goto(`${platform.httpUrl}/dashboard/`);
      // [first tick (s), step (s), ticks] → the labels the x axis would draw for them.
      const cases: [number, number, number][] = [
        [Date.UTC(2026, 11, 6, 23, 19, 0) / 1000, 10, 7], // one minute
        [Date.UTC(2026, 11, 6, 23, 0, 0) / 1000, 120, 8], // fifteen minutes
        [Date.UTC(2026, 11, 6, 0, 0, 0) / 1000, 6 * 3600, 9], // two days: 06:00 comes back
        [Date.UTC(2026, 10, 1) / 1000, 7 * 86_400, 5], // a month
      ];
      // A module script of the page's own (an import() here would be rewritten by vitest's transform).
      await p.addScriptTag({ type: 'module', content: "import { timeAxis } from './js/chart-axes.js'; window.timeAxis = timeAxis;" });
      await p.waitForFunction(() => typeof window.timeAxis === 'function');
      const labels = await p.evaluate((all) => {
        const axis = window.timeAxis('12px sans-serif');
        return all.map(([first, step, n]) => axis.values(null, Array.from({ length: n }, (_, i) => first + i * step), 0, 50, step));
      }, cases);
      expectTimeTicks(labels[0]!.map((l, i) => [i, l]), /^\d\d:\d\d:\d\d$/);
      expectTimeTicks(labels[1]!.map((l, i) => [i, l]), /^\d\d:\d\d$/);
      expectTimeTicks(labels[2]!.map((l, i) => [i, l]), /^\d\d\/\d\d, \d\d:\d\d$/);
      expectTimeTicks(labels[3]!.map((l, i) => [i, l]), /^\d\d\/\d\d$/);
    } finally {
      await p.context().close();
    }
  });

  it('in English, the 中文 button is drawn in a CJK font', async () => {
    const cjk = cjkFamilies();
    const p = await openPage(DESKTOP, 'en');
    try {
      await p.goto(`${platform.httpUrl}/dashboard/`);
      await p.waitForFunction(() => document.querySelector('#lang-toggle')?.textContent === '中文');
      const fonts = await renderedFonts(p, '#lang-toggle');
      expect(fonts.length).toBeGreaterThan(0);
      for (const font of fonts) expect(cjk.has(font), `中文 drawn in ${font}`).toBe(true);
    } finally {
      await p.context().close();
    }
  });
});
