import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GiveUp, waitFor } from './ports.js';
import { reapOnExit } from './child-reaper.js';

/** One series from `/api/v1/export`: labels, then values and timestamps (ms) in time order. */
export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export interface ExportOptions {
  /**
   * Poll until the matching series hold at least this many samples in all, then return. Without
   * it, poll until the count has not changed for `settleMs`.
   */
  minSamples?: number;
  /** Default 1.5 s: longer than the ~1 s fresh samples take to show (see below). */
  settleMs?: number;
  /** Give up polling after this long and return what is there (default 10 s). */
  timeoutMs?: number;
}

export interface VictoriaMetricsProcess {
  url: string;
  port: number;
  dataDir: string;
  /** What victoria-metrics printed on stderr (errors only), for diagnosing a failing test. */
  log(): string;
  /**
   * Series matching a selector (e.g. `{__name__="telemetry_power_kw",site="s1"}`), read with
   * `/api/v1/export` (JSON lines). See the notes on `startVictoriaMetrics` for how points map
   * to series and why this polls.
   */
  exportSeries(match: string, opts?: ExportOptions): Promise<ExportedSeries[]>;
  stop(): Promise<void>;
}

/**
 * Debian's victoria-metrics (1.79): a real server for the InfluxDB 2.x write API
 * (`POST /api/v2/write`), on a free port with a temporary data dir; with
 * `-promscrape.config=<file>` in `extraArgs` also a Prometheus-compatible scraper.
 *
 * What it does with line protocol (checked against 1.79.5; test/integration/storage has tests):
 * - Field `f` of measurement `m` becomes the series `m_f`; tags become labels (escapes undone);
 *   org and bucket are not labels. Timestamps are kept in milliseconds.
 * - Values are float64 but stored with about 15 significant digits: 0.30000000000000004 reads
 *   back as 0.3, and subnormals such as 5e-324 as 0. Booleans become 1 and 0; string fields
 *   are stored as 0.
 * - A line it cannot parse (e.g. a tag value ending in a backslash, or a newline inside a
 *   string field, which it splits) is skipped with an error in its log, and the request still
 *   gets 204: a 2xx from VictoriaMetrics does not prove every line was stored.
 * - Without deduplication it keeps every sample, so a retried write stores the same
 *   (series, timestamp) twice. `-dedup.minScrapeInterval=1ms` makes export return one sample
 *   per timestamp, as InfluxDB stores one. Unlike InfluxDB, when two writes disagree on the
 *   value, which one is kept is not defined (not always the last written): tests must not
 *   rely on it.
 * - Freshly written samples are not exported at once: they sit in in-memory buffers for up to
 *   ~10 s. `/internal/force_flush` makes samples older than a few seconds visible immediately,
 *   but samples stamped within the last second or so still take about 1 s (measured; the same
 *   with `-search.disableCache`, which therefore is not used). So `exportSeries` flushes and
 *   polls: until it sees `minSamples`, or until the count has settled.
 */
export async function startVictoriaMetrics(extraArgs: string[] = []): Promise<VictoriaMetricsProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'pp-vm-'));
  const child: ChildProcess = reapOnExit(
    spawn('victoria-metrics', [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`, '-retentionPeriod=100y', '-dedup.minScrapeInterval=1ms', '-loggerLevel=ERROR', ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new GiveUp(`victoria-metrics exited: ${stderr.slice(-1000)}`);
    return (await fetch(`${url}/health`)).ok;
  }, 20_000, 'victoria-metrics /health');

  const exportOnce = async (match: string): Promise<ExportedSeries[]> => {
    const flushed = await fetch(`${url}/internal/force_flush`);
    await flushed.arrayBuffer();
    const res = await fetch(`${url}/api/v1/export`, { method: 'POST', body: new URLSearchParams({ 'match[]': match }) });
    const text = await res.text();
    if (!res.ok) throw new Error(`export failed: ${res.status} ${text}`);
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExportedSeries);
  };

  return {
    url,
    port,
    dataDir,
    log: () => stderr,
    exportSeries: async (match, opts = {}) => {
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      const settleMs = opts.settleMs ?? 1500;
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const series = await exportOnce(match);
        const count = series.reduce((n, s) => n + s.values.length, 0);
        if (count !== last) {
          last = count;
          lastChange = Date.now();
        }
        const done = opts.minSamples !== undefined ? count >= opts.minSamples : Date.now() - lastChange >= settleMs;
        if (done || Date.now() > deadline) return series;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
