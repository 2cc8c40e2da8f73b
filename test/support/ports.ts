import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { reapOnExit } from './child-reaper.js';

export { freePort } from '../../src/storage/free-port.js';

/** Thrown by a `waitFor` check to stop waiting at once (e.g. the process it waits for died). */
export class GiveUp extends Error {}

/** Poll `check` until it resolves true or `timeoutMs` passes. Errors count as "not yet", except GiveUp. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = 'condition', intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Send `signal` to a server process the tests started and resolve once it exited (at once if it already did). */
export async function killChild(proc: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

/** A server process started by a test helper, its output kept for diagnosing a failing test. */
export interface ServerProcess {
  /** The pid of the running server, or null while it is killed (benchmarks read its CPU). */
  pid(): number | null;
  /** Output the server printed. */
  log(): string;
  /** Kill with a signal (SIGKILL: crash; SIGTERM: clean stop); resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same ports and data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A server that runs `bin args`: `restart` (also the first start) resolves once `ready` says so
 * (its ports answer), or throws with the server's last output if it exits first; `stop` ends it
 * cleanly and deletes `dataDir`. `env` adds variables to the server's environment (this process's).
 */
export function serverLauncher(name: string, bin: string, args: string[], ready: () => Promise<boolean>, dataDir: string, env?: Record<string, string>): ServerProcess {
  let child: ChildProcess | null = null;
  let output = '';
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    await killChild(child, signal);
    child = null;
  };
  return {
    pid: () => child?.pid ?? null,
    log: () => output,
    restart: async () => {
      const proc = reapOnExit(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env }));
      child = proc;
      proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      let exited = false;
      proc.once('exit', () => (exited = true));
      await waitFor(async () => {
        if (exited) throw new GiveUp(`${name} exited: ${output.slice(-2000)}`);
        return ready();
      }, 15_000, name);
    },
    kill,
    stop: async () => {
      await kill('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
