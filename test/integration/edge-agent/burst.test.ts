import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMqttMessage, type Sample } from '../../../src/contract/index.js';
import { AGENT_VERSION, gatewayStatusTopic, startSimulatedFactory, type FactoryResult } from '../../../edge-agent/index.js';
import { startMosquitto, type MosquittoProcess } from '../../support/mosquitto.js';
import { waitFor } from '../../support/ports.js';
import { retained, subscribe, type Subscriber } from './subscriber.js';

/** 3 sites × 2 lines × 5 machines × 200 samples through a real Mosquitto, watched by a subscriber. */
const SHAPE = { sites: 3, linesPerSite: 2, machinesPerLine: 5 };
const DEVICES = SHAPE.sites * SHAPE.linesPerSite * SHAPE.machinesPerLine;
const PER_DEVICE = 200;
const PER_MESSAGE = 25;

let broker: MosquittoProcess;
let sub: Subscriber;
let result: FactoryResult;
let startedAt: number;
let finishedAt: number;

beforeAll(async () => {
  broker = await startMosquitto();
  sub = await subscribe(broker.url, 'pp/v1/#', { rap: true });
  startedAt = Date.now();
  const factory = await startSimulatedFactory({ brokerUrl: broker.url, ...SHAPE, seed: 1, mode: 'burst', samplesPerDevice: PER_DEVICE, samplesPerMessage: PER_MESSAGE, maxInFlight: 50 });
  result = await factory.done;
  finishedAt = Date.now();
  // QoS 1 all the way: everything the agent saw acknowledged reaches the subscriber.
  await waitFor(() => sub.on('/metrics').length >= result.messages && sub.on('/status').filter((m) => m.body.state === 'offline').length >= DEVICES + SHAPE.sites, 20_000, 'all messages at the subscriber');
});

afterAll(async () => {
  await sub?.close();
  await broker?.stop();
});

describe('edge agent burst on a real Mosquitto', () => {
  it('the subscriber receives exactly the messages and samples the agent reports', () => {
    expect(result.samples).toBe(DEVICES * PER_DEVICE);
    expect(result.messages).toBe(DEVICES * (PER_DEVICE / PER_MESSAGE));
    expect(result.perDevice.size).toBe(DEVICES);
    const metrics = sub.on('/metrics');
    expect(metrics).toHaveLength(result.messages);
    expect(metrics.reduce((n, m) => n + (m.body.samples as unknown[]).length, 0)).toBe(result.samples);
  });

  it('seq is contiguous per device, and every sample is exactly the one reported as sent', () => {
    const byDevice = new Map<string, { seq: number[]; samples: Sample[] }>();
    for (const m of sub.on('/metrics')) {
      const key = m.topic.split('/').slice(2, 5).join('/');
      const e = byDevice.get(key) ?? { seq: [], samples: [] };
      e.seq.push(m.body.seq as number);
      e.samples.push(...(m.body.samples as Sample[]));
      byDevice.set(key, e);
    }
    expect([...byDevice.keys()].sort()).toEqual([...result.perDevice.keys()].sort());
    for (const [key, e] of byDevice) {
      const tally = result.perDevice.get(key)!;
      expect(e.seq, key).toEqual([...Array(PER_DEVICE / PER_MESSAGE).keys()]);
      expect(tally.lastSeq).toBe(PER_DEVICE / PER_MESSAGE - 1);
      expect(e.samples).toHaveLength(tally.count);
      expect(e.samples).toEqual(result.sent.get(key));
      for (const s of e.samples) expect(result.expected(key, s.ts)).toEqual(s);
      // Spaced by the interval, ending at about "now", none in the future.
      expect(e.samples.every((s, i) => i === 0 || s.ts - e.samples[i - 1]!.ts === 1000)).toBe(true);
      expect(tally.lastTs).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(tally.lastTs).toBeLessThanOrEqual(finishedAt);
    }
  });

  it('every message passes the platform decoder with no rejection', () => {
    for (const m of sub.on('/metrics')) {
      const r = decodeMqttMessage(m.topic, Buffer.from(JSON.stringify(m.body)));
      expect(r.rejections).toEqual([]);
      expect(r.unknownMetrics).toEqual([]);
    }
  });

  it('retained births came before the data, offline statuses after it; the broker keeps the last one', async () => {
    for (const [key, tally] of result.perDevice) {
      const topic = `pp/v1/${key}/status`;
      const statuses = sub.messages.filter((m) => m.topic === topic);
      expect(statuses.map((s) => s.body.state), key).toEqual(['online', 'offline']);
      const [birth, death] = statuses as [(typeof statuses)[0], (typeof statuses)[0]];
      expect(birth.retain && death.retain).toBe(true);
      expect(birth.body).toMatchObject({ gateway: `sim-gw-${tally.ref.site}`, agent: { version: AGENT_VERSION } });
      expect(death.body).toMatchObject({ reason: 'stopped' });
      const data = sub.messages.filter((m) => m.topic === `pp/v1/${key}/metrics`);
      expect(birth.n).toBeLessThan(data[0]!.n);
      expect(death.n).toBeGreaterThan(data.at(-1)!.n);
    }
    for (const site of ['site-01', 'site-02', 'site-03']) {
      const gw = sub.messages.filter((m) => m.topic === gatewayStatusTopic(site, `sim-gw-${site}`));
      expect(gw.map((m) => m.body.state)).toEqual(['online', 'offline']);
      expect((gw[0]!.body.devices as string[]).length).toBe(SHAPE.linesPerSite * SHAPE.machinesPerLine);
    }
    const kept = await retained(broker.url, 'pp/v1/+/+/+/status');
    expect(kept.size).toBe(DEVICES + SHAPE.sites);
    expect([...kept.values()].every((m) => m.body.state === 'offline' && m.body.reason === 'stopped')).toBe(true);
  });
});
