import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startManagedInfluxd, type ManagedInfluxd } from '../../src/storage/index.js';
import { freePort } from './ports.js';

export interface InfluxdProcess {
  url: string;
  port: number;
  dataDir: string;
  /** Kill influxd (SIGKILL by default) to inject a fault. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port with the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A real influxd (1.x, Debian's) on a free port with a temporary data dir. */
export async function startInfluxd(): Promise<InfluxdProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-influxd-'));
  const port = await freePort();
  let current: ManagedInfluxd | null = await startManagedInfluxd({ dataDir, httpPort: port });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = current?.process;
    current = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    kill,
    restart: async () => {
      await kill();
      current = await startManagedInfluxd({ dataDir, httpPort: port });
    },
    stop: async () => {
      await current?.stop();
      current = null;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
