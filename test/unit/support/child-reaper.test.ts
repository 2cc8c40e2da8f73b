import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/ports.js';

const REAPER = fileURLToPath(new URL('../../support/child-reaper.ts', import.meta.url));

/** A process that starts `sleep 600` through reapOnExit, prints its pid, then waits (or calls process.exit, as the benches end). */
function parent(end: 'wait' | 'exit') {
  const script = `
    import { spawn } from 'node:child_process';
    const { reapOnExit } = await import(${JSON.stringify(REAPER)});
    const child = reapOnExit(spawn('sleep', ['600'], { stdio: 'ignore' }));
    console.log(child.pid);
    ${end === 'wait' ? 'setInterval(() => {}, 1000);' : 'setTimeout(() => process.exit(0), 200);'}
  `;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = new Promise<number>((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    proc.once('exit', () => reject(new Error('parent exited before printing its child')));
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code)));
  return { proc, pid, exited };
}

/** Alive and not a zombie (an orphan waits, dead, for whoever adopts it to reap it). */
const running = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
};

// A benchmark stopped half-way once left its platforms running, and their CPU skewed the runs
// measured after it: what a bench or test starts must end with it.
describe('reapOnExit', () => {
  it('kills the child when the parent is stopped by SIGTERM, and the parent still ends by that signal', async () => {
    const p = parent('wait');
    const child = await p.pid;
    expect(running(child)).toBe(true);
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe('SIGTERM');
    await waitFor(async () => !running(child), 5000, 'the sleep child to end');
  });

  it('kills the child when the parent ends with process.exit', async () => {
    const p = parent('exit');
    const child = await p.pid;
    expect(await p.exited).toBe(0);
    await waitFor(async () => !running(child), 5000, 'the sleep child to end');
  });
});
