import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/contract/index.js';
import { AGENT_VERSION, gatewayStatusTopic, startSimulatedFactory, type SimulatedFactoryOptions } from '../../../edge-agent/index.js';
import { startMosquitto, type MosquittoProcess } from '../../support/mosquitto.js';
import { waitFor } from '../../support/ports.js';
import { retained, subscribe } from './subscriber.js';

let broker: MosquittoProcess;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => broker?.stop());

const realtime = (clientId: string, site = 1): SimulatedFactoryOptions => ({
  brokerUrl: broker.url,
  clientId,
  sites: site,
  linesPerSite: 1,
  machinesPerLine: 3,
  seed: 3,
  sampleIntervalMs: 50,
  publishIntervalMs: 200,
});

describe('edge agent status topics on a real Mosquitto', () => {
  it('realtime: retained births for the gateway and each device, data flowing, offline statuses on stop()', async () => {
    const factory = await startSimulatedFactory({ ...realtime('rt'), recordSamples: true });
    const gwTopic = gatewayStatusTopic('site-01', 'rt-site-01');
    const births = await retained(broker.url, 'pp/v1/site-01/+/+/status');
    expect([...births.keys()].sort()).toEqual([gwTopic, 'pp/v1/site-01/line-01/m-001/status', 'pp/v1/site-01/line-01/m-002/status', 'pp/v1/site-01/line-01/m-003/status'].sort());
    for (const b of births.values()) expect(b.body).toMatchObject({ state: 'online', gateway: 'rt-site-01', agent: { version: AGENT_VERSION } });
    expect(births.get(gwTopic)!.body.devices).toEqual(['line-01/m-001', 'line-01/m-002', 'line-01/m-003']);

    const sub = await subscribe(broker.url, 'pp/v1/site-01/#', { rap: true });
    await waitFor(() => sub.on('/metrics').length >= 6, 10_000, 'realtime data');
    await factory.stop();
    const result = await factory.done;
    await waitFor(() => sub.on('/status').filter((m) => m.body.state === 'offline').length === 4, 10_000, 'offline statuses');
    await sub.close();

    // On subscribing, the retained births are replayed; then the clean stop's offline statuses follow.
    expect(sub.on('/status').map((m) => m.body.state)).toEqual([...Array(4).fill('online'), ...Array(4).fill('offline')]);
    for (const m of sub.on('/status').slice(4)) expect(m).toMatchObject({ retain: true, body: { state: 'offline', reason: 'stopped', gateway: 'rt-site-01' } });
    // What arrived after subscribing is exactly the tail of what the agent reports as sent.
    for (const [key, sent] of result.sent) {
      const got = sub.on(`${key}/metrics`);
      const seqs = got.map((m) => m.body.seq as number);
      expect(seqs, key).toEqual([...Array(seqs.length).keys()].map((i) => seqs[0]! + i));
      expect(seqs.at(-1)).toBe(result.perDevice.get(key)!.lastSeq);
      const samples = got.flatMap((m) => m.body.samples as Sample[]);
      expect(samples).toEqual(sent.slice(sent.length - samples.length));
    }
    const after = await retained(broker.url, 'pp/v1/site-01/+/+/status');
    expect([...after.values()].map((m) => m.body.state)).toEqual(['offline', 'offline', 'offline', 'offline']);
  });

  it('a connection lost without DISCONNECT delivers the last will; after the reconnect the births are back', async () => {
    const factory = await startSimulatedFactory(realtime('will', 2));
    const gw = factory.gateways.get('site-02')!;
    const topic = gatewayStatusTopic('site-02', 'will-site-02');
    const sub = await subscribe(broker.url, 'pp/v1/site-02/#', { rap: true });
    await waitFor(() => sub.on('/metrics').length >= 3, 10_000, 'data before the cut');

    gw.client.stream.destroy(); // the TCP connection dies; no DISCONNECT reaches the broker
    await waitFor(() => sub.messages.some((m) => m.topic === topic && m.body.state === 'offline'), 10_000, 'last will');
    const will = sub.messages.find((m) => m.topic === topic && m.body.state === 'offline')!;
    expect(will).toMatchObject({ retain: true, body: { state: 'offline', reason: 'connection lost', gateway: 'will-site-02', agent: { version: AGENT_VERSION } } });
    // Only the gateway that lost its connection is offline: site-01's gateway is untouched.
    expect(sub.messages.filter((m) => m.body.state === 'offline')).toHaveLength(1);

    // MQTT.js reconnects; the gateway publishes its births again and data keeps flowing.
    await waitFor(() => sub.messages.some((m) => m.topic === topic && m.body.state === 'online' && m.n > will.n), 15_000, 'rebirth');
    const cut = sub.messages.length;
    await waitFor(() => sub.messages.slice(cut).some((m) => m.topic.endsWith('/metrics')), 10_000, 'data after the reconnect');
    expect((await retained(broker.url, topic)).get(topic)!.body.state).toBe('online');

    await factory.stop();
    const result = await factory.done;
    await waitFor(() => sub.messages.filter((m) => m.topic === topic).at(-1)?.body.reason === 'stopped', 10_000, 'clean offline');
    await sub.close();
    // No gap in seq for any device across the reconnect (a resent message may arrive twice).
    for (const [key, tally] of result.perDevice) {
      if (tally.ref.site !== 'site-02') continue;
      const seqs = new Set(sub.on(`${key}/metrics`).map((m) => m.body.seq as number));
      const first = Math.min(...seqs);
      for (let s = first; s <= tally.lastSeq; s++) expect(seqs.has(s), `${key} seq ${s}`).toBe(true);
    }
  });
});
