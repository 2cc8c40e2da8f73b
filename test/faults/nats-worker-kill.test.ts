import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../src/analytics/index.js';
import { parseEnergyConfig } from '../../src/analytics/energy/index.js';
import { EMPTY_RULES_CONFIG } from '../../src/analytics/rules/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { publishBurst } from '../../edge-agent/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { gatewayLogin, natsWorkerEnv, startNats, type NatsProcess } from '../support/nats.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { steadyLoad } from '../support/steady-load.js';

/**
 * Two platform workers (real processes) share the 12 partitions of a real NATS JetStream;
 * a gateway publishes MQTT to NATS's MQTT listener. Each device is processed by one worker;
 * one worker SIGKILLed under load: the other takes its partitions over, and InfluxDB ends with
 * exactly what NATS acknowledged to the gateway; a worker added under load gets its share, and
 * the hand-over loses nothing either.
 */
const DB = 'nats_workers';
const SITE = 'site-load';
const UNITS = [...Array.from({ length: 12 }, (_, i) => String(i)), 'unmapped'];
let influx: InfluxdProcess;
let nats: NatsProcess;
const workers = new Map<string, PlatformProcess>();

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
const gateway = () => gatewayLogin(SITE);

async function owned(w: PlatformProcess): Promise<string[]> {
  const body = (await (await fetch(`${w.url}/readyz`)).json()) as { checks: Record<string, { details?: { owned?: string[] } }> } | Record<string, unknown>;
  const found = /"owned":(\[[^\]]*\])/.exec(JSON.stringify(body));
  return found ? (JSON.parse(found[1]!) as string[]) : [];
}

/** Messages each unit's consumer acked on this worker. */
async function ackedByUnit(w: PlatformProcess): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const unit of UNITS) m.set(unit, await scrapeMetric(w.url, 'pp_nats_messages_acked_total', { unit }));
  return m;
}

async function startWorker(id: string): Promise<PlatformProcess> {
  const w = await spawnPlatform(natsWorkerEnv(nats, {
    PP_NATS_WORKER_ID: id,
    PP_NATS_LEASE_TTL_MS: '2000',
    PP_NATS_LEASE_RENEW_MS: '400',
    PP_NATS_ACK_WAIT_S: '3',
    PP_INFLUX_URL: influx.url,
    PP_INFLUX_DATABASE: DB,
  }));
  workers.set(id, w);
  return w;
}

beforeAll(async () => {
  [influx, nats] = await Promise.all([startInfluxd({ database: DB }), startNats({ gatewaySites: [SITE, 'site-01'] })]);
  await Promise.all([startWorker('worker-1'), startWorker('worker-2')]);
}, 90_000);
afterAll(async () => {
  for (const w of workers.values()) await w.kill('SIGTERM');
  await Promise.all([nats?.stop(), influx?.stop()]);
});

