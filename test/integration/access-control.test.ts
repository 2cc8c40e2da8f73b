import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/index.js';
import type { Platform } from '../../src/app/platform.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { ROUTE_ACCESS } from '../../src/auth/index.js';
import { CLOSE } from '../../src/live/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { LiveTestClient } from '../support/live-client.js';
import { authHeaders, scrapeMetric, startTestPlatform, TEST_ADMIN_TOKEN } from '../support/platform.js';

/**
 * Who may do what, through a real platform (auth on, real InfluxDB): for every route, each role
 * inside and outside its scope. Three sites in two cities: zj-hz-01 and zj-hz-02 (Hangzhou) and
 * zj-nb-01 (Ningbo). Tokens are made with the CLI against the running platform's data dir, as an
 * operator would, and take effect without a restart.
 */
const DB = 'access_control';
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
const SITES = ['zj-hz-01', 'zj-hz-02', 'zj-nb-01'] as const;
type Who = 'none' | 'garbage' | 'unknown' | 'revoked' | 'admin' | 'gateway' | 'manager' | 'regHz' | 'regNb';

let influx: InfluxdProcess;
let platform: Platform;
let dataDir: string;
const tokens: Partial<Record<Who, string>> = { garbage: 'not-a-token', unknown: `ppt_0123456789ab_${'x'.repeat(43)}`, admin: TEST_ADMIN_TOKEN };
/** The gas alert opened on each site. */
const alertOf: Record<string, Alert> = {};

function cli(...args: string[]): string {
  const lines: string[] = [];
  const code = tokenCommand([...args, '--data-dir', dataDir], {}, (l) => lines.push(l));
  expect(code).toBe(0);
  return lines.join('\n');
}

function createToken(role: string, scope: string, name: string): string {
  return (JSON.parse(cli('create', '--role', role, '--scope', scope, '--name', name, '--json')) as { token: string }).token;
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { code?: string; message?: string };
  headers: Headers;
}

/** Every `METHOD path` sent, to check at the end that each route of the access table was tried. */
const exercised: string[] = [];

async function call(who: Who, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  exercised.push(`${method} ${path.split('?')[0]}`);
  const headers: Record<string, string> = { ...(tokens[who] ? authHeaders(tokens[who]) : {}) };
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${platform.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {}, headers: res.headers };
}

const samples = () => Array.from({ length: 19 }, (_, i) => ({ ts: T0 + i * 10_000, m: { power_kw: 40 + i, energy_kwh: 1000 + i * 0.1 } }));

beforeAll(async () => {
  influx = await startInfluxd();
  dataDir = mkdtempSync(join(tmpdir(), 'pp-access-'));
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: dataDir, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_EMBEDDED_PORT: '0', PP_AUTH_MAX_FAILURES: '100000' });
  tokens.gateway = createToken('gateway', 'zj-hz-01', 'hz-01 gateway');
  tokens.manager = createToken('manager', 'zj-hz-01', 'hz-01 plant manager');
  tokens.regHz = createToken('regulator', 'zj-hz-*', 'Hangzhou energy office');
  tokens.regNb = createToken('regulator', 'zj-nb-*', 'Ningbo safety office');
  tokens.revoked = createToken('manager', 'zj-hz-01', 'former manager');
  const revokedId = tokens.revoked.slice(4, 16);
  expect(cli('revoke', revokedId)).toContain('revoked');

  // Three minutes of meter readings per site (closing 1-min energy windows), then a gas reading
  // above the 10 %LEL warning level: one alert per site.
  for (const site of SITES) {
    const ok = await call('admin', 'POST', `/api/v1/ingest/${site}/line-1/dev-1`, { samples: samples() });
    expect(ok.status).toBe(200);
    const gas = await call('admin', 'POST', `/api/v1/ingest/${site}/line-1/dev-1`, { samples: [{ ts: T0 + 200_000, m: { gas_lel_pct: 15 } }] });
    expect(gas.status).toBe(200);
  }
  const all = await call('admin', 'GET', '/api/v1/alerts?state=open');
  for (const a of all.body.alerts as Alert[]) if (a.rule === 'gas-lel-warning') alertOf[a.site] = a;
  expect(Object.keys(alertOf).sort()).toEqual([...SITES].sort());
}, 90_000);

afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The path of the gas alert of `site` (known once beforeAll ran). */
const alertPath = (site: string, suffix = '') => ({ label: `/api/v1/alerts/(${site}'s alert)${suffix}`, make: () => `/api/v1/alerts/${alertOf[site]!.id}${suffix}` });
const sitesOf = (a: Answer) => [...new Set((a.body.alerts as Alert[]).map((x) => x.site))].sort();
const from = `from=${T0}&to=${T0 + 10 * MIN}`;
/** Reports take whole hours: the two hours around T0. */
const H0 = Math.floor(T0 / (60 * MIN)) * 60 * MIN;
const hours = `from=${H0}&to=${H0 + 120 * MIN}`;

interface Case {
  who: Who;
  method: string;
  /** Made at run time when it needs data made in beforeAll. */
  path: string | { label: string; make: () => string };
  body?: unknown;
  contentType?: string;
  status: number;
  code?: string;
  check?: (a: Answer) => void | Promise<void>;
}

/** Every route × role, inside and outside the scope. */
const CASES: Case[] = [
  // Alerts: a regulator of one city never sees another city's alerts.
  { who: 'admin', method: 'GET', path: '/api/v1/alerts', status: 200, check: (a) => expect(sitesOf(a)).toEqual(['zj-hz-01', 'zj-hz-02', 'zj-nb-01']) },
  { who: 'regHz', method: 'GET', path: '/api/v1/alerts', status: 200, check: (a) => expect(sitesOf(a)).toEqual(['zj-hz-01', 'zj-hz-02']) },
  { who: 'regNb', method: 'GET', path: '/api/v1/alerts', status: 200, check: (a) => expect(sitesOf(a)).toEqual(['zj-nb-01']) },
  { who: 'manager', method: 'GET', path: '/api/v1/alerts', status: 200, check: (a) => expect(sitesOf(a)).toEqual(['zj-hz-01']) },
  { who: 'regHz', method: 'GET', path: '/api/v1/alerts?site=zj-hz-02', status: 200, check: (a) => expect(sitesOf(a)).toEqual(['zj-hz-02']) },
  { who: 'regHz', method: 'GET', path: '/api/v1/alerts?site=zj-nb-01', status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'manager', method: 'GET', path: '/api/v1/alerts?site=zj-hz-02', status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: '/api/v1/alerts', status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: '/api/v1/alerts', status: 401, code: 'PP_ERR_UNAUTHORIZED', check: (a) => expect(a.headers.get('www-authenticate')).toContain('Bearer') },
  { who: 'garbage', method: 'GET', path: '/api/v1/alerts', status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'unknown', method: 'GET', path: '/api/v1/alerts', status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'revoked', method: 'GET', path: '/api/v1/alerts', status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  // The route that matched decides, however the path was spelt.
  { who: 'none', method: 'GET', path: '/%61pi/v1/alerts', status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'gateway', method: 'GET', path: '/api/v1/%61lerts', status: 403, code: 'PP_ERR_FORBIDDEN' },

  // One alert: another site's is "not found" (the scope is part of the lookup).
  { who: 'regHz', method: 'GET', path: alertPath('zj-hz-02'), status: 200, check: (a) => expect(a.body.site).toBe('zj-hz-02') },
  { who: 'regHz', method: 'GET', path: alertPath('zj-nb-01'), status: 404, code: 'PP_ERR_UNKNOWN_ALERT' },
  { who: 'manager', method: 'GET', path: alertPath('zj-hz-02'), status: 404, code: 'PP_ERR_UNKNOWN_ALERT' },
  { who: 'gateway', method: 'GET', path: alertPath('zj-hz-01'), status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: alertPath('zj-hz-01'), status: 401, code: 'PP_ERR_UNAUTHORIZED' },

  // Acknowledge: a manager cannot acknowledge another site's alert; regulators and gateways never.
  { who: 'manager', method: 'POST', path: alertPath('zj-hz-02', '/ack'), body: { note: 'not mine' }, status: 404, code: 'PP_ERR_UNKNOWN_ALERT' },
  { who: 'regHz', method: 'POST', path: alertPath('zj-hz-01', '/ack'), body: {}, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'gateway', method: 'POST', path: alertPath('zj-hz-01', '/ack'), body: {}, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'POST', path: alertPath('zj-hz-01', '/ack'), body: {}, status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  {
    who: 'manager',
    method: 'POST',
    path: alertPath('zj-hz-01', '/ack'),
    body: { note: 'checked the detector' },
    status: 200,
    check: (a) => expect(a.body).toMatchObject({ acknowledged: true, alert: { site: 'zj-hz-01', ackedBy: 'hz-01 plant manager' } }),
  },

  // Energy and series (InfluxDB): inside the scope, data; outside, 403.
  { who: 'regHz', method: 'GET', path: `/api/v1/energy?site=zj-hz-02&window=1m&${from}`, status: 200, check: (a) => expect((a.body.total as { kwh: number }).kwh).toBeGreaterThan(0) },
  { who: 'manager', method: 'GET', path: `/api/v1/energy?site=zj-hz-01&window=1m&${from}`, status: 200, check: (a) => expect((a.body.total as { kwh: number }).kwh).toBeGreaterThan(0) },
  { who: 'regNb', method: 'GET', path: `/api/v1/energy?site=zj-hz-01&window=1m&${from}`, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'manager', method: 'GET', path: `/api/v1/energy?site=zj-hz-02&window=1m&${from}`, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: `/api/v1/energy?site=zj-hz-01&window=1m&${from}`, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: `/api/v1/energy?site=zj-hz-01&window=1m&${from}`, status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'regNb', method: 'GET', path: `/api/v1/series?device=zj-nb-01/line-1/dev-1&metric=power_kw&${from}`, status: 200, check: (a) => expect((a.body.points as unknown[]).length).toBeGreaterThan(0) },
  { who: 'regNb', method: 'GET', path: `/api/v1/series?device=zj-hz-01/line-1/dev-1&metric=power_kw&${from}`, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'manager', method: 'GET', path: `/api/v1/series?device=zj-hz-01/line-1/dev-1&metric=power_kw&${from}`, status: 200, check: (a) => expect((a.body.points as unknown[]).length).toBeGreaterThan(0) },
  { who: 'gateway', method: 'GET', path: `/api/v1/series?device=zj-hz-01/line-1/dev-1&metric=power_kw&${from}`, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: `/api/v1/series?device=zj-hz-01/line-1/dev-1&metric=power_kw&${from}`, status: 401, code: 'PP_ERR_UNAUTHORIZED' },

  { who: 'regHz', method: 'GET', path: `/api/v1/quality?site=zj-hz-01&${from}`, status: 200, check: (a) => expect(a.body.site).toBe('zj-hz-01') },
  { who: 'regHz', method: 'GET', path: `/api/v1/quality?site=zj-nb-01&${from}`, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: `/api/v1/quality?site=zj-hz-01&${from}`, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: `/api/v1/quality?site=zj-hz-01&${from}`, status: 401, code: 'PP_ERR_UNAUTHORIZED' },

  // Reports (docs/reports.md): like the reads above. The CSV's contents by scope: test/integration/reports.test.ts.
  { who: 'regHz', method: 'GET', path: `/api/v1/reports/energy?site=zj-hz-02&${hours}`, status: 200, check: (a) => expect(a.body).toMatchObject({ site: 'zj-hz-02', from: H0 }) },
  { who: 'manager', method: 'GET', path: `/api/v1/reports/energy?site=zj-hz-01&${hours}`, status: 200, check: (a) => expect(a.body.site).toBe('zj-hz-01') },
  { who: 'regNb', method: 'GET', path: `/api/v1/reports/energy?site=zj-hz-01&${hours}&format=csv`, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'manager', method: 'GET', path: `/api/v1/reports/energy?site=zj-hz-02&${hours}`, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: `/api/v1/reports/energy?site=zj-hz-01&${hours}`, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: `/api/v1/reports/energy?site=zj-hz-01&${hours}`, status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'regNb', method: 'GET', path: '/api/v1/alerts.csv?site=zj-hz-01', status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: '/api/v1/alerts.csv', status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: '/api/v1/alerts.csv', status: 401, code: 'PP_ERR_UNAUTHORIZED' },

  // JSON ingest: a gateway writes its own site only; readers never write.
  { who: 'gateway', method: 'POST', path: '/api/v1/ingest/zj-hz-01/line-1/dev-2', body: { samples: [{ ts: T0, m: { power_kw: 1 } }] }, status: 200 },
  { who: 'gateway', method: 'POST', path: '/api/v1/ingest', body: { site: 'zj-hz-01', line: 'line-1', device: 'dev-2', samples: [{ ts: T0 + 1000, m: { power_kw: 1 } }] }, status: 200 },
  { who: 'gateway', method: 'POST', path: '/api/v1/ingest/zj-hz-02/line-1/dev-9', body: { samples: [{ ts: T0, m: { power_kw: 666 } }] }, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'gateway', method: 'POST', path: '/api/v1/ingest', body: { site: 'zj-nb-01', line: 'line-1', device: 'dev-9', samples: [{ ts: T0, m: { power_kw: 666 } }] }, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'manager', method: 'POST', path: '/api/v1/ingest/zj-hz-01/line-1/dev-9', body: { samples: [{ ts: T0, m: { power_kw: 666 } }] }, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'regHz', method: 'POST', path: '/api/v1/ingest/zj-hz-01/line-1/dev-9', body: { samples: [{ ts: T0, m: { power_kw: 666 } }] }, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'POST', path: '/api/v1/ingest/zj-hz-01/line-1/dev-9', body: { samples: [{ ts: T0, m: { power_kw: 666 } }] }, status: 401, code: 'PP_ERR_UNAUTHORIZED' },

  // Line protocol (InfluxDB write API): the same tokens, InfluxDB-shaped answers.
  { who: 'gateway', method: 'POST', path: '/api/v2/write?bucket=b&precision=ms', body: `telemetry,site=zj-hz-01,line=line-1,device=dev-3 power_kw=3 ${T0}`, contentType: 'text/plain', status: 204 },
  {
    who: 'gateway',
    method: 'POST',
    path: '/api/v2/write?bucket=b&precision=ms',
    body: `telemetry,site=zj-hz-01,line=line-1,device=dev-4 power_kw=4 ${T0}\ntelemetry,site=zj-hz-02,line=line-1,device=dev-9 power_kw=666 ${T0}`,
    contentType: 'text/plain',
    status: 400,
    check: (a) => expect(a.body.rejections).toEqual([expect.objectContaining({ code: 'PP_ERR_SITE_FORBIDDEN', line: 2 })]),
  },
  { who: 'gateway', method: 'POST', path: '/api/v2/write?bucket=b&precision=ms', body: `telemetry,site=zj-nb-01,line=line-1,device=dev-9 power_kw=666 ${T0}`, contentType: 'text/plain', status: 403, check: (a) => expect(a.body).toMatchObject({ code: 'forbidden', ppCode: 'PP_ERR_SITE_FORBIDDEN' }) },
  { who: 'manager', method: 'POST', path: '/api/v2/write?bucket=b&precision=ms', body: `telemetry,site=zj-hz-01,line=line-1,device=dev-9 power_kw=666 ${T0}`, contentType: 'text/plain', status: 403, check: (a) => expect(a.body.ppCode).toBe('PP_ERR_FORBIDDEN') },
  { who: 'none', method: 'POST', path: '/api/v2/write?bucket=b&precision=ms', body: `telemetry,site=zj-hz-01,line=line-1,device=dev-9 power_kw=666 ${T0}`, contentType: 'text/plain', status: 401, check: (a) => expect(a.body).toMatchObject({ code: 'unauthorized', ppCode: 'PP_ERR_UNAUTHORIZED' }) },
  { who: 'revoked', method: 'POST', path: '/write?db=x&precision=ms', body: `telemetry,site=zj-hz-01,line=line-1,device=dev-9 power_kw=666 ${T0}`, contentType: 'text/plain', status: 401 },
  { who: 'none', method: 'POST', path: { label: '/write?u=telegraf&p=(gateway token)', make: () => `/write?db=x&precision=ms&u=telegraf&p=${tokens.gateway}` }, body: `telemetry,site=zj-hz-01,line=line-1,device=dev-5 power_kw=5 ${T0}`, contentType: 'text/plain', status: 204 },

  // Subscriptions: regulators manage their own, inside their jurisdiction; admins all.
  { who: 'regHz', method: 'POST', path: '/api/v1/subscriptions', body: { url: 'http://127.0.0.1:9/hook', jurisdiction: ['zj-nb-*'], secret: 'a-secret-of-16-chars' }, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'regHz', method: 'POST', path: '/api/v1/subscriptions', body: { url: 'http://127.0.0.1:9/hook', jurisdiction: ['zj-*'], secret: 'a-secret-of-16-chars' }, status: 403, code: 'PP_ERR_SITE_FORBIDDEN' },
  { who: 'manager', method: 'POST', path: '/api/v1/subscriptions', body: { url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' }, status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: '/api/v1/subscriptions', status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: '/api/v1/subscriptions', status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'regHz', method: 'POST', path: '/api/v1/subscriptions', body: { url: 'http://127.0.0.1:9/hook', secret: 'short' }, status: 400, code: 'PP_ERR_INVALID_BODY' },

  // Audit log (docs/security.md): admins only. The CLI recorded the tokens made in beforeAll.
  { who: 'admin', method: 'GET', path: '/api/v1/audit?action=token.create', status: 200, check: (a) => expect(a.body.count).toBeGreaterThanOrEqual(5) },
  { who: 'manager', method: 'GET', path: '/api/v1/audit', status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'regHz', method: 'GET', path: '/api/v1/audit', status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'gateway', method: 'GET', path: '/api/v1/audit', status: 403, code: 'PP_ERR_FORBIDDEN' },
  { who: 'none', method: 'GET', path: '/api/v1/audit', status: 401, code: 'PP_ERR_UNAUTHORIZED' },

  // Who am I; unknown paths need a token before they say 404.
  { who: 'regHz', method: 'GET', path: '/api/v1/whoami', status: 200, check: (a) => expect(a.body).toMatchObject({ role: 'regulator', scope: ['zj-hz-*'], permissions: ['read', 'subscribe'] }) },
  { who: 'gateway', method: 'GET', path: '/api/v1/whoami', status: 200, check: (a) => expect(a.body).toMatchObject({ role: 'gateway', scope: ['zj-hz-01'], permissions: ['ingest'] }) },
  { who: 'none', method: 'GET', path: '/api/v1/no-such-route', status: 401, code: 'PP_ERR_UNAUTHORIZED' },
  { who: 'manager', method: 'GET', path: '/api/v1/no-such-route', status: 404, code: 'PP_ERR_NOT_FOUND' },
  // Outside /api/: health and metrics stay open (no site data in them).
  { who: 'none', method: 'GET', path: '/healthz', status: 200 },
  // …and the API documentation (no data in it).
  { who: 'none', method: 'GET', path: '/docs/json', status: 200, check: (a) => expect(Object.keys(a.body.paths as object)).toContain('/api/v1/reports/energy') },
];

describe('access: every route, every role, inside and outside its scope', () => {
  it.each(CASES.map((c) => ({ ...c, name: `${c.who} ${c.method} ${typeof c.path === 'string' ? c.path : c.path.label}` })))('$name → $status', async (c) => {
    const a = await call(c.who, c.method, typeof c.path === 'string' ? c.path : c.path.make(), c.body, c.contentType);
    expect({ status: a.status, code: c.code ? a.body.code : undefined }, JSON.stringify(a.body)).toEqual({ status: c.status, code: c.code });
    await c.check?.(a);
  });

  it('stored nothing a token was refused for, and everything it was allowed', async () => {
    const count = async (where: string) => Number((await queryInfluxQL(influx.url, DB, `SELECT count(power_kw) FROM telemetry WHERE ${where}`))[0]?.count ?? 0);
    // Every refused write used power_kw=666 or device dev-9.
    expect(await count(`power_kw = 666`)).toBe(0);
    expect(await count(`device = 'dev-9'`)).toBe(0);
    expect(await count(`site = 'zj-hz-01' AND (device = 'dev-2' OR device = 'dev-3' OR device = 'dev-4' OR device = 'dev-5')`)).toBe(5);
  });

  it('regulators see, fetch and delete only their own subscriptions; admins see all', async () => {
    const created = await call('regHz', 'POST', '/api/v1/subscriptions', { url: 'http://127.0.0.1:9/hook', jurisdiction: ['zj-hz-02'], minSeverity: 'warning' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // No secret given: one was generated and is shown this once.
    expect(created.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ jurisdiction: ['zj-hz-02'], ownerRole: 'regulator', categories: ['safety', 'energy', 'sensor', 'data'] });
    const mine = await call('regHz', 'GET', `/api/v1/subscriptions/${id}`);
    expect(mine.status).toBe(200);
    expect(mine.body.secret).toBeUndefined();
    expect(mine.body.delivery).toMatchObject({ state: 'ok', pending: 0 });
    expect((await call('regNb', 'GET', `/api/v1/subscriptions/${id}`)).body.code).toBe('PP_ERR_UNKNOWN_SUBSCRIPTION');
    expect((await call('regHz', 'GET', `/api/v1/subscriptions/${id}/deliveries`)).body).toEqual({ subscription: id, deliveries: [] });
    expect((await call('regNb', 'GET', `/api/v1/subscriptions/${id}/deliveries`)).status).toBe(404);
    expect((await call('regNb', 'GET', '/api/v1/subscriptions')).body.count).toBe(0);
    expect(((await call('admin', 'GET', '/api/v1/subscriptions')).body.subscriptions as { id: string }[]).map((s) => s.id)).toContain(id);
    expect((await call('regNb', 'DELETE', `/api/v1/subscriptions/${id}`)).status).toBe(404);
    expect((await call('regHz', 'POST', `/api/v1/subscriptions/${id}/redeliver`)).body.code).toBe('PP_ERR_FORBIDDEN');
    expect((await call('regHz', 'DELETE', `/api/v1/subscriptions/${id}`)).status).toBe(204);
    expect((await call('admin', 'GET', `/api/v1/subscriptions/${id}`)).status).toBe(404);
  });

  it('the live WebSocket: readers get their scope, gateways 4403, no or bad token 4401', async () => {
    const ws = (token?: string) => new LiveTestClient(`${platform.httpUrl.replace('http', 'ws')}/api/v1/live${token ? `?token=${token}` : ''}`);
    const reg = ws(tokens.regHz);
    expect((await reg.next('hello')).access).toEqual({ sites: [], prefixes: ['zj-hz-'] });
    // Subscribing to another city is refused; the hub never sends its data.
    reg.send({ type: 'subscribe', sites: ['zj-nb-01'] });
    expect(await reg.next('error')).toMatchObject({ code: 'forbidden' });
    reg.ws.close();
    exercised.push('GET /api/v1/live');
    const gw = ws(tokens.gateway);
    expect((await gw.closed).code).toBe(CLOSE.forbidden);
    expect((await ws().closed).code).toBe(CLOSE.unauthorized);
    expect((await ws(tokens.revoked).closed).code).toBe(CLOSE.unauthorized);
  });

  it('a token revoked while its live WebSocket is open: the socket is closed 4401 within 5 s; other tokens stay', async () => {
    const url = (token: string) => `${platform.httpUrl.replace('http', 'ws')}/api/v1/live?token=${token}`;
    const leaving = createToken('manager', 'zj-hz-01', 'leaving manager');
    const staying = createToken('manager', 'zj-hz-01', 'staying manager');
    const a = await LiveTestClient.open(url(leaving));
    const b = await LiveTestClient.open(url(staying));
    await a.subscribe({ sites: ['zj-hz-01'] });
    await b.subscribe({ sites: ['zj-hz-01'] });
    const revokedAt = Date.now();
    expect(cli('revoke', leaving.slice(4, 16))).toContain('revoked');
    const closed = await a.closed;
    const tookMs = Date.now() - revokedAt;
    expect(closed.code).toBe(CLOSE.unauthorized);
    expect(tookMs).toBeLessThanOrEqual(5000);
    expect(a.of('error').at(-1)).toMatchObject({ code: 'unauthorized', message: 'token revoked or expired' });
    // The other manager's socket is untouched and still receives the site's telemetry.
    const ingest = await call('admin', 'POST', '/api/v1/ingest/zj-hz-01/line-1/dev-7', { samples: [{ ts: Date.now(), m: { power_kw: 7 } }] });
    expect(ingest.status).toBe(200);
    await b.next('telemetry', (m) => m.device === 'dev-7');
    expect(b.closeCode).toBeNull();
    b.ws.close();
    expect(await scrapeMetric(platform.httpUrl, 'pp_live_drops_total', { reason: 'revoked' })).toBe(1);
  }, 20_000);

  it('a token that expires while its live WebSocket is open: closed 4401 within 5 s of its expiry; the API refuses it from then on', async () => {
    const lines: string[] = [];
    expect(tokenCommand(['create', '--role', 'manager', '--scope', 'zj-hz-01', '--name', 'contractor', '--expires-in', '3s', '--json', '--data-dir', dataDir], {}, (l) => lines.push(l))).toBe(0);
    const { token, expiresAt } = JSON.parse(lines.join('')) as { token: string; expiresAt: number };
    expect((await fetch(`${platform.httpUrl}/api/v1/whoami`, { headers: authHeaders(token) })).status).toBe(200);
    const c = await LiveTestClient.open(`${platform.httpUrl.replace('http', 'ws')}/api/v1/live?token=${token}`);
    const closed = await c.closed;
    const closedAt = Date.now();
    expect(closed.code).toBe(CLOSE.unauthorized);
    expect(closedAt).toBeGreaterThanOrEqual(expiresAt);
    expect(closedAt - expiresAt).toBeLessThanOrEqual(5000);
    expect((await fetch(`${platform.httpUrl}/api/v1/whoami`, { headers: authHeaders(token) })).status).toBe(401);
  }, 20_000);

  it('tried every route of the access table (a new route needs its cases here)', () => {
    const untried = Object.keys(ROUTE_ACCESS).filter((route) => {
      const [method, pattern] = route.split(' ') as [string, string];
      const re = new RegExp(`^${method} ${pattern.replace(/:[a-z]+/g, '[^/]+')}$`);
      return !exercised.some((e) => re.test(e));
    });
    expect(untried).toEqual([]);
  });

  it('counts refusals by reason', async () => {
    expect(await scrapeMetric(platform.httpUrl, 'pp_auth_denied_total', { reason: 'site_forbidden' })).toBeGreaterThan(0);
    expect(await scrapeMetric(platform.httpUrl, 'pp_auth_denied_total', { reason: 'invalid_token' })).toBeGreaterThan(0);
    expect(await scrapeMetric(platform.httpUrl, 'pp_auth_denied_total', { reason: 'missing_token' })).toBeGreaterThan(0);
  });
});

describe('failed authentication is limited per address and per token id; valid tokens never', () => {
  let small: Platform;
  let smallDir: string;
  beforeAll(async () => {
    smallDir = mkdtempSync(join(tmpdir(), 'pp-limit-'));
    small = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: smallDir, PP_AUTH_MAX_FAILURES: '20', PP_AUTH_FAILURE_WINDOW_S: '60', PP_MQTT_EMBEDDED_PORT: '0' });
  });
  afterAll(async () => {
    await small?.stop();
    if (smallDir) await rm(smallDir, { recursive: true, force: true });
  });
  const get = (headers: Record<string, string>) => fetch(`${small.httpUrl}/api/v1/alerts`, { headers });
  /** A well-formed token nobody holds, a different one each time (distinct ids: only the address limit applies). */
  const bad = (i: number) => `ppt_${i.toString(16).padStart(12, '0')}_${'z'.repeat(43)}`;

  it('30 bad tokens from one address: the 21st on answer 429, while a valid token from that address answers 200', async () => {
    // Requests without credentials are not guesses: they do not count.
    for (let i = 0; i < 5; i++) expect((await get({})).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 1; i <= 30; i++) statuses.push((await get(authHeaders(bad(i)))).status);
    expect(statuses).toEqual([...Array<number>(20).fill(401), ...Array<number>(10).fill(429)]);
    const ok = await get(authHeaders());
    expect(ok.status).toBe(200);
    const limited = await get(authHeaders(bad(31)));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ code: 'PP_ERR_TOO_MANY_AUTH_FAILURES' });
    // Malformed tokens (no id) from the same address are failing credentials too.
    expect((await get(authHeaders('not-a-token'))).status).toBe(429);
    // The line protocol endpoint shares the limiter: the valid token writes, a bad one is refused.
    const lp = (token: string) => fetch(`${small.httpUrl}/api/v2/write?bucket=b`, { method: 'POST', headers: { authorization: `Token ${token}` }, body: 'telemetry,site=s,line=l,device=d f=1' });
    expect((await lp(TEST_ADMIN_TOKEN)).status).toBe(204);
    expect((await lp(bad(32))).status).toBe(429);
    expect((await get(authHeaders())).status).toBe(200);
    expect((await fetch(`${small.httpUrl}/healthz`)).status).toBe(200);
  });

  it('a token id tried with many wrong secrets from several addresses is limited on its own; the real token with that id still works', async () => {
    const real = createTokenIn(smallDir, 'manager', 'site-a');
    const id = real.slice(4, 16);
    const wrong = (i: number) => `ppt_${id}_${String(i % 10).repeat(43)}`;
    // Three other loopback addresses, 7 failures each: no address reaches the limit, the id does.
    const from = (n: number) => `127.0.0.${2 + Math.floor(n / 7)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await whoamiFrom(small.httpUrl, from(i), wrong(i))).status);
    expect(statuses).toEqual([...Array<number>(20).fill(401), 429]);
    expect((await whoamiFrom(small.httpUrl, '127.0.0.4', real)).status).toBe(200);
    // Another id from that address is a plain 401: the address has failed 7 times only.
    expect((await whoamiFrom(small.httpUrl, '127.0.0.4', bad(999))).status).toBe(401);
  });
});

/** A token made with the CLI on a platform's data dir. */
function createTokenIn(dir: string, role: string, scope: string): string {
  const lines: string[] = [];
  expect(tokenCommand(['create', '--role', role, '--scope', scope, '--name', `${role} ${scope}`, '--json', '--data-dir', dir], {}, (l) => lines.push(l))).toBe(0);
  return (JSON.parse(lines.join('\n')) as { token: string }).token;
}

/** `GET /api/v1/whoami` sent from a chosen local address (any 127.x.y.z reaches the loopback listener). */
function whoamiFrom(baseUrl: string, localAddress: string, token: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/api/v1/whoami`, { localAddress, headers: authHeaders(token) }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}
