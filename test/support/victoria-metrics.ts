import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GiveUp, waitFor } from './ports.js';

export interface VictoriaMetricsProcess {
  url: string;
  /**
   * Series matching a selector, from `/api/v1/export` (JSON lines). VictoriaMetrics stores an
   * InfluxDB point's field `f` of measurement `m` as the series `m_f`, tags as labels, and keeps
   * millisecond timestamps. Writes become visible after `/internal/force_flush`.
   */
  exportSeries(match: string): Promise<{ metric: Record<string, string>; values: number[]; timestamps: number[] }[]>;
  stop(): Promise<void>;
}

/** Debian's victoria-metrics: a real server for the InfluxDB 2.x write API (`/api/v2/write`). */
export async function startVictoriaMetrics(): Promise<VictoriaMetricsProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-vm-'));
  const child: ChildProcess = spawn('victoria-metrics', [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new GiveUp(`victoria-metrics exited: ${stderr.slice(-1000)}`);
    return (await fetch(`${url}/health`)).ok;
  }, 20_000, 'victoria-metrics /health');
  return {
    url,
    exportSeries: async (match) => {
      await fetch(`${url}/internal/force_flush`);
      const res = await fetch(`${url}/api/v1/export`, { method: 'POST', body: new URLSearchParams({ 'match[]': match }) });
      if (!res.ok) throw new Error(`export failed: ${res.status} ${await res.text()}`);
      return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
