import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapOnExit } from './child-reaper.js';
import { InfluxV1Sink, startManagedInfluxd, type ManagedInfluxd } from '../../src/storage/index.js';

export interface InfluxdProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The database created at start, when one was asked for. */
  database?: string;
  /** The pid of the running influxd, or null while it is killed. */
  pid(): number | null;
  /** The last lines of influxd.log (for diagnosing a failing test). */
  log(lines?: number): Promise<string>;
  /** Kill influxd (SIGKILL by default: a crash) to inject a fault; resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port with the same data dir (killing it first if it runs). */
  restart(): Promise<void>;
  /** Stop it (SIGTERM) and delete its data. */
  stop(): Promise<void>;
}

/**
 * A real influxd (Debian's 1.6) on a free port with a temporary data dir, started through the
 * platform's own managed-influxd, so tests also exercise the configuration `npm start` uses.
 */
export async function startInfluxd(opts: { database?: string } = {}): Promise<InfluxdProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-influxd-'));
  // managed-influxd picks the port (and picks again if it was taken before influxd bound it);
  // restart() keeps it.
  const start = async (httpPort?: number) => {
    const started = await startManagedInfluxd({ dataDir, httpPort });
    reapOnExit(started.process); // ends with this test or bench, however it ends
    return started;
  };
  let current: ManagedInfluxd | null = await start();
  const port = current.httpPort;
  const url = `http://127.0.0.1:${port}`;
  if (opts.database) await new InfluxV1Sink({ url, database: opts.database }).connect();
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
    url,
    port,
    dataDir,
    database: opts.database,
    pid: () => current?.process.pid ?? null,
    log: async (lines = 30) => (await readFile(join(dataDir, 'influxd.log'), 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n'),
    kill,
    restart: async () => {
      await kill();
      current = await start(port);
    },
    stop: async () => {
      await current?.stop();
      current = null;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
