import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Platform } from '../../src/app/platform.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { CLOSE } from '../../src/live/index.js';
import { LiveTestClient } from '../support/live-client.js';
import { authHeaders, startTestPlatform, TEST_ADMIN_TOKEN } from '../support/platform.js';
import { startVictoriaMetrics, type VictoriaMetricsProcess } from '../support/victoria-metrics.js';

/**
 * `/metrics` with PP_METRICS_AUTH=token (the default): only a monitor (or admin) token scrapes;
 * the shipped Prometheus configuration (deploy/prometheus/prometheus.yml) scrapes it as is, run
 * by a real Prometheus-compatible scraper (VictoriaMetrics' promscrape); PP_METRICS_AUTH=off
 * leaves it open.
 */
let platform: Platform;
let dataDir: string;
let vm: VictoriaMetricsProcess | undefined;
const tokens = { monitor: '', manager: '', gateway: '' };

function createToken(role: string, scope?: string): string {
  const lines: string[] = [];
  const args = ['create', '--role', role, ...(scope ? ['--scope', scope] : []), '--name', `${role} token`, '--json', '--data-dir', dataDir];
  expect(tokenCommand(args, {}, (l) => lines.push(l))).toBe(0);
  return (JSON.parse(lines.join('')) as { token: string }).token;
}

const scrape = (base: string, token?: string) => fetch(`${base}/metrics`, { headers: token ? authHeaders(token) : {} });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pp-metrics-auth-'));
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_DATA_DIR: dataDir, PP_MQTT_EMBEDDED_PORT: '0', PP_AUTH_MAX_FAILURES: '100000' });
  tokens.monitor = createToken('monitor');
  tokens.manager = createToken('manager', 'site-a');
  tokens.gateway = createToken('gateway', 'site-a');
});

afterAll(async () => {
  await vm?.stop();
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('/metrics with PP_METRICS_AUTH=token', () => {
  it('answers a monitor or admin token; no token 401, a bad one 401, other roles 403', async () => {
    const open = await scrape(platform.httpUrl);
    expect(open.status).toBe(401);
    expect(open.headers.get('www-authenticate')).toContain('Bearer');
    expect(await open.json()).toMatchObject({ code: 'PP_ERR_UNAUTHORIZED' });
    expect((await scrape(platform.httpUrl, `ppt_0123456789ab_${'x'.repeat(43)}`)).status).toBe(401);
    for (const t of [tokens.manager, tokens.gateway]) {
      const res = await scrape(platform.httpUrl, t);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'PP_ERR_FORBIDDEN' });
    }
    for (const t of [tokens.monitor, TEST_ADMIN_TOKEN]) {
      const res = await scrape(platform.httpUrl, t);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^pp_auth_denied_total\{reason="missing_token"\} [1-9]/m);
    }
    // Health stays open: load balancers and orchestrators probe it without credentials.
    expect((await fetch(`${platform.httpUrl}/healthz`)).status).toBe(200);
  });

  it('a monitor token reads nothing else: no API data, no live feed', async () => {
    const whoami = await fetch(`${platform.httpUrl}/api/v1/whoami`, { headers: authHeaders(tokens.monitor) });
    expect(await whoami.json()).toMatchObject({ role: 'monitor', permissions: ['metrics'] });
    for (const path of ['/api/v1/alerts', '/api/v1/audit', '/api/v1/subscriptions']) expect((await fetch(`${platform.httpUrl}${path}`, { headers: authHeaders(tokens.monitor) })).status).toBe(403);
    const ingest = await fetch(`${platform.httpUrl}/api/v1/ingest/site-a/l1/d1`, { method: 'POST', headers: { ...authHeaders(tokens.monitor), 'content-type': 'application/json' }, body: JSON.stringify({ samples: [{ ts: Date.now(), m: { power_kw: 1 } }] }) });
    expect(ingest.status).toBe(403);
    const live = new LiveTestClient(`${platform.httpUrl.replace('http', 'ws')}/api/v1/live?token=${tokens.monitor}`);
    expect((await live.closed).code).toBe(CLOSE.forbidden);
  });

  it('the shipped Prometheus configuration scrapes it with a monitor token; without the token the target is down', async () => {
    const config = parse(readFileSync(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url), 'utf8')) as {
      global: { scrape_interval: string };
      rule_files?: string[];
      scrape_configs: { job_name: string; authorization?: { credentials_file: string }; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === 'plantpulse')!;
    expect(job.authorization?.credentials_file).toBeDefined();
    // Only what differs here: the target's address, the token file's path, a faster interval.
    const tokenFile = join(dataDir, 'plantpulse-monitor.token');
    writeFileSync(tokenFile, tokens.monitor, { mode: 0o600 });
    const target = new URL(platform.httpUrl).host;
    config.global.scrape_interval = '1s';
    // Rules are vmalert's to evaluate (broker-queue-limit.test.ts), not the scraper's.
    expect(config.rule_files).toEqual(['alerts.yml']);
    delete config.rule_files;
    job.authorization!.credentials_file = tokenFile;
    job.static_configs = [{ targets: [target] }];
    config.scrape_configs.push({ job_name: 'plantpulse-no-token', static_configs: [{ targets: [target] }] });
    const configFile = join(dataDir, 'prometheus.yml');
    writeFileSync(configFile, stringify(config));
    vm = await startVictoriaMetrics([`-promscrape.config=${configFile}`]);
    const up = async (jobName: string) => (await vm!.exportSeries(`{__name__="up",job="${jobName}"}`, { minSamples: 2, timeoutMs: 20_000 })).flatMap((s) => s.values);
    expect((await up('plantpulse')).every((v) => v === 1)).toBe(true);
    expect((await up('plantpulse-no-token')).every((v) => v === 0)).toBe(true);
    const scraped = await vm.exportSeries('{__name__="pp_auth_denied_total",job="plantpulse"}', { minSamples: 1, timeoutMs: 20_000 });
    expect(scraped.map((s) => s.metric.reason)).toContain('missing_token');
  }, 60_000);
});

describe('/metrics with PP_METRICS_AUTH=off', () => {
  let open: Platform;
  beforeAll(async () => {
    open = await startTestPlatform({ PP_AUTH: 'required', PP_METRICS_AUTH: 'off', PP_MQTT_EMBEDDED_PORT: '0' });
  });
  afterAll(async () => open?.stop());

  it('answers without a token, while the API still needs one', async () => {
    const res = await scrape(open.httpUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pp_auth_denied_total');
    expect((await fetch(`${open.httpUrl}/api/v1/alerts`)).status).toBe(401);
  });
});
