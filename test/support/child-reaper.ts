import type { ChildProcess } from 'node:child_process';

/**
 * Servers and platforms that a test or benchmark starts end with it. Each child registered here
 * gets SIGKILL when this process exits, and when it is interrupted (SIGINT, SIGTERM, SIGHUP):
 * without this, a benchmark stopped half-way left its brokers, influxd and platforms running,
 * and their CPU skewed every figure measured after it.
 */
const children = new Set<ChildProcess>();
let installed = false;

/** Kill `child` (SIGKILL) if it is still running when this process ends; returns it. */
export function reapOnExit<T extends ChildProcess>(child: T): T {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // A listener replaces the signal's default action (ending the process): when ours was the
      // only one, end the process as the signal would have; other listeners (a test runner's)
      // decide for themselves.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
