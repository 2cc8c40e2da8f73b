import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_BIN, testNatsConf, type NatsOptions, type NatsProcess } from './nats.js';
import { freePort, portOpen, serverLauncher, waitFor } from './ports.js';

export interface NatsNode extends NatsProcess {
  name: string;
  /** Monitoring URL (/jsz, /healthz). */
  httpUrl: string;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL (a worker's PP_NATS_URL). */
  urls: string[];
  /** The JetStream meta leader's server name now, as the live nodes see it. */
  metaLeader(): Promise<string | null>;
  /** Resolves once every live node sees the same meta leader and all `expected` peers. */
  ready(expected?: number): Promise<void>;
  stop(): Promise<void>;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { name: string; current: boolean }[] };
}

async function jsz(node: NatsNode): Promise<Jsz | null> {
  try {
    const res = await fetch(`${node.httpUrl}/jsz`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as Jsz) : null;
  } catch {
    return null;
  }
}

/**
 * Three nats-server processes on free ports forming one cluster with JetStream, each from the
 * shipped deploy/nats/nats.conf (as startNats) plus its own server name, store dir, monitoring
 * port and a `cluster` block routing to all three. JetStream's meta group needs every server
 * to have a distinct server_name and store dir and the same cluster name; `ready` waits until the
 * meta group has elected a leader seen alike by every node, which R3 streams need.
 */
export async function startNatsCluster(opts: NatsOptions = {}, size = 3): Promise<NatsCluster> {
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ port: await freePort(), mqttPort: await freePort(), httpPort: await freePort(), clusterPort: await freePort() })));
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.clusterPort}`).join(', ');
  const nodes: NatsNode[] = [];
  for (const [i, p] of ports.entries()) {
    const name = `pp-nats-${i + 1}`;
    const dir = await mkdtemp(join(tmpdir(), `pp-${name}-`));
    const base = await testNatsConf(opts, { port: p.port, mqttPort: p.mqttPort, httpPort: p.httpPort, storeDir: dir });
    const conf = `${base.replace(/^server_name: .*$/m, `server_name: ${name}`)}\ncluster {\n  name: pp\n  listen: 127.0.0.1:${p.clusterPort}\n  routes: [${routes}]\n}\n`;
    const confPath = join(dir, 'nats.conf');
    await writeFile(confPath, conf);
    const server = serverLauncher(`${name} on ports ${p.port}, ${p.mqttPort}`, NATS_BIN, ['-c', confPath], async () => (await portOpen(p.port)) && (await portOpen(p.mqttPort)) && (await portOpen(p.httpPort)), dir);
    nodes.push({ name, url: `nats://127.0.0.1:${p.port}`, mqttUrl: `mqtt://127.0.0.1:${p.mqttPort}`, httpUrl: `http://127.0.0.1:${p.httpPort}`, storeDir: dir, ...server });
  }
  // Together: each waits for its ports, and the MQTT listener of a clustered server waits for JetStream.
  await Promise.all(nodes.map((n) => n.restart()));

  const live = () => nodes.filter((n) => n.pid() !== null);
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    metaLeader: async () => {
      for (const n of live()) {
        const leader = (await jsz(n))?.meta_cluster?.leader;
        if (leader) return leader;
      }
      return null;
    },
    ready: async (expected = size) => {
      await waitFor(async () => {
        const seen = await Promise.all(live().map(jsz));
        const leaders = new Set(seen.map((j) => j?.meta_cluster?.leader ?? null));
        return leaders.size === 1 && !leaders.has(null) && seen.every((j) => (j?.meta_cluster?.cluster_size ?? 0) >= expected);
      }, 30_000, `JetStream meta leader seen by every node of ${expected}`, 200);
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
  await cluster.ready();
  return cluster;
}
