import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPublisher } from '../../edge-agent/index.js';
import type { Alert } from '../../src/alerts/index.js';
import type { DeviceRef } from '../../src/contract/index.js';
import { QUALITY_RULES } from '../../src/quality/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * Data alerts when workers share the devices (docs/scale-out.md): real nats-server, influxd, two
 * worker processes and an API node; eight devices of one site behind one gateway. A worker holds
 * only part of the gateway's devices, so it raises no gateway delay (nor site completeness)
 * alert from its part; each device's own data alert (offline) is raised by its owner.
 */
const DB = 'nats_data_alerts';
const SITE = 'site-d';
const DEVICES: DeviceRef[] = Array.from({ length: 8 }, (_, i) => ({ site: SITE, line: 'line-1', device: `d-${i}` }));
const QUALITY_ENV = {
  PP_QUALITY_DELAY_PERIOD_S: '10',
  PP_QUALITY_GATEWAY_DELAY_P95_S: '60',
  PP_QUALITY_OFFLINE_ALERT_MIN: '1',
  PP_QUALITY_FLUSH_S: '1',
};

let influx: InfluxdProcess;
let nats: NatsProcess;
let dir: string;
let gateway: GatewayPublisher;
const nodes: PlatformProcess[] = [];

/** The completeness stage's data alerts a node lists (the analytics' `silence` rule is a data alert too). */
async function dataAlerts(node: PlatformProcess): Promise<Alert[]> {
  const res = await fetch(`${node.url}/api/v1/alerts?site=${SITE}&category=data&limit=1000`);
  expect(res.status).toBe(200);
  const rules: string[] = Object.values(QUALITY_RULES);
  return ((await res.json()) as { alerts: Alert[] }).alerts.filter((a) => rules.includes(a.rule));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-nats-data-alerts-'));
  [influx, nats] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE] })]);
  const env = (id: string, role: string) => natsWorkerEnv(nats, { PP_ROLE: role, PP_NATS_WORKER_ID: id, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_DATA_DIR: join(dir, id), ...QUALITY_ENV });
  nodes.push(...(await Promise.all([spawnPlatform(env('worker-1', 'worker')), spawnPlatform(env('worker-2', 'worker')), spawnPlatform({ ...env('api-d', 'api'), PP_LOG_LEVEL: 'info' })])));
}, 120_000);

afterAll(async () => {
  await gateway?.stop().catch(() => undefined);
  for (const p of nodes) await p.kill('SIGTERM');
  await Promise.all([nats?.stop(), influx?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('data alerts with workers sharing the devices', () => {
  it('no worker raises a gateway delay alert from its part of the gateway; each device\'s offline alert is raised by its owner', async () => {
    const [w1, w2, api] = nodes as [PlatformProcess, PlatformProcess, PlatformProcess];
    gateway = new GatewayPublisher({ brokerUrl: nats.mqttUrl, gatewayId: 'gw-d', site: SITE, devices: DEVICES, ...gatewayLogin(SITE) });
    await gateway.connect();
    // A backlog: every reading an hour old, for two delay periods (10 s): the gateway's p95 delay
    // is 3,600 s against a limit of 60 s, on each worker's part of its devices as on the whole.
    const until = Date.now() + 25_000;
    while (Date.now() < until) {
      const ts = Date.now() - 3_600_000;
      await Promise.all(DEVICES.map((d) => gateway.publish(d, [{ ts, m: { temperature_c: 20 } }])));
      await new Promise((r) => setTimeout(r, 1000));
    }
    // The gateway stops: its devices' statuses say offline; after a minute, an alert per device.
    await gateway.stop();
    await waitFor(async () => (await dataAlerts(api)).filter((a) => a.rule === 'device-offline').length === DEVICES.length, 100_000, 'an offline alert per device on the API node', 500);
    const onApi = await dataAlerts(api);
    expect(onApi.map((a) => `${a.line}/${a.device} ${a.rule}`).sort()).toEqual(DEVICES.map((d) => `${d.line}/${d.device} device-offline`));
    // Raised by their owners: each worker holds some of them, none twice.
    const held = await Promise.all([w1, w2].map(async (w) => (await dataAlerts(w)).map((a) => a.device)));
    expect(held.every((h) => h.length > 0), `offline alerts per worker ${held.map((h) => h.length).join('/')}`).toBe(true);
    expect(held.flat().sort()).toEqual(DEVICES.map((d) => d.device));
    // The API node's webhook delivery lease logs as what it is, not as a partition.
    expect(api.output()).toContain('webhook delivery lease acquired');
    expect(api.output()).not.toContain('partition acquired');
    // Nothing aggregate was ever raised, by either worker.
    expect(await queryInfluxQL(influx.url, DB, `SELECT count(value) FROM alert WHERE site = '${SITE}' AND (rule = 'upload-delay-high' OR rule = 'site-completeness-low')`)).toEqual([]);
  }, 180_000);
});
