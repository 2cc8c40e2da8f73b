import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import type { Platform } from '../../src/app/platform.js';
import { startInfluxd, type InfluxdProcess } from './influxd.js';
import { startTestPlatform } from './platform.js';
import { freePort, portOpen, serverLauncher, type ServerProcess } from './ports.js';

/** Debian installs the server in /usr/sbin, which is not on every user's PATH. */
export const NATS_BIN = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';

export const SHIPPED_NATS_CONF = fileURLToPath(new URL('../../deploy/nats/nats.conf', import.meta.url));

/** The platform user's password in test servers: not a secret. */
export const NATS_PLATFORM_PASSWORD = 'platform-test-password';

/** A gateway's password for `site` in test servers (each site gets the shipped gateway user, copied). */
export function gatewayPassword(site: string): string {
  return `gw-${site}-test-password`;
}

export interface NatsOptions {
  /** The N of the shipped `partition(N,1,2,3)` mapping (default: as shipped, 12). */
  partitions?: number;
  /** A gateway user per site, made from the shipped `gw-site-01` user (default ['site-01']). */
  gatewaySites?: string[];
  /** The shipped TLS blocks with these files; without it they are left out (plain nats:// and mqtt://). */
  tls?: { cert: string; key: string };
}

export interface NatsProcess extends ServerProcess {
  /** nats:// URL of the client listener. */
  url: string;
  /** mqtt:// URL of the MQTT listener (gateways). */
  mqttUrl: string;
  storeDir: string;
}

/**
 * A real nats-server with JetStream and its MQTT listener on free ports, configured by the
 * shipped deploy/nats/nats.conf with only the listeners, the store dir, the partition count and
 * the gateway users changed, so tests exercise the mapping and the permissions we ship.
 */
