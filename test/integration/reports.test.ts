import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import type { Sample } from '../../src/contract/index.js';
import type { EnergyReport } from '../../src/reports/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { readCsv } from '../support/csv.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { authHeaders, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * Energy reports and the alerts export through a real platform and a real InfluxDB 1.6. Known
 * hours of meter data, every quantity a binary fraction so sums are exact, go through HTTP ingest
 * (the same decoder, analytics and writer as MQTT); the report must equal both InfluxDB's own
 * SUM of the stored windows and the figures worked out by hand from what was sent.
 *
 * Plant time: data from H0 − 1 h to H3 + 10 min at 1-min steps; the report covers [H0, H3), three
 * whole hours ending at least an hour ago (UTC+8 has whole-hour offsets, so UTC hours are
 * plant-local hours). Two sites: zj-hz-01 (reported on) and zj-nb-01 (another city, for scopes).
 *
 * zj-hz-01:
 * - line-a/press-1: 0.5 kWh and 2 parts a minute, always running;
 * - line-a/press-2: 0.25 kWh a minute, 1 part a minute while running; idle (state 1) through
 *   [H1, H2): 60 idle minutes = 15 kWh idle, no parts; one `idle-share-high` (energy) alert;
 * - line-b/oven-1: 1 kWh, 0.125 m³ gas, 0.015625 t steam, 0.0625 m³ water a minute, no output
 *   counter; six samples missing at H1+10..H1+15 min (the meter still counts); a gas reading of
 *   15 %LEL for 3 min at H0 − 30 min (an alert opened before the period) and at H0 + 90 min (one
 *   safety alert in the period).
 */
const DB = 'reports';
const MIN = 60_000;
const HOUR = 60 * MIN;
const H3 = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const H0 = H3 - 3 * HOUR;
const H1 = H0 + HOUR;
const H2 = H0 + 2 * HOUR;
const START = H0 - HOUR;
const END = H3 + 10 * MIN;
const SITE = 'zj-hz-01';
const OTHER = 'zj-nb-01';
const PERIOD = `from=${H0}&to=${H3}`;

/** Default GB/T 2589 and MEE coefficients (docs/analytics.md table), written out here rather than imported. */
const KGCE_PER_KWH = 0.1229;
const KGCE_PER_GAS_M3 = 1.2143;
const CO2_PER_KWH = 0.5306;
/** 56,100 kg CO2/TJ × 38,931 kJ/m³ (docs/analytics.md: 2.18403, not rounded). */
const CO2_PER_GAS_M3 = (56_100 * 38_931) / 1e9;

interface DeviceSpec {
  line: string;
  device: string;
  kwhPerMin: number;
  gasPerMin?: number;
  steamPerMin?: number;
  waterPerMin?: number;
  unitsPerMin?: number;
  idle?: [number, number];
  missing?: [number, number];
  gasAlarmAt?: number[];
}

const DEVICES: DeviceSpec[] = [
  { line: 'line-a', device: 'press-1', kwhPerMin: 0.5, unitsPerMin: 2 },
  { line: 'line-a', device: 'press-2', kwhPerMin: 0.25, unitsPerMin: 1, idle: [H1, H2] },
  { line: 'line-b', device: 'oven-1', kwhPerMin: 1, gasPerMin: 0.125, steamPerMin: 0.015625, waterPerMin: 0.0625, missing: [H1 + 10 * MIN, H1 + 16 * MIN], gasAlarmAt: [H0 - 30 * MIN, H0 + 90 * MIN] },
];

/** The samples of one device: counters advance every minute (by the state of the minute before). */
function samplesOf(d: DeviceSpec): Sample[] {
  const out: Sample[] = [];
  let kwh = 1000;
  let gas = 50;
  let steam = 3;
  let water = 20;
  let units = 0;
  let running = true;
  for (let ts = START; ts <= END; ts += MIN) {
    if (ts > START) {
      kwh += d.kwhPerMin;
      gas += d.gasPerMin ?? 0;
      steam += d.steamPerMin ?? 0;
      water += d.waterPerMin ?? 0;
      if (running) units += d.unitsPerMin ?? 0;
    }
    running = !(d.idle && ts >= d.idle[0] && ts < d.idle[1]);
    if (d.missing && ts >= d.missing[0] && ts < d.missing[1]) continue;
    const m: Record<string, number> = { energy_kwh: kwh, state: running ? 2 : 1, power_kw: d.kwhPerMin * 60 };
    if (d.gasPerMin) Object.assign(m, { gas_m3: gas, steam_t: steam, water_m3: water });
    if (d.unitsPerMin) m.output_units = units;
    if (d.gasAlarmAt) m.gas_lel_pct = d.gasAlarmAt.some((t) => ts >= t && ts < t + 3 * MIN) ? 15 : 0;
    out.push({ ts, m });
  }
  return out;
}

let influx: InfluxdProcess;
let platform: Platform;
let dataDir: string;
const tokens: Record<string, string> = {};

function createToken(role: string, scope: string, name: string): string {
  const lines: string[] = [];
  expect(tokenCommand(['create', '--role', role, '--scope', scope, '--name', name, '--json', '--data-dir', dataDir], {}, (l) => lines.push(l))).toBe(0);
  return (JSON.parse(lines.join('\n')) as { token: string }).token;
}

async function get(path: string, token: string | null = tokens.admin!): Promise<Response> {
  return fetch(`${platform.httpUrl}${path}`, { headers: token ? authHeaders(token) : {} });
}

async function getJson<T>(path: string, token?: string): Promise<T> {
  const res = await get(path, token);
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** CSV rows as objects keyed by header. */
function records(text: string): Record<string, string>[] {
  const [header, ...rows] = readCsv(text).rows;
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

/** InfluxDB's own sums of the stored hourly windows over the period, per line (and `*` for the site). */
async function influxSums(site: string): Promise<Record<string, Record<string, number>>> {
  const fields = ['kwh', 'gas_m3', 'steam_t', 'water_m3', 'kgce', 'tce', 'co2_kg', 'output_units', 'idle_kwh'];
  const select = fields.map((f) => `SUM(${f}) AS ${f}`).join(', ');
  const where = `site = '${site}' AND "window" = '1h' AND time >= ${H0}ms AND time < ${H3}ms`;
  const out: Record<string, Record<string, number>> = {};
  for (const r of await queryInfluxQL(influx.url, DB, `SELECT ${select} FROM energy WHERE ${where} GROUP BY line`)) out[String(r.line)] = Object.fromEntries(fields.map((f) => [f, Number(r[f] ?? 0)]));
  const [all] = await queryInfluxQL(influx.url, DB, `SELECT ${select} FROM energy WHERE ${where}`);
  out['*'] = Object.fromEntries(fields.map((f) => [f, Number(all?.[f] ?? 0)]));
  return out;
}

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = mkdtempSync(join(tmpdir(), 'pp-reports-'));
  // Only the rules this test is about, so every alert is one the data above was built to raise.
  const rules = {
    classes: {
      default: {
        inherit: false,
        rules: [
          { id: 'gas-lel-warning', metric: 'gas_lel_pct', detector: 'limit', category: 'safety', severity: 'warning', params: { high: 10, hysteresis: 2 } },
          { id: 'idle-share-high', metric: 'idle_share', detector: 'limit', category: 'energy', severity: 'warning', params: { high: 0.3, hysteresis: 0.05 } },
        ],
      },
    },
  };
  const rulesFile = join(dataDir, 'analytics.json');
  await writeFile(rulesFile, JSON.stringify(rules));
  platform = await startTestPlatform({
    PP_AUTH: 'required',
    PP_DATA_DIR: join(dataDir, 'data'),
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: DB,
    PP_MQTT_EMBEDDED_PORT: '0',
    PP_ANALYTICS_FILE: rulesFile,
    PP_QUALITY_SAMPLE_INTERVAL_MS: '60000',
    PP_QUALITY_FLUSH_S: '1',
    PP_AUTH_MAX_FAILURES: '100000',
  });
  dataDir = join(dataDir, 'data');
  tokens.admin = createToken('admin', '*', 'report admin');
  tokens.regHz = createToken('regulator', 'zj-hz-*', 'Hangzhou energy office');
  tokens.regNb = createToken('regulator', 'zj-nb-*', 'Ningbo energy office');
  tokens.manager = createToken('manager', SITE, 'hz-01 plant manager');
  tokens.gateway = createToken('gateway', SITE, 'hz-01 gateway');

  // Each device's data in messages of 60 samples, in order, with consecutive seq.
  for (const site of [SITE, OTHER]) {
    for (const d of DEVICES) {
      const samples = samplesOf(d);
      for (let i = 0, seq = 1; i < samples.length; i += 60, seq++) {
        const res = await fetch(`${platform.httpUrl}/api/v1/ingest/${site}/${d.line}/${d.device}`, {
          method: 'POST',
          headers: { ...authHeaders(tokens.admin), 'content-type': 'application/json' },
          body: JSON.stringify({ seq, samples: samples.slice(i, i + 60) }),
        });
        expect(res.status, await res.text()).toBe(200);
      }
    }
  }
  // Every hourly window of the period stored, and the quality figures of its last hour flushed.
  await waitFor(async () => (await queryInfluxQL(influx.url, DB, `SELECT count(kwh) FROM energy WHERE site = '${SITE}' AND "window" = '1h' AND time >= ${H0}ms AND time < ${H3}ms`))[0]?.count === 9, 30_000, 'hourly energy windows');
  await waitFor(
    async () => (await queryInfluxQL(influx.url, DB, `SELECT sum(received_counted) FROM quality WHERE site = '${SITE}' AND level = 'site' AND "window" = '1h' AND time >= ${H0}ms AND time < ${H3}ms`))[0]?.sum === 3 * 180 - 6,
    30_000,
    'quality figures flushed',
  );
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
  if (dataDir) await rm(join(dataDir, '..'), { recursive: true, force: true });
});

describe('GET /api/v1/reports/energy', () => {
  it('equals InfluxDB’s own SUM of the stored windows, per line and for the site', async () => {
    const report = await getJson<EnergyReport>(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`);
    expect(report).toMatchObject({ site: SITE, from: H0, to: H3, energyWindow: '1h', qualityWindow: '1h', provisional: false, utcOffsetMinutes: 480 });
    const sums = await influxSums(SITE);
    expect(Object.keys(report.lines)).toEqual(['line-a', 'line-b']);
    for (const [key, figures] of [['*', report.total], ['line-a', report.lines['line-a']!], ['line-b', report.lines['line-b']!]] as const) {
      const s = sums[key]!;
      expect(figures.kwh).toBeCloseTo(s.kwh!, 9);
      expect(figures.gasM3).toBeCloseTo(s.gas_m3!, 9);
      expect(figures.steamT).toBeCloseTo(s.steam_t!, 9);
      expect(figures.waterM3).toBeCloseTo(s.water_m3!, 9);
      expect(figures.kgce).toBeCloseTo(s.kgce!, 9);
      expect(figures.tce).toBeCloseTo(s.tce!, 12);
      expect(figures.co2Kg).toBeCloseTo(s.co2_kg!, 9);
      expect(figures.outputUnits).toBe(s.output_units);
      expect(figures.idleKwh).toBeCloseTo(s.idle_kwh!, 9);
    }
  });

  it('equals the figures worked out by hand from the meter readings sent', async () => {
    const { total, lines } = await getJson<EnergyReport>(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`);
    const a = lines['line-a']!;
    const b = lines['line-b']!;
    // 180 minutes of each meter.
    expect(a.kwh).toBeCloseTo((0.5 + 0.25) * 180, 9);
    expect(b.kwh).toBeCloseTo(180, 9);
    expect(total.kwh).toBeCloseTo(315, 9);
    expect(total.gasM3).toBeCloseTo(22.5, 9);
    expect(total.steamT).toBeCloseTo(2.8125, 9);
    expect(total.waterM3).toBeCloseTo(11.25, 9);
    // Steam has no default coefficient: it stays out of tce and CO2 (docs/analytics.md).
    expect(total.kgce).toBeCloseTo(315 * KGCE_PER_KWH + 22.5 * KGCE_PER_GAS_M3, 6);
    expect(total.tce).toBeCloseTo((315 * KGCE_PER_KWH + 22.5 * KGCE_PER_GAS_M3) / 1000, 9);
    expect(total.co2Kg).toBeCloseTo(315 * CO2_PER_KWH + 22.5 * CO2_PER_GAS_M3, 6);
    expect(a.kgce).toBeCloseTo(135 * KGCE_PER_KWH, 6);
    // press-1 2 parts × 180 min; press-2 1 part × 120 running minutes.
    expect(a.outputUnits).toBe(480);
    expect(b.outputUnits).toBe(0);
    expect(total.kwhPerUnit).toBeCloseTo(315 / 480, 9);
    expect(a.kwhPerUnit).toBeCloseTo(135 / 480, 9);
    expect(a.kgcePerUnit).toBeCloseTo((135 * KGCE_PER_KWH) / 480, 9);
    expect(b.kwhPerUnit).toBeNull();
    // press-2's idle hour: 60 minutes × 0.25 kWh.
    expect(a.idleKwh).toBeCloseTo(15, 9);
    expect(b.idleKwh).toBe(0);
    expect(a.idleShare).toBeCloseTo(15 / 135, 9);
    expect(total.idleShare).toBeCloseTo(15 / 315, 9);
    expect(total.implausibleJumps).toBe(0);
  });

  it('counts the alerts opened in the period, by category (not those opened before it), as the alert list has them', async () => {
    const { total, lines } = await getJson<EnergyReport>(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`);
    expect(lines['line-a']!.alerts).toEqual({ safety: 0, energy: 1, sensor: 0, data: 0, total: 1 });
    expect(lines['line-b']!.alerts).toEqual({ safety: 1, energy: 0, sensor: 0, data: 0, total: 1 });
    expect(total.alerts).toEqual({ safety: 1, energy: 1, sensor: 0, data: 0, total: 2 });
    // The list holds the gas alert opened before H0 too; the report counts by opening time.
    const { alerts } = await getJson<{ alerts: Alert[] }>(`/api/v1/alerts?site=${SITE}&from=${START}&to=${END}`);
    expect(alerts.filter((x) => x.rule === 'gas-lel-warning').map((x) => x.openedAt).sort()).toEqual([H0 - 30 * MIN, H0 + 90 * MIN]);
    const opened = alerts.filter((x) => x.openedAt >= H0 && x.openedAt < H3);
    expect(opened.length).toBe(total.alerts.total);
    for (const c of ['safety', 'energy', 'sensor', 'data'] as const) expect(opened.filter((x) => x.category === c).length).toBe(total.alerts[c]);
  });

  it('carries data completeness: by hand, and as the stored quality figures say', async () => {
    const { total, lines } = await getJson<EnergyReport>(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`);
    // 3 devices × 180 expected samples; oven-1 missed 6.
    expect(total.quality).toMatchObject({ expected: 540, received: 534, devices: 3 });
    expect(total.quality!.completenessPct).toBeCloseTo((100 * 534) / 540, 9);
    expect(lines['line-a']!.quality!.completenessPct).toBeCloseTo(100, 9);
    expect(lines['line-b']!.quality!.completenessPct).toBeCloseTo((100 * 174) / 180, 9);
    // Hours late (a backlog): none on time.
    expect(total.quality!.timelinessPct).toBe(0);
    const [q] = await queryInfluxQL(influx.url, DB, `SELECT sum(received_counted) AS got, sum(expected) AS expected FROM quality WHERE site = '${SITE}' AND level = 'site' AND "window" = '1h' AND time >= ${H0}ms AND time < ${H3}ms`);
    expect(total.quality!.completenessPct).toBeCloseTo((100 * Number(q!.got)) / Number(q!.expected), 9);
  });

  it('CSV (en): the site total then one row per line, the same figures, RFC 4180, as an attachment', async () => {
    const res = await get(`/api/v1/reports/energy?site=${SITE}&${PERIOD}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="plantpulse-energy-zj-hz-01-\d{8}T\d{4}-\d{8}T\d{4}\.csv"$/);
    const text = await res.text();
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = records(text);
    expect(rows.map((r) => r.line)).toEqual(['', 'line-a', 'line-b']);
    const sums = await influxSums(SITE);
    const [site, a, b] = rows as [Record<string, string>, Record<string, string>, Record<string, string>];
    expect(Number(site.electricity_kwh)).toBeCloseTo(sums['*']!.kwh!, 6);
    expect(Number(site.electricity_kwh)).toBeCloseTo(315, 6);
    expect(Number(a.electricity_kwh)).toBeCloseTo(135, 6);
    expect(Number(site.energy_tce)).toBeCloseTo(sums['*']!.tce!, 6);
    expect(Number(site.co2_kg)).toBeCloseTo(sums['*']!.co2_kg!, 6);
    expect(Number(site.co2_kg)).toBeCloseTo(315 * CO2_PER_KWH + 22.5 * CO2_PER_GAS_M3, 6);
    expect(Number(site.output_units)).toBe(480);
    expect(Number(a.kwh_per_unit)).toBeCloseTo(135 / 480, 6);
    expect(b.kwh_per_unit).toBe(''); // no output: no intensity
    expect(Number(a.idle_share)).toBeCloseTo(15 / 135, 6);
    expect(Number(site.alerts_safety)).toBe(1);
    expect(Number(site.alerts_energy)).toBe(1);
    expect(Number(b.data_completeness_pct)).toBeCloseTo((100 * 174) / 180, 4);
    // Plant-local times (UTC+8), named in the header.
    expect(site['from(UTC+08:00)']).toBe(new Date(H0 + 8 * HOUR).toISOString().slice(0, 19).replace('T', ' '));
    expect(site['to(UTC+08:00)']).toBe(new Date(H3 + 8 * HOUR).toISOString().slice(0, 19).replace('T', ' '));
  });

  it('CSV (zh): Chinese column names, UTF-8 with a byte order mark for Excel', async () => {
    const res = await get(`/api/v1/reports/energy?site=${SITE}&${PERIOD}&format=csv&lang=zh`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    const [header] = readCsv(text).rows;
    expect(header!.slice(0, 2)).toEqual(['站点', '产线']);
    for (const name of ['电耗(kWh)', '综合能耗(tce)', '二氧化碳(kg)', '产量', '单位产品电耗(kWh/件)', '待机能耗占比', '安全告警数', '数据完整率(%)']) expect(header).toContain(name);
    const rows = records(text);
    expect(Number(rows[0]!['电耗(kWh)'])).toBeCloseTo(315, 6);
    expect(Number(rows[1]!['待机能耗占比'])).toBeCloseTo(15 / 135, 6);
    expect(res.headers.get('content-disposition')).toContain('-zh.csv"');
  });

  it('refuses periods that cut an hour, and bad parameters, with PP_ERR_INVALID_QUERY', async () => {
    for (const q of [`site=${SITE}&from=${H0 + 30 * MIN}&to=${H3}`, `site=${SITE}&from=${H0}&to=${H3 - 1}`, `site=${SITE}&${PERIOD}&format=xlsx`, `site=${SITE}&${PERIOD}&lang=fr`, `site=${SITE}&${PERIOD}&window=1d`, `site=bad%20id&${PERIOD}`, PERIOD]) {
      const res = await get(`/api/v1/reports/energy?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('PP_ERR_INVALID_QUERY');
    }
  });
});

describe('scopes', () => {
  it('a regulator of another city gets 403 for this site; its own site is reported; gateways and strangers are refused', async () => {
    for (const format of ['json', 'csv']) {
      const res = await get(`/api/v1/reports/energy?site=${SITE}&${PERIOD}&format=${format}`, tokens.regNb);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('PP_ERR_SITE_FORBIDDEN');
    }
    const own = await getJson<EnergyReport>(`/api/v1/reports/energy?site=${OTHER}&${PERIOD}`, tokens.regNb);
    expect(own.total.kwh).toBeCloseTo(315, 9);
    expect((await getJson<EnergyReport>(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`, tokens.regHz)).total.kwh).toBeCloseTo(315, 9);
    expect((await getJson<EnergyReport>(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`, tokens.manager)).total.kwh).toBeCloseTo(315, 9);
    expect((await get(`/api/v1/reports/energy?site=${OTHER}&${PERIOD}`, tokens.manager)).status).toBe(403);
    const gw = await get(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`, tokens.gateway);
    expect(gw.status).toBe(403);
    expect(((await gw.json()) as { code: string }).code).toBe('PP_ERR_FORBIDDEN');
    expect((await get(`/api/v1/reports/energy?site=${SITE}&${PERIOD}`, null)).status).toBe(401);
    expect((await get(`/api/v1/alerts.csv`, null)).status).toBe(401);
  });

  it('alerts.csv holds only the caller’s jurisdiction; naming another site is a 403', async () => {
    const nb = records(await (await get(`/api/v1/alerts.csv?from=${START}&to=${END}`, tokens.regNb)).text());
    expect(nb.length).toBeGreaterThan(0);
    expect([...new Set(nb.map((r) => r.site))]).toEqual([OTHER]);
    const all = records(await (await get(`/api/v1/alerts.csv?from=${START}&to=${END}`)).text());
    expect([...new Set(all.map((r) => r.site))].sort()).toEqual([SITE, OTHER]);
    const denied = await get(`/api/v1/alerts.csv?site=${SITE}`, tokens.regNb);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe('PP_ERR_SITE_FORBIDDEN');
  });
});

describe('GET /api/v1/alerts.csv', () => {
  it('has the rows /api/v1/alerts has for the same filters, in the same order, field for field', async () => {
    for (const [token, query] of [
      [tokens.admin, `from=${START}&to=${END}`],
      [tokens.regHz, `site=${SITE}&from=${H0}&to=${H3}`],
      [tokens.regHz, `category=safety`],
    ] as const) {
      const { alerts } = await getJson<{ alerts: Alert[] }>(`/api/v1/alerts?${query}`, token);
      expect(alerts.length).toBeGreaterThan(0);
      const res = await get(`/api/v1/alerts.csv?${query}`, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="plantpulse-alerts-[\w-]+\.csv"$/);
      const rows = records(await res.text());
      expect(rows.map((r) => r.id)).toEqual(alerts.map((a) => a.id));
      for (const [i, a] of alerts.entries()) {
        const r = rows[i]!;
        expect([r.site, r.line, r.device, r.rule, r.metric, r.category, r.severity, r.state, r.message]).toEqual([a.site, a.line, a.device, a.rule, a.metric, a.category, a.severity, a.state, a.message.en]);
        expect(Number(r.count)).toBe(a.count);
        expect(Number(r.peak)).toBeCloseTo(a.peak, 6);
        expect(r['opened_at(UTC+08:00)']).toBe(new Date(a.openedAt + 8 * HOUR).toISOString().slice(0, 19).replace('T', ' '));
      }
    }
  });

  it('lang=zh: Chinese columns and values, BOM; bad parameters are PP_ERR_INVALID_QUERY', async () => {
    const res = await get(`/api/v1/alerts.csv?site=${SITE}&category=safety&lang=zh`);
    const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows = records(text.slice(1));
    expect(rows.length).toBe(2);
    for (const r of rows) expect([r['站点'], r['类别'], r['级别'], r['状态']]).toEqual([SITE, '安全', '警告', '已解除']);
    for (const q of ['lang=de', 'limit=0', 'from=yesterday', 'nope=1']) {
      const bad = await get(`/api/v1/alerts.csv?${q}`);
      expect(bad.status, q).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe('PP_ERR_INVALID_QUERY');
    }
  });
});
