import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform, type Platform, type PlatformOptions } from '../../src/app/platform.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { freePort, GiveUp, waitFor } from './ports.js';
import { reapOnExit } from './child-reaper.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The admin token every test platform accepts (PP_BOOTSTRAP_ADMIN_TOKEN): not a secret. */
export const TEST_ADMIN_TOKEN = 'ppt_00000000ad01_test-admin-token-of-test-platforms-only-xyz';

/** `Authorization: Bearer <token>` (default: the test admin token), to spread into fetch headers. */
export function authHeaders(token: string = TEST_ADMIN_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * Environment for a test platform: no simulator, no managed influxd, a free HTTP port, its own
 * data dir. Authentication is OFF unless a test passes `PP_AUTH: 'required'`: the tests of
 * ingestion, storage and alerting are not about access, and test/integration/access-*.test.ts
 * and webhooks-*.test.ts check access with it on (send `authHeaders()`); `PP_AUTH: ''` gives
 * the product default (required, with a first admin token printed in the banner).
 */
function baseEnv(env: Record<string, string>): Record<string, string> {
  const dataDir = env.PP_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'pp-data-'));
  return { PP_SIMULATOR: 'false', PP_INFLUX_MANAGED: 'false', PP_HTTP_PORT: '0', PP_LOG_LEVEL: 'warn', PP_DATA_DIR: dataDir, PP_AUTH: 'off', PP_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...NO_DATA_ALERTS, ...env };
}

/**
 * Data completeness runs in every test platform, but its alerts are off unless a test sets them
 * (test/integration/data-completeness.test.ts): scripted backlogs and silences elsewhere would
 * rightly raise them, and those tests count the alerts they are about.
 */
const NO_DATA_ALERTS = { PP_QUALITY_SITE_MIN_COMPLETENESS_PCT: '0', PP_QUALITY_GATEWAY_DELAY_P95_S: '0', PP_QUALITY_OFFLINE_ALERT_MIN: '0' };

/** The platform in this process (fast; for tests that do not kill it). */
export async function startTestPlatform(env: Record<string, string>, options: PlatformOptions = {}): Promise<Platform> {
  const config = loadConfig(baseEnv(env));
  return startPlatform(config, createLogger(config.logLevel), options);
}

export interface PlatformProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}


/** The platform as its own process (`src/main.ts` through tsx), so tests can SIGKILL it. */
export async function spawnPlatform(env: Record<string, string>): Promise<PlatformProcess> {
  const port = await freePort();
  // Killed when this test process ends: a test that forgets one (or fails before its cleanup)
  // must not leave it running after the suite.
  const child = reapOnExit(spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...baseEnv({ PP_HTTP_PORT: String(port), ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new GiveUp(`platform exited with ${child.exitCode}: ${out.slice(-3000)}`);
    const res = await fetch(`${url}/readyz`);
    return res.status === 200;
  }, 60_000, 'platform /readyz');
  return {
    url,
    child,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** Sum of a Prometheus counter or gauge over the series matching `labels`. */
export async function scrapeMetric(baseUrl: string, name: string, labels: Record<string, string> = {}, token: string = TEST_ADMIN_TOKEN): Promise<number> {
  // Every test platform accepts the test admin token, which may scrape (PP_METRICS_AUTH=token); without PP_AUTH it is ignored.
  const res = await fetch(`${baseUrl}/metrics`, { headers: authHeaders(token) });
  if (!res.ok) throw new Error(`${baseUrl}/metrics: HTTP ${res.status} ${await res.text()}`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
