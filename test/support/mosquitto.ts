import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portOpen, serverLauncher } from './ports.js';

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
  /** Variables added to the broker's environment (benchmarks: e.g. GLIBC_TUNABLES for its allocator). */
  env?: Record<string, string>;
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
  const server = serverLauncher(`mosquitto on port ${port}`, MOSQUITTO_BIN, ['-c', confPath], () => portOpen(port), dataDir, opts.env);
  await server.restart();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dataDir,
    ...server,
  };
}
