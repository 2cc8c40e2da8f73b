import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { freePort } from './free-port.js';

/** Absolute path of an executable file on PATH, or null. */
export function findOnPath(bin: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

export interface ManagedInfluxdOptions {
  /** Default: `influxd` found on PATH. */
  binary?: string;
  /** Holds meta/, data/, wal/, influxd.conf, influxd.log and influxd.pid. */
  dataDir: string;
  /** HTTP port on 127.0.0.1; default: a free one. Reuse it to restart on the same address. */
  httpPort?: number;
  logger?: Logger;
  /** How long to wait for `/ping`. Default 30 s. */
  startTimeoutMs?: number;
  /** Variables for influxd's environment, over ours and INFLUXD_ENV (e.g. the Go runtime's GOGC). */
  env?: Record<string, string>;
  /** `[data]` settings over INFLUXD_DATA_SETTINGS (e.g. `cache-snapshot-memory-size`). */
  dataSettings?: Record<string, string | number | boolean>;
}

export interface ManagedInfluxd {
  url: string;
  httpPort: number;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process exited. */
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
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('influxd') || !cmdline.includes(pidPath.replace(/influxd\.pid$/, ''))) return; // a reused pid: not ours
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

/**
 * What influxd spends per point, traded against its memory, without changing what it stores or when
 * it answers a write (after the WAL's fsync, as before). Measured side by side, each on a fresh
 * influxd, by load-tests/bench/influx-shapes.ts (`--only "platform defaults;influxd's defaults"`):
 * - GOGC=200: Go collects garbage half as often; about a tenth less CPU per point, for a larger
 *   heap between collections.
 * - A cache snapshot every 10 MB of cached values instead of 25 MB: the cache is most of influxd's
 *   heap, so this takes back what GOGC=200 adds to its peak RSS, for part of its gain (more, smaller
 *   snapshots; the bench counts their and the compactions' work until influxd is idle again). Both
 *   together: influxd 4–9 % less CPU per point than with its own defaults, at about the same peak
 *   RSS; GOGC=200 alone would save more CPU for some 70–110 MiB more heap.
 * A GOGC in our own environment is the user's choice and is kept.
 */
export const INFLUXD_ENV: Readonly<Record<string, string>> = { GOGC: '200' };
export const INFLUXD_DATA_SETTINGS: Readonly<Record<string, string | number | boolean>> = { 'cache-snapshot-memory-size': '10m' };

/** influxd's environment: ours, INFLUXD_ENV where ours does not set the variable, then `extra`. */
export function influxdEnv(ours: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ours };
  for (const [k, v] of Object.entries(INFLUXD_ENV)) if (env[k] === undefined || env[k] === '') env[k] = v;
  return { ...env, ...extra };
}

/** A TOML basic string: JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`) are valid TOML too. */
const toml = (s: string) => JSON.stringify(s);

/**
 * influxd 1.x configuration: loopback only, nothing but the HTTP API, no phoning home.
 * Reporting is switched off under both spellings: upstream's `reporting-disabled = true`, and
 * `reporting-enabled = false` for Debian's build, which patches the key (influxd ignores keys it
 * does not know). Graphite, collectd, OpenTSDB and UDP listeners are off by default in 1.x;
 * they are listed anyway so the file says what runs. The admin UI no longer exists in 1.6.
 */
export function influxdConfig(dataDir: string, httpPort: number, rpcPort: number, dataSettings: Record<string, string | number | boolean> = {}): string {
  // One entry per key: TOML refuses a key given twice.
  const extraData = Object.entries({ ...INFLUXD_DATA_SETTINGS, ...dataSettings })
    .map(([k, v]) => `  ${k} = ${typeof v === 'string' ? toml(v) : String(v)}\n`)
    .join('');
  return `# Written by PlantPulse (managed influxd); rewritten at every start.
reporting-disabled = true
reporting-enabled = false
# The RPC service (backup/restore); loopback only, on a free port.
bind-address = ${toml(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${toml(join(dataDir, 'meta'))}

[data]
  dir = ${toml(join(dataDir, 'data'))}
  wal-dir = ${toml(join(dataDir, 'wal'))}
  query-log-enabled = false
${extraData}
[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = ${toml(`127.0.0.1:${httpPort}`)}
  log-enabled = false
  pprof-enabled = false

[logging]
  format = "logfmt"
  level = "info"

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false

[continuous_queries]
  log-enabled = false
`;
}

