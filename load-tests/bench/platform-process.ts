/**
 * The platform under test, as its own process, built the way `npm start` runs it (tsc output,
 * plain node, no tsx loader), so its CPU and RSS are the platform's alone and its speed is the
 * compiled code's. Built into .tmp/bench-dist so the repository's dist/ is left alone.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, GiveUp, waitFor } from '../../test/support/ports.js';
import { reapOnExit } from '../../test/support/child-reaper.js';
import { START_NODE_FLAGS } from '../../src/app/heap.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIST = join(ROOT, '.tmp', 'bench-dist');

/**
 * Compile src/ and edge-agent/ with the project's build config. tsc emits even when the type
 * check fails (work in progress elsewhere in the tree), so a type error is reported, not fatal.
 */
export async function buildPlatform(say: (s: string) => void, from: { root: string; outDir: string } = { root: ROOT, outDir: BENCH_DIST }): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(from.root, 'tsconfig.build.json'), '--outDir', from.outDir], { cwd: from.root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) say(`  (tsc reported type errors; the emitted code is benchmarked anyway)\n${out.split('\n').slice(0, 5).join('\n')}`);
  if (!existsSync(join(from.outDir, 'src/main.js'))) throw new Error(`build failed: ${out}`);
}

/**
 * An earlier revision of the platform, built for side-by-side runs: its src/ and edge-agent/
 * extracted read-only with `git archive` into .tmp/ (no checkout, no index change) and compiled
 * there; it finds its packages in the repository's node_modules. Returns its dist directory.
 */
export async function buildRevision(rev: string, say: (s: string) => void): Promise<{ dist: string; sha: string }> {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: ROOT, encoding: 'utf8' }).trim();
  const root = join(ROOT, '.tmp', `bench-rev-${sha}`);
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'src/main.js'))) {
    mkdirSync(root, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src edge-agent tsconfig.json tsconfig.build.json | tar -x -C ${JSON.stringify(root)}`], { cwd: ROOT });
    await buildPlatform(say, { root, outDir: dist });
  }
  return { dist, sha };
}

/**
 * The MQTT window a tree ships (`PP_MQTT_RECEIVE_MAXIMUM`'s default in src/config/env-schema.ts):
 * `rev` a revision, or this working tree when absent. The side-by-side benches leave the window
 * unset so each platform runs with its own default, and keep their closed loop's fleet three of
 * that tree's windows ahead so the window, not the fleet, is what limits it.
 */
export function shippedWindow(rev?: string): number {
  const file = 'src/config/env-schema.ts';
  const text = rev ? execFileSync('git', ['show', `${rev}:${file}`], { cwd: ROOT, encoding: 'utf8' }) : readFileSync(join(ROOT, file), 'utf8');
  const m = /PP_MQTT_RECEIVE_MAXIMUM:[^\n]*?\.default\(([\d_]+)\)/.exec(text);
  if (!m) throw new Error(`${rev ?? 'working tree'}: no PP_MQTT_RECEIVE_MAXIMUM default in ${file}`);
  return Number(m[1]!.replace(/_/g, ''));
}

export interface PlatformProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** SIGTERM (graceful: flushes, writes a --cpu-prof profile) and wait for the exit. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=.tmp/prof']. */
  nodeArgs?: string[];
  /** A build other than the working tree's (buildRevision). */
  dist?: string;
  /** Wait for /readyz (default); false: only for the process to be running (a platform busy catching up may not answer). */
  waitReady?: boolean;
}

/**
 * The node flags a build's npm start passes (its src/app/heap.ts START_NODE_FLAGS, e.g. the young
 * generation's size); none for a revision from before they existed. Without them a recent
 * baseline would run with another young generation than this tree, which alone moved one-sample
 * comparisons.
 */
export async function startFlagsOf(dist: string): Promise<string[]> {
  return import(join(dist, 'src/app/heap.js')).then((m: { START_NODE_FLAGS?: readonly string[] }) => [...(m.START_NODE_FLAGS ?? [])], () => []);
}

/** The admin token each spawned platform accepts (its PP_BOOTSTRAP_ADMIN_TOKEN), by URL: `/metrics` needs it (PP_METRICS_AUTH=token). */
const tokenOf = new Map<string, string>();

export async function spawnBuiltPlatform(opts: SpawnOptions): Promise<PlatformProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'pp-bench-data-'));
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PP_SIMULATOR: 'false', PP_INFLUX_MANAGED: 'false', PP_LOG_LEVEL: 'warn', PP_DATA_DIR: dataDir, PP_HTTP_PORT: String(port), ...opts.env };
  // As npm start runs it: each tree with its own start flags.
  const startFlags = opts.dist ? await startFlagsOf(opts.dist) : [...START_NODE_FLAGS];
  const child = reapOnExit(spawn(process.execPath, [...startFlags, ...(opts.nodeArgs ?? []), join(opts.dist ?? BENCH_DIST, 'src/main.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  if (opts.env.PP_BOOTSTRAP_ADMIN_TOKEN) tokenOf.set(url, opts.env.PP_BOOTSTRAP_ADMIN_TOKEN);
  if (opts.waitReady !== false) {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new GiveUp(`platform exited with ${child.exitCode}: ${out.slice(-3000)}`);
      return (await fetch(`${url}/readyz`)).status === 200;
    }, 60_000, 'platform /readyz', 100).catch((err: Error) => {
      // Still running but not ready: what it printed says where its start-up stands.
      child.kill('SIGKILL');
      throw new Error(`${err.message}; the platform printed:\n${out.slice(-3000)}`);
    });
  }
  return {
    url,
    pid: child.pid!,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Prometheus counters or gauges (each summed over its label sets) from the platform's /metrics; one it does not export is `absentAs`. */
export async function scrape(url: string, names: readonly string[], absentAs = 0): Promise<Record<string, number>> {
  const token = tokenOf.get(url);
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`${url}/metrics: HTTP ${res.status} ${await res.text()}`);
  const text = await res.text();
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const brace = line.indexOf('{');
    const name = line.slice(0, brace >= 0 && brace < sp ? brace : sp);
    if (name in out) {
      out[name]! += Number(line.slice(sp + 1));
      seen.add(name);
    }
  }
  for (const n of names) if (!seen.has(n)) out[n] = absentAs;
  return out;
}
