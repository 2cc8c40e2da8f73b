import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../../edge-agent/index.js';
import { startMosquitto, type MosquittoProcess } from '../../support/mosquitto.js';
import { freePort, waitFor } from '../../support/ports.js';
import { subscribe } from './subscriber.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = 'edge-agent/cli.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The agent CLI as a real process (TypeScript through tsx, as `npm run agent` does). */
function agent(args: string[], opts: { stopAfter?: () => Promise<void> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (opts.stopAfter) void opts.stopAfter().then(() => child.kill('SIGTERM'), reject);
  });
}

let broker: MosquittoProcess;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => broker?.stop());

describe('plantpulse-agent CLI', () => {
  it('--help lists the options and exits 0; --version prints the version', async () => {
    const help = await agent(['--help']);
    expect(help.code).toBe(0);
    for (const option of ['--broker', '--sites', '--lines', '--machines', '--seed', '--burst', '--interval', '--samples-per-message']) expect(help.stdout).toContain(option);
    const version = await agent(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${AGENT_VERSION}\n` });
  });

  it('argument errors name the option and exit 2', async () => {
    const bad = await agent(['--sites', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sites must be an integer');
    expect(bad.stderr).toContain('--help');
    const unknown = await agent(['--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("'--frobnicate'");
  });

  it('an unreachable broker is a runtime failure: exit 1 with the reason', async () => {
    const port = await freePort();
    const r = await agent(['--broker', `mqtt://127.0.0.1:${port}`, '--burst', '1', '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('--burst publishes N samples per machine and exits 0 once the broker acknowledged them', async () => {
    const sub = await subscribe(broker.url, 'pp/v1/+/+/+/metrics');
    const r = await agent(['--broker', broker.url, '--sites', '1', '--lines', '1', '--machines', '2', '--burst', '30', '--samples-per-message', '10', '--client-id', 'cli-burst']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The agent's own summary line (no component): not always the last line, as the gateway's
    // 'stopped' line has been seen after it (CI, 2026-12-05).
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.find((l) => l.component === undefined && 'devices' in l);
    expect(summary, r.stdout).toMatchObject({ msg: 'burst published and acknowledged', messages: 6, samples: 60, devices: 2 });
    await waitFor(() => sub.messages.length === 6, 10_000, 'the burst at the subscriber');
    expect(sub.messages.reduce((n, m) => n + (m.body.samples as unknown[]).length, 0)).toBe(60);
    await sub.close();
  });

  it('realtime: runs until SIGTERM, then stops cleanly (offline statuses) and exits 0', async () => {
    const sub = await subscribe(broker.url, 'pp/v1/site-01/#', { rap: true });
    const r = await agent(['--broker', broker.url, '--lines', '1', '--machines', '2', '--interval', '100', '--publish-every', '300', '--client-id', 'cli-rt', '--log-level', 'warn'], {
      stopAfter: () => waitFor(() => sub.on('/metrics').length >= 4, 20_000, 'realtime data from the CLI'),
    });
    expect(r.code).toBe(0);
    // (Retained statuses of the burst above are replayed on subscribing: look at this run's gateway only.)
    const offline = () => sub.on('/status').filter((m) => m.body.gateway === 'cli-rt-site-01' && m.body.state === 'offline');
    await waitFor(() => offline().length === 3, 10_000, 'offline statuses');
    expect(offline().every((m) => m.body.reason === 'stopped' && m.retain)).toBe(true);
    await sub.close();
  });
});
