/**
 * `npm start` on a fresh Debian machine: when no InfluxDB is configured and no `influxd` is
 * installed, install Debian's `influxdb` package (as root, or with sudo) with the same script
 * `npm test` installs its services with, so that the platform starts with history and no third
 * command is needed. The decision is a pure function of the configuration and of what this host
 * has (`planInflux`); `ensureInflux` carries it out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from '../storage/index.js';

/** The Debian package that provides `influxd` (InfluxDB 1.x, what the managed influxd runs). */
export const INFLUX_PACKAGE = 'influxdb';
const INSTALLER = 'scripts/install-debian-packages.sh';

/** What this host offers, as far as the decision goes. */
export interface InfluxHost {
  /** Path of `influxd` on PATH, or null. */
  influxd: string | null;
  root: boolean;
  sudo: boolean;
  aptGet: boolean;
}

export type InfluxPlan =
  /** PP_INFLUX_URL: an InfluxDB of the operator's; nothing to install. */
  | { kind: 'configured' }
  /** PP_INFLUX_MANAGED=false: the history-less demo, asked for; nothing to install. */
  | { kind: 'opted-out' }
  /** `influxd` is installed: storage-setup.ts starts it as a child process. */
  | { kind: 'managed'; binary: string }
  /** Install the package: as root, or through sudo. */
  | { kind: 'install'; sudo: boolean }
  /** Cannot install from here: stop, and say the one thing to do. */
  | { kind: 'stop'; message: string };

const ALTERNATIVES = 'Or point PlantPulse at an InfluxDB (PP_INFLUX_URL=http://host:8086), or run without history (PP_INFLUX_MANAGED=false).';

export function planInflux(influx: { url?: string; managed: boolean }, host: InfluxHost): InfluxPlan {
  if (influx.url) return { kind: 'configured' };
  if (!influx.managed) return { kind: 'opted-out' };
  if (host.influxd) return { kind: 'managed', binary: host.influxd };
  if (!host.aptGet) return { kind: 'stop', message: `InfluxDB is not installed (no influxd on PATH) and this is not a Debian system (no apt-get): install InfluxDB 1.x so that influxd is on PATH, then run npm start again. ${ALTERNATIVES}` };
  if (host.root) return { kind: 'install', sudo: false };
  if (host.sudo) return { kind: 'install', sudo: true };
  return { kind: 'stop', message: `InfluxDB is not installed (no influxd on PATH) and installing it needs root. As root, run:\n\n    apt-get install -y ${INFLUX_PACKAGE}\n\nthen npm start again. ${ALTERNATIVES}` };
}

export function probeHost(path = process.env.PATH ?? ''): InfluxHost {
  return {
    influxd: findOnPath('influxd', path),
    root: process.getuid?.() === 0,
    sudo: findOnPath('sudo', path) !== null,
    aptGet: findOnPath('apt-get', path) !== null,
  };
}

/** The installer script, found from this module whether it runs from src/ (tsx) or dist/src/. */
function installerPath(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, INSTALLER);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Carries out the plan before the platform starts. Installs with apt-get's progress on this
 * terminal (sudo may ask for a password). Throws with what to do when it cannot: start-up stops
 * rather than running without history nobody asked for.
 */
export function ensureInflux(influx: { url?: string; managed: boolean }, say: (line: string) => void, host: InfluxHost = probeHost()): InfluxPlan {
  const plan = planInflux(influx, host);
  if (plan.kind === 'stop') throw new Error(plan.message);
  if (plan.kind !== 'install') return plan;
  const script = installerPath();
  if (!script) throw new Error(`InfluxDB is not installed and ${INSTALLER} is not here to install it: run apt-get install -y ${INFLUX_PACKAGE} as root. ${ALTERNATIVES}`);
  say(`no PP_INFLUX_URL and no influxd on PATH: installing Debian's ${INFLUX_PACKAGE} package${plan.sudo ? ' with sudo' : ''} (once; PP_INFLUX_MANAGED=false skips this)`);
  const run = spawnSync('bash', [script, INFLUX_PACKAGE], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`installing ${INFLUX_PACKAGE} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}): fix what apt-get said above, or run apt-get install -y ${INFLUX_PACKAGE} as root. ${ALTERNATIVES}`);
  const binary = probeHost().influxd;
  if (!binary) throw new Error(`${INFLUX_PACKAGE} was installed but influxd is still not on PATH (${process.env.PATH ?? ''}): add its directory (usually /usr/bin) to PATH.`);
  say(`installed ${binary}`);
  return { kind: 'managed', binary };
}
