/**
 * CPU and memory of processes and of the machine, from /proc (Linux), so every figure can say
 * how busy the machine was while it was measured: the machine has 2 cores and other work runs on
 * it, and a rate means little without the load it was measured under.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_S = 100;

/** utime + stime of a process, in seconds; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuUserSystem(pid);
  return user + system;
}

/** /proc/<pid>/stat after the command name: fields[0] is the state; null when the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return null;
  }
}

/** A process's CPU seconds in user and in kernel mode (utime, stime); NaN when it is gone. */
export function cpuUserSystem(pid: number): { user: number; system: number } {
  const fields = statFields(pid);
  return fields ? { user: Number(fields[11]) / TICKS_PER_S, system: Number(fields[12]) / TICKS_PER_S } : { user: Number.NaN, system: Number.NaN };
}

/** Minor page faults of a process so far (minflt: a first touch of a page); NaN when it is gone. */
export function minorFaults(pid: number): number {
  return Number(statFields(pid)?.[7] ?? NaN);
}

/**
 * A process's main thread (the JavaScript thread of a Node process): nanoseconds it ran on a CPU
 * and nanoseconds it was runnable but waiting for one (/proc/<pid>/task/<pid>/schedstat). The
 * wait is what tells a thread held back by a busy machine from one that is idle or is the limit.
 */
export function mainThreadNs(pid: number): { run: number; wait: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { run: run!, wait: wait! };
  } catch {
    return { run: Number.NaN, wait: Number.NaN };
  }
}

/** Resident set size now and its peak over the process's life (VmHWM), MiB. */
export function rssMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
export function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export interface WindowUsage {
  seconds: number;
  /** Per named process: CPU used in the window, % of one core. */
  cpuPct: Record<string, number>;
  /** The whole machine: busy %, of all cores (200 % = both cores busy). */
  machinePct: number;
  /** Busy % of all cores not used by the named processes: other work on the machine, our harness included. */
  otherPct: number;
  /** Per named process, its main thread: % of the window on a CPU, and % runnable but waiting for one. */
  mainThread: Record<string, { runPct: number; waitPct: number }>;
  loadAvg1: number;
}

/**
 * CPU used by named processes and by the machine between `start()` and `stop()`.
 * Pids are looked up at both ends, so a process that restarts in between reads as NaN.
 */
export class UsageWindow {
  private t0 = 0;
  private cpu0 = new Map<string, number>();
  private thread0 = new Map<string, { run: number; wait: number }>();
  private m0 = { busy: 0, total: 0 };

  constructor(private readonly pids: () => Record<string, number | null | undefined>) {}

  start(): this {
    this.t0 = performance.now();
    this.m0 = machineJiffies();
    const pids = Object.entries(this.pids());
    this.cpu0 = new Map(pids.map(([k, pid]) => [k, pid ? cpuSeconds(pid) : Number.NaN]));
    this.thread0 = new Map(pids.map(([k, pid]) => [k, pid ? mainThreadNs(pid) : { run: Number.NaN, wait: Number.NaN }]));
    return this;
  }

  stop(): WindowUsage {
    const seconds = (performance.now() - this.t0) / 1000;
    const m1 = machineJiffies();
    const machinePct = ((m1.busy - this.m0.busy) / TICKS_PER_S / seconds) * 100;
    const cpuPct: Record<string, number> = {};
    const mainThread: Record<string, { runPct: number; waitPct: number }> = {};
    let ours = 0;
    const share = (ns: number) => Number(((ns / 1e9 / seconds) * 100).toFixed(1));
    for (const [k, pid] of Object.entries(this.pids())) {
      const pct = pid ? ((cpuSeconds(pid) - (this.cpu0.get(k) ?? Number.NaN)) / seconds) * 100 : Number.NaN;
      cpuPct[k] = Number(pct.toFixed(1));
      if (Number.isFinite(pct)) ours += pct;
      const t0 = this.thread0.get(k) ?? { run: Number.NaN, wait: Number.NaN };
      const t1 = pid ? mainThreadNs(pid) : { run: Number.NaN, wait: Number.NaN };
      mainThread[k] = { runPct: share(t1.run - t0.run), waitPct: share(t1.wait - t0.wait) };
    }
    return { seconds: Number(seconds.toFixed(2)), cpuPct, machinePct: Number(machinePct.toFixed(1)), otherPct: Number(Math.max(0, machinePct - ours).toFixed(1)), mainThread, loadAvg1: loadAverage() };
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak (VmHWM is a lifetime peak). */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: () => number | null,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): number {
    const pid = this.pid();
    const rss = pid ? rssMiB(pid).rss : Number.NaN;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  reset(): void {
    this.peak = 0;
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
