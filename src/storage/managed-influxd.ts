import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import type { Logger } from 'pino';

/** Absolute path of an executable on PATH, or null. */
export function findOnPath(bin: string, path = process.env.PATH ?? ''): string | null {
  const dirs = path.split(delimiter);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

function freeLocalPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

export interface ManagedInfluxdOptions {
  binary?: string;
  /** Holds meta/, data/, wal/, influxd.conf and influxd.log. */
  dataDir: string;
  /** HTTP port; default: a free one. Reuse it to restart on the same address. */
  httpPort?: number;
  logger?: Logger;
  startTimeoutMs?: number;
}

export interface ManagedInfluxd {
  url: string;
  httpPort: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * An influxd left running by a platform that was killed (it runs in its own process group, so
 * it outlives a SIGKILL of its parent) holds the data dir's lock: stop it before starting anew.
 */
async function stopLeftover(pidPath: string, logger?: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidPath, 'utf8').trim());
  } catch {
    return;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('influxd')) return;
    process.kill(pid, 'SIGKILL');
    logger?.warn({ pid }, 'killed an influxd left over from an earlier run');
    for (let i = 0; i < 100; i++) {
      process.kill(pid, 0); // throws once the process is gone
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch {
    /* not running */
  }
}

/** influxd 1.x configuration: loopback only, no reporting, nothing but the HTTP API. */
function influxdConfig(dataDir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dataDir, 'meta')}"
[data]
  dir = "${join(dataDir, 'data')}"
  wal-dir = "${join(dataDir, 'wal')}"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
[admin]
  enabled = false
[continuous_queries]
  log-enabled = false
`;
}

/**
 * Start `influxd` as a child process (for `npm start` without PP_INFLUX_URL, and for tests).
 * Resolves once `/ping` answers; fails with the tail of influxd's log if it does not.
 */
export async function startManagedInfluxd(opts: ManagedInfluxdOptions): Promise<ManagedInfluxd> {
  const binary = opts.binary ?? findOnPath('influxd');
  if (!binary) throw new Error('influxd not found on PATH (apt-get install influxdb)');
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const httpPort = opts.httpPort ?? (await freeLocalPort());
  const rpcPort = await freeLocalPort();
  const confPath = join(dataDir, 'influxd.conf');
  await writeFile(confPath, influxdConfig(dataDir, httpPort, rpcPort));
  const logPath = join(dataDir, 'influxd.log');
  const logFd = openSync(logPath, 'a');
  const pidPath = join(dataDir, 'influxd.pid');
  await stopLeftover(pidPath, opts.logger);
  // Own process group: Ctrl-C in the terminal must not kill influxd before we flushed to it.
  const child = spawn(binary, ['-config', confPath], { stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  if (child.pid) await writeFile(pidPath, String(child.pid));
  const url = `http://127.0.0.1:${httpPort}`;
  const tail = () => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`influxd exited (${child.exitCode ?? child.signalCode}) during start-up:\n${tail()}`);
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 204 || res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`influxd did not answer on ${url} within ${opts.startTimeoutMs ?? 30_000} ms:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  opts.logger?.info({ url, dataDir, pid: child.pid }, 'managed influxd is up');

  return {
    url,
    httpPort,
    process: child,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
