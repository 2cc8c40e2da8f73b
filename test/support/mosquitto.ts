import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, GiveUp, waitFor } from './ports.js';

/** Debian installs the broker in /usr/sbin, which is not on every user's PATH. */
const MOSQUITTO_BIN = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

export const SHIPPED_MOSQUITTO_CONF = fileURLToPath(new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url));
/** docker compose's broker: no anonymous clients, a password file and compose.acl (docs/security.md). */
export const COMPOSE_MOSQUITTO_CONF = fileURLToPath(new URL('../../deploy/mosquitto/compose.conf', import.meta.url));
export const COMPOSE_ACL = fileURLToPath(new URL('../../deploy/mosquitto/compose.acl', import.meta.url));

export interface MosquittoOptions {
  /** The shipped file to start from (default: mosquitto.conf). */
  confFile?: string;
  /** Rewrites the file's text first (e.g. the password_file and acl_file paths), before the listener and persistence are set. */
  transform?: (conf: string) => string;
}

export interface MosquittoProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The pid of the running broker, or null while it is killed (benchmarks read its CPU). */
  pid(): number | null;
  /** Output the broker printed (for diagnosing a failing test). */
  log(): string;
  /** Kill with a signal (SIGKILL: crash; SIGTERM: clean stop, saves persistence). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A real Mosquitto on a free port, configured by the project's shipped mosquitto.conf with
 * only the listener and the persistence directory changed, so tests exercise what we ship.
 */
export async function startMosquitto(extraConfig = '', opts: MosquittoOptions = {}): Promise<MosquittoProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-mosquitto-'));
  const shipped = await readFile(opts.confFile ?? SHIPPED_MOSQUITTO_CONF, 'utf8');
  const conf = (opts.transform ? opts.transform(shipped) : shipped)
    .replace(/^listener .*$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dataDir}/`)
    .replace(/^log_dest .*$/m, 'log_dest stderr');
  // Started as root, Mosquitto drops to the `mosquitto` user, which cannot write our temporary
  // (root-owned, 0700) data dir, and persistence fails ("Permission denied"): stay root here.
  const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
  const confPath = join(dataDir, 'mosquitto.conf');
  await writeFile(confPath, `${conf}\n${asRoot}${extraConfig}\n`);
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async () => {
    const proc = spawn(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    proc.once('exit', () => (exited = true));
    await waitFor(async () => {
      if (exited) throw new GiveUp(`mosquitto exited: ${output.slice(-2000)}`);
      return portOpen(port);
    }, 15_000, `mosquitto on port ${port}`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
    child = null;
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dataDir,
    pid: () => (child as ChildProcess | null)?.pid ?? null,
    log: () => output,
    kill,
    restart: launch,
    stop: async () => {
      await kill('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