export async function startNats(opts: NatsOptions = {}): Promise<NatsProcess> {
  const [port, mqttPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'pp-nats-'));
  const confPath = join(dir, 'nats.conf');
  await writeFile(confPath, await testNatsConf(opts, { port, mqttPort, storeDir: dir }));
  const server = serverLauncher(`nats-server on ports ${port}, ${mqttPort}`, NATS_BIN, ['-c', confPath], async () => (await portOpen(port)) && (await portOpen(mqttPort)), dir);
  await server.restart();
  return {
    url: `${opts.tls ? 'tls' : 'nats'}://127.0.0.1:${port}`,
    mqttUrl: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${mqttPort}`,
    storeDir: dir,
    ...server,
  };
}

export interface NatsListeners {
  port: number;
  mqttPort: number;
  storeDir: string;
  /** Monitoring port (/jsz, /healthz); none by default. */
  httpPort?: number;
}

/**
 * The shipped deploy/nats/nats.conf with only the listeners, the store dir, the partition count
 * and the gateway users changed (passwords filled in), so tests exercise the mapping and the
 * permissions we ship.
 */
export async function testNatsConf(opts: NatsOptions, l: NatsListeners): Promise<string> {
  const shipped = await readFile(SHIPPED_NATS_CONF, 'utf8');
  const gateway = /\n( *)\{\n\s*user: gw-site-01,[\s\S]*?\n\1\}\n/.exec(shipped);
  if (!gateway) throw new Error('deploy/nats/nats.conf: the gw-site-01 user block was not found');
  const users = (opts.gatewaySites ?? ['site-01']).map((site) => gateway[0].replaceAll('site-01', site).replace('$PP_NATS_GW_SITE01_PASSWORD', `"${gatewayPassword(site)}"`)).join('');
  let conf = shipped
    .replace(gateway[0], users)
    .replace(/^listen: .*$/m, `listen: 127.0.0.1:${l.port}`)
    .replace(/^http: .*$/m, l.httpPort === undefined ? '' : `http: 127.0.0.1:${l.httpPort}`)
    .replace(/^(\s*)listen: 0\.0\.0\.0:1883$/m, `$1listen: 127.0.0.1:${l.mqttPort}`)
    .replace(/store_dir: .*$/m, `store_dir: "${l.storeDir}"`)
    .replace('$PP_NATS_PLATFORM_PASSWORD', `"${NATS_PLATFORM_PASSWORD}"`);
  if (opts.partitions !== undefined) conf = conf.replaceAll('partition(12,', `partition(${opts.partitions},`);
  const tlsBlocks = /\n *tls \{\n[^}]*\}\n/g;
  if ((conf.match(tlsBlocks) ?? []).length !== 2) throw new Error('deploy/nats/nats.conf: expected two tls blocks (clients and MQTT)');
  if (!opts.tls) return conf.replace(tlsBlocks, '\n');
  return conf.replaceAll('/etc/nats/tls/server.crt', opts.tls.cert).replaceAll('/etc/nats/tls/server.key', opts.tls.key);
}

/** Environment of a platform worker consuming from `nats` as the shipped platform user. */
export function natsWorkerEnv(nats: NatsProcess, extra: Record<string, string> = {}): Record<string, string> {
  return { PP_SOURCE: 'nats', PP_NATS_URL: nats.url, PP_NATS_USERNAME: 'platform', PP_NATS_PASSWORD: NATS_PLATFORM_PASSWORD, ...extra };
}

/** Leases and redelivery fast enough for tests that kill workers: a dead worker's partitions move within about 2 s. */
export const FAST_HANDOVER_ENV = { PP_NATS_LEASE_TTL_MS: '2000', PP_NATS_LEASE_RENEW_MS: '400', PP_NATS_ACK_WAIT_S: '3' };

/**
 * A worker of the one-view tests: fast lease handover, the analytics file in `dir`, the view's
 * live summaries and the completeness flush fast enough to watch, its own data directory.
 */
export function viewWorkerEnv(nats: NatsProcess, id: string, where: { influxUrl: string; database: string; dir: string }, extra: Record<string, string> = {}): Record<string, string> {
  return natsWorkerEnv(nats, {
    PP_ROLE: 'worker',
    PP_NATS_WORKER_ID: id,
    ...FAST_HANDOVER_ENV,
    PP_INFLUX_URL: where.influxUrl,
    PP_INFLUX_DATABASE: where.database,
    PP_ANALYTICS_FILE: join(where.dir, 'rules.json'),
    PP_ANALYTICS_TICK_MS: '250',
    PP_VIEW_LIVE_INTERVAL_MS: '200',
    PP_QUALITY_FLUSH_S: '1',
    PP_DATA_DIR: join(where.dir, id),
    ...extra,
  });
}

/** MQTT options of `site`'s gateway user on NATS's MQTT listener (MQTT 3.1.1). */
export function gatewayLogin(site: string) {
  return { username: `gw-${site}`, password: gatewayPassword(site), protocolVersion: 4 as const };
}

/** A NATS client as the platform user (to look at streams and consumers). */
export function connectAsPlatform(nats: NatsProcess): Promise<NatsConnection> {
  return connect({ servers: nats.url, user: 'platform', pass: NATS_PLATFORM_PASSWORD });
}

export interface NatsStack {
  influx: InfluxdProcess;
  nats: NatsProcess;
  /** A worker in this process. */
  platform: Platform;
  /** A client as the platform user. */
  nc: NatsConnection;
  stop(): Promise<void>;
}

/** Real InfluxDB and NATS, one platform worker in this process writing to `database`, and a client. */
export async function startNatsStack(opts: { database: string; nats?: NatsOptions; env?: Record<string, string> }): Promise<NatsStack> {
  const [influx, nats] = await Promise.all([startInfluxd({ database: opts.database }), startNats(opts.nats)]);
  const platform = await startTestPlatform(natsWorkerEnv(nats, { PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: opts.database, ...opts.env }));
  const nc = await connectAsPlatform(nats);
  return {
    influx,
    nats,
    platform,
    nc,
    stop: async () => {
      await nc.close();
      await platform.stop();
      await Promise.all([nats.stop(), influx.stop()]);
    },
  };
}
