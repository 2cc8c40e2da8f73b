import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, NATS_PLATFORM_PASSWORD, natsWorkerEnv, type NatsProcess } from '../support/nats.js';
import { startNatsCluster, type NatsCluster, type NatsNode } from '../support/nats-cluster.js';
import { spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

/**
 * A 3-node NATS cluster (three nats-server processes, routes to all, JetStream meta group) with
 * the telemetry stream, dead letters and both key-value buckets at three replicas
 * (PP_NATS_REPLICAS=3), two worker processes connected to all three nodes. A node following the
 * stream is SIGKILLed under load: what NATS acknowledged to the gateway is all stored, the
 * workers carry on, the node restarts and catches up. The stream's leader SIGKILLed: a new one is
 * elected, the workers carry on, and the next load is all stored. (The leader SIGKILLed *under
 * load* loses acknowledged messages in NATS 2.9.10's MQTT listener: docs/scale-out.md.)
 */
const DB = 'nats_cluster';
const SITE = 'site-cl';
const UNITS = 13;
let influx: InfluxdProcess;
let cluster: NatsCluster;
let nc: NatsConnection;
const workers: PlatformProcess[] = [];

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

async function owned(w: PlatformProcess): Promise<string[]> {
  const found = /"owned":(\[[^\]]*\])/.exec(JSON.stringify(await (await fetch(`${w.url}/readyz`)).json()));
  return found ? (JSON.parse(found[1]!) as string[]) : [];
}

async function allOwned(): Promise<boolean> {
  const lists = await Promise.all(workers.map((w) => owned(w).catch(() => [] as string[])));
  return new Set(lists.flat()).size === UNITS && lists.flat().length === UNITS;
}

async function streamLeader(): Promise<string | undefined> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info('PP_TELEMETRY')).cluster?.leader;
}

beforeAll(async () => {
  [influx, cluster] = await Promise.all([startInfluxd({ database: DB }), startNatsCluster({ gatewaySites: [SITE] })]);
  nc = await connect({ servers: cluster.urls, user: 'platform', pass: NATS_PLATFORM_PASSWORD });
  const env = (id: string) =>
    natsWorkerEnv(cluster.nodes[0] as NatsProcess, {
      PP_NATS_URL: cluster.urls.join(','),
      PP_NATS_REPLICAS: '3',
      PP_NATS_WORKER_ID: id,
      // The defaults (lease TTL 6 s, renewed every 1.5 s): a lease outlives a leader election.
      PP_NATS_ACK_WAIT_S: '5',
      PP_INFLUX_URL: influx.url,
      PP_INFLUX_DATABASE: DB,
    });
  workers.push(await spawnPlatform(env('worker-1')), await spawnPlatform(env('worker-2')));
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.kill('SIGTERM');
  await nc?.close();
  await Promise.all([cluster?.stop(), influx?.stop()]);
});

describe('workers on a 3-node NATS cluster, R3 stream', () => {
  it('keeps the stream, dead letters and buckets at three replicas on three servers', async () => {
    await waitFor(allOwned, 20_000, 'every unit owned by one of the two workers');
    const jsm = await nc.jetstreamManager();
    for (const name of ['PP_TELEMETRY', 'PP_DEAD_LETTER', 'KV_pp_leases', 'KV_pp_device_state']) {
      const info = await jsm.streams.info(name);
      expect(info.config.num_replicas, name).toBe(3);
      expect(info.cluster?.leader, name).toMatch(/^pp-nats-[123]$/);
      expect(info.cluster?.replicas?.map((r) => r.name).sort(), name).toHaveLength(2);
    }
  });

  it('a node SIGKILLed under load (a follower of the stream): sent = stored, the workers carry on, the node catches up', async () => {
    const leader = await streamLeader();
    const gatewayNode: NatsNode = cluster.nodes.find((n) => n.name === leader)!;
    const victim = cluster.nodes.find((n) => n !== gatewayNode)!;
    const before = await stored();
    const load = steadyLoad({ brokerUrl: gatewayNode.mqttUrl, devices: 30, messagesPerSecond: 150, samplesPerMessage: 5, durationMs: 8000, site: SITE, gateway: gatewayLogin(SITE) });
    await waitFor(async () => (await stored()) > before + 500, 15_000, 'load flowing');
    const killedAt = load.progress().samples;
    await victim.kill('SIGKILL');
    const killTime = Date.now();
    const sent = await load.done;
    expect(killedAt).toBeLessThan(sent.samples);
    await waitFor(async () => (await stored()) - before === sent.samples, 60_000, `all ${sent.samples} samples stored`, 500).catch(async (e) => {
      console.log('follower kill', { sent: sent.samples, stored: (await stored()) - before }, workers.map((w) => w.output().slice(-1500)));
      throw e;
    });
    console.log(`${victim.name} (a follower) SIGKILLed after ${killedAt} acknowledged samples: sent ${sent.samples}, stored ${(await stored()) - before}, ${Date.now() - killTime} ms after the kill`);
    await waitFor(allOwned, 20_000, 'every unit owned after the node loss');
    await victim.restart();
    await cluster.ready();
    const jsm = await nc.jetstreamManager();
    await waitFor(async () => {
      const info = await jsm.streams.info('PP_TELEMETRY');
      return (info.cluster?.replicas ?? []).length === 2 && info.cluster!.replicas!.every((r) => r.current);
    }, 30_000, 'the restarted node current again');
  });

  it('the stream\'s leader SIGKILLed: a new one is elected, the workers carry on, and the next load is all stored', async () => {
    const leader = await streamLeader();
    const victim = cluster.nodes.find((n) => n.name === leader)!;
    await victim.kill('SIGKILL');
    const killTime = Date.now();
    await waitFor(async () => {
      const now = await streamLeader().catch(() => undefined);
      return now !== undefined && now !== victim.name;
    }, 30_000, 'a new stream leader', 250);
    await waitFor(allOwned, 30_000, 'every unit owned after the leader loss');
    const gatewayNode = cluster.nodes.find((n) => n !== victim)!;
    const before = await stored();
    const load = await steadyLoad({ brokerUrl: gatewayNode.mqttUrl, devices: 30, messagesPerSecond: 150, samplesPerMessage: 5, durationMs: 3000, site: SITE, gateway: gatewayLogin(SITE) }).done;
    await waitFor(async () => (await stored()) - before === load.samples, 30_000, `all ${load.samples} samples stored`, 250);
    console.log(`stream leader ${victim.name} SIGKILLed: new leader ${await streamLeader()}; a load of ${load.samples} samples through ${gatewayNode.name} all stored ${Date.now() - killTime} ms after the kill`);
    await victim.restart();
    await cluster.ready();
  });
});
