import { join, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { DiscardSink, NO_HISTORY, createSink, findOnPath, influxHistory, startManagedInfluxd, type HistoryReader, type Sink } from '../storage/index.js';

export interface StorageSetup {
  sink: Sink;
  /** InfluxQL reads for the API (history, energy). */
  history: HistoryReader;
  /** What the banner and /readyz say about storage. */
  description: { kind: 'v1' | 'v2' | 'none'; url?: string; database?: string; managed: boolean };
  stop(): Promise<void>;
}

/**
 * InfluxDB from configuration; else a local `influxd` from PATH as a managed child process with
 * data under PP_DATA_DIR (`npm start` installs it first when missing: influx-install.ts); else
 * no history at all (loudly).
 */
export async function setUpStorage(config: Config, log: Logger): Promise<StorageSetup> {
  const { influx } = config;
  if (influx.url) {
    const sink =
      influx.api === 'v2'
        ? createSink({ kind: 'v2', url: influx.url, org: influx.org, bucket: influx.bucket, token: influx.token ?? '', timeoutMs: influx.timeoutMs })
        : createSink({ kind: 'v1', url: influx.url, database: influx.database, username: influx.username, password: influx.password, timeoutMs: influx.timeoutMs });
    // 2.x/3.x answer InfluxQL on their v1-compatible /query with the bucket as `db` (DBRP mapping).
    const history = influx.api === 'v2' ? influxHistory(influx.url, influx.bucket, { token: influx.token }, influx.timeoutMs) : influxHistory(influx.url, influx.database, { username: influx.username, password: influx.password }, influx.timeoutMs);
    return { sink, history, description: { kind: influx.api, url: influx.url, database: influx.api === 'v1' ? influx.database : influx.bucket, managed: false }, stop: async () => {} };
  }
  const influxd = influx.managed ? findOnPath('influxd') : null;
  if (influxd) {
    const dataDir = resolve(join(config.dataDir, 'influxdb'));
    log.info({ binary: influxd, dataDir }, 'no PP_INFLUX_URL: starting a local influxd');
    const managed = await startManagedInfluxd({ binary: influxd, dataDir, logger: log });
    const sink = createSink({ kind: 'v1', url: managed.url, database: influx.database, timeoutMs: influx.timeoutMs });
    return { sink, history: influxHistory(managed.url, influx.database, {}, influx.timeoutMs), description: { kind: 'v1', url: managed.url, database: influx.database, managed: true }, stop: () => managed.stop() };
  }
  const banner = '*'.repeat(78);
  log.warn(
    `\n${banner}\n  NO INFLUXDB: PP_INFLUX_URL is unset and ${influx.managed ? 'no influxd was found on PATH' : 'PP_INFLUX_MANAGED=false'}.\n  PlantPulse runs WITHOUT HISTORY: samples are validated and counted, then discarded.\n  Set PP_INFLUX_URL, or unset PP_INFLUX_MANAGED and npm start installs InfluxDB.\n${banner}`,
  );
  return { sink: new DiscardSink(), history: NO_HISTORY, description: { kind: 'none', managed: false }, stop: async () => {} };
}