/**
 * Start `influxd` as a child process (for `npm start` without PP_INFLUX_URL, and for tests),
 * logging to `influxd.log` in the data dir. Resolves once `/ping` answers; rejects with the tail
 * of that log if influxd exits or does not answer in time.
 */
export async function startManagedInfluxd(opts: ManagedInfluxdOptions): Promise<ManagedInfluxd> {
  const binary = opts.binary ?? findOnPath('influxd');
  if (!binary) throw new Error('influxd not found on PATH (apt-get install influxdb)');
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  // A port picked here was free a moment ago; a connection or another server can still take it
  // before influxd binds it. Then influxd exits with "address already in use" and we try again with
  // fresh ports, but never move an HTTP port the caller chose (a restart must keep its address).
  let httpPort = opts.httpPort ?? (await freePort());
  let rpcPort = await freePort();
  const logPath = join(dataDir, 'influxd.log');
  let child: ChildProcess;
  for (let attempt = 1; ; attempt++) {
    try {
      child = await launch(binary, dataDir, httpPort, rpcPort, opts);
      break;
    } catch (err) {
      const taken = err instanceof PortTaken ? err.port : null;
      const ours = taken === rpcPort || (taken === httpPort && opts.httpPort === undefined);
      if (!ours || attempt >= 3) throw err;
      opts.logger?.warn({ port: taken, attempt }, 'managed influxd: port taken before influxd bound it; retrying on another');
      if (taken === httpPort) httpPort = await freePort();
      rpcPort = await freePort();
    }
  }
  const url = `http://127.0.0.1:${httpPort}`;
  opts.logger?.info({ url, dataDir, pid: child.pid, logPath }, 'managed influxd is up');

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

/** influxd exited at start-up because another socket holds `port`. */
class PortTaken extends Error {
  constructor(
    message: string,
    readonly port: number,
  ) {
    super(message);
  }
}

/** Start influxd on these ports and resolve once `/ping` answers (see startManagedInfluxd). */
async function launch(binary: string, dataDir: string, httpPort: number, rpcPort: number, opts: ManagedInfluxdOptions): Promise<ChildProcess> {
  const confPath = join(dataDir, 'influxd.conf');
  await writeFile(confPath, influxdConfig(dataDir, httpPort, rpcPort, opts.dataSettings));
  const logPath = join(dataDir, 'influxd.log');
  const pidPath = join(dataDir, 'influxd.pid');
  await stopLeftover(pidPath, opts.logger);
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // Own process group: Ctrl-C in the terminal must not kill influxd before we flushed to it.
    child = spawn(binary, ['-config', confPath], { stdio: ['ignore', logFd, logFd], detached: true, env: influxdEnv(process.env, opts.env) });
  } finally {
    closeSync(logFd); // the child has its own copy
  }
  let spawnError: Error | null = null;
  child.once('error', (err) => (spawnError = err)); // e.g. EACCES: without a listener it would crash us
  if (child.pid) await writeFile(pidPath, String(child.pid));
  const url = `http://127.0.0.1:${httpPort}`;
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const tail = () => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${binary}: ${(spawnError as Error).message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      const last = tail();
      const message = `influxd exited (${child.exitCode ?? child.signalCode}) during start-up; last lines of ${logPath}:\n${last}`;
      const inUse = /listen tcp 127\.0\.0\.1:(\d+): bind: address already in use/.exec(last);
      if (inUse) throw new PortTaken(message, Number(inUse[1]));
      throw new Error(message);
    }
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      // Only an InfluxDB answers with its version header: not some other server on the port.
      if (res.ok && res.headers.has('x-influxdb-version')) return child;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`influxd did not answer on ${url}/ping within ${timeoutMs} ms; last lines of ${logPath}:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