describe('two NATS workers, one SIGKILLed under load', () => {
  it('splits the partitions and processes each device on exactly one worker', async () => {
    const [w1, w2] = [workers.get('worker-1')!, workers.get('worker-2')!];
    await waitFor(async () => {
      const [a, b] = [await owned(w1), await owned(w2)];
      return a.length + b.length === UNITS.length && new Set([...a, ...b]).size === UNITS.length && Math.abs(a.length - b.length) <= 1;
    }, 15_000, 'the units split 7/6');
    const load = await steadyLoad({ brokerUrl: nats.mqttUrl, devices: 40, messagesPerSecond: 200, samplesPerMessage: 5, durationMs: 3000, site: SITE, gateway: gateway() }).done;
    await waitFor(async () => (await stored()) === load.samples, 20_000, `${load.samples} samples stored`, 250);
    // Besides telemetry, the gateway and each device publish a status at connect and at stop,
    // which the mapping puts in the same partition as the device's metrics. A status that
    // changes an alert (the offline one at stop) is acked after the device's state is saved for
    // hand-over, so it may be acked a moment after the last sample is stored.
    const total = async () => [...(await ackedByUnit(w1)).values(), ...(await ackedByUnit(w2)).values()].reduce((s, v) => s + v, 0);
    await waitFor(async () => (await total()) >= load.messages + 2 * (40 + 1), 10_000, 'every message acked', 250);
    const [a, b] = [await ackedByUnit(w1), await ackedByUnit(w2)];
    let partitionsUsed = 0;
    for (const unit of UNITS.slice(0, 12)) {
      const [x, y] = [a.get(unit)!, b.get(unit)!];
      if (x + y > 0) partitionsUsed++;
      expect(x === 0 || y === 0, `partition ${unit} acked by both workers (${x}, ${y})`).toBe(true);
    }
    expect(partitionsUsed).toBeGreaterThanOrEqual(10); // 40 devices over 12 partitions
    expect([...a.values()].reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
    expect([...b.values()].reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
    expect([...a.values(), ...b.values()].reduce((s, v) => s + v, 0)).toBe(load.messages + 2 * (40 + 1));
  });

  it('computes each device\'s energy windows exactly as one analytics engine fed all its samples does', async () => {
    // Two hours of the simulated factory, a sample a minute: windows of 1 min to 1 h close.
    const burst = await publishBurst({ brokerUrl: nats.mqttUrl, ...gatewayLogin('site-01'), sites: 1, linesPerSite: 2, machinesPerLine: 6, seed: 11, samplesPerDevice: 120, samplesPerMessage: 10, sampleIntervalMs: 60_000, maxInFlight: 20 });
    const expected = new Map<string, { kwh: number; samples: number }>();
    const engine = new AnalyticsEngine(EMPTY_RULES_CONFIG, parseEnergyConfig({}));
    for (const [key, samples] of burst.sent) {
      const [site, line, device] = key.split('/') as [string, string, string];
      for (const p of engine.process({ site, line, device, seq: null, samples }, Date.now()).points) expected.set(`${key} ${String(p.tags.window)} ${p.ts}`, { kwh: Number(p.fields.kwh), samples: Number(p.fields.samples) });
    }
    expect(expected.size).toBeGreaterThan(12 * 100);
    const rowsOf = () => queryInfluxQL(influx.url, DB, "SELECT kwh, samples FROM energy WHERE site = 'site-01' GROUP BY site, line, device, window");
    await waitFor(async () => (await rowsOf()).length >= expected.size, 20_000, `${expected.size} energy windows stored`, 250);
    const rows = await rowsOf();
    expect(rows).toHaveLength(expected.size);
    for (const r of rows) {
      const want = expected.get(`${r.site}/${r.line}/${r.device} ${r.window} ${r.time}`);
      expect(want, `${r.site}/${r.line}/${r.device} ${r.window} ${r.time}`).toBeDefined();
      expect(Number(r.kwh)).toBeCloseTo(want!.kwh, 9);
      expect(Number(r.samples)).toBe(want!.samples); // a device split over two workers would show fewer
    }
  });

  it('a SIGKILLed worker\'s partitions move to the survivor within seconds, and sent = stored', async () => {
    const [w1, w2] = [workers.get('worker-1')!, workers.get('worker-2')!];
    const before = await stored();
    const load = steadyLoad({ brokerUrl: nats.mqttUrl, devices: 40, messagesPerSecond: 300, samplesPerMessage: 5, durationMs: 6000, site: SITE, gateway: gateway() });
    await waitFor(async () => (await stored()) > before + 500, 10_000, 'load flowing');
    const inflightAtKill = load.progress().samples;
    await w1.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(async () => (await owned(w2)).length === UNITS.length, 10_000, 'the survivor owns every unit', 100);
    const movedMs = Date.now() - killedAt;
    const sent = await load.done;
    expect(inflightAtKill).toBeLessThan(sent.samples); // killed under load, not after it
    await waitFor(async () => (await stored()) - before === sent.samples, 30_000, `all ${sent.samples} samples stored`, 250).catch(async (e) => {
      console.log('worker kill', { sent, stored: (await stored()) - before }, w2.output().slice(-2000));
      throw e;
    });
    console.log(`worker SIGKILLed after ${inflightAtKill} acked samples: its partitions owned again after ${movedMs} ms; sent ${sent.samples}, stored ${(await stored()) - before}`);
    expect(movedMs).toBeLessThan(5000);
    const rows = await queryInfluxQL(influx.url, DB, `SELECT count(power_kw) FROM telemetry WHERE site = '${SITE}' GROUP BY device`);
    expect(rows).toHaveLength(40);
  });

  it('a worker added under load gets half the partitions within seconds, and sent = stored', async () => {
    const w2 = workers.get('worker-2')!;
    const before = await stored();
    const load = steadyLoad({ brokerUrl: nats.mqttUrl, devices: 40, messagesPerSecond: 300, samplesPerMessage: 5, durationMs: 12_000, site: SITE, gateway: gateway() });
    await waitFor(async () => (await stored()) > before + 500, 10_000, 'load flowing');
    const w3 = await startWorker('worker-3');
    const readyAt = Date.now();
    const ackedAtJoin = load.progress().samples;
    await waitFor(async () => {
      const [a, b] = [await owned(w2), await owned(w3)];
      return a.length + b.length === UNITS.length && new Set([...a, ...b]).size === UNITS.length && Math.abs(a.length - b.length) <= 1;
    }, 10_000, 'the units split 7/6 again', 100);
    const balancedMs = Date.now() - readyAt;
    const sent = await load.done;
    expect(ackedAtJoin).toBeLessThan(sent.samples); // joined under load, not after it
    await waitFor(async () => (await stored()) - before === sent.samples, 30_000, `all ${sent.samples} samples stored`, 250);
    console.log(`worker added under load: balanced ${balancedMs} ms after it was ready; sent ${sent.samples}, stored ${(await stored()) - before}`);
    expect(balancedMs).toBeLessThan(5000);
    expect(await scrapeMetric(w3.url, 'pp_samples_stored_total', { source: 'nats' })).toBeGreaterThan(0);
    expect(await scrapeMetric(w2.url, 'pp_nats_ownership_changes_total', { change: 'released' })).toBeGreaterThanOrEqual(6);
  });
});
