import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPublisher, gatewayStatusTopic, publishBurst } from '../../edge-agent/index.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { waitFor } from '../support/ports.js';

let broker: MosquittoProcess;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => broker?.stop());

async function subscriber(filter: string) {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `sub-${Math.random().toString(36).slice(2)}` });
  const messages: { topic: string; body: Record<string, unknown>; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, body: JSON.parse(payload.toString()), retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

describe('edge agent publisher on real Mosquitto', () => {
  it('delivers exactly the samples it reports, with contiguous seq per device', async () => {
    const sub = await subscriber('pp/v1/+/+/+/metrics');
    const burst = await publishBurst({ brokerUrl: broker.url, sites: 3, linesPerSite: 2, machinesPerLine: 5, seed: 1, samplesPerDevice: 200, samplesPerMessage: 25 });
    await waitFor(() => sub.messages.length >= burst.messages, 20_000, 'all messages');
    expect(burst.samples).toBe(3 * 2 * 5 * 200);
    expect(sub.messages).toHaveLength(burst.messages);
    const byDevice = new Map<string, { seq: number[]; samples: number }>();
    for (const m of sub.messages) {
      const key = m.topic.split('/').slice(2, 5).join('/');
      const e = byDevice.get(key) ?? { seq: [], samples: 0 };
      e.seq.push(m.body.seq as number);
      e.samples += (m.body.samples as unknown[]).length;
      byDevice.set(key, e);
    }
    expect(byDevice.size).toBe(30);
    for (const [key, e] of byDevice) {
      expect(e.seq, key).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(e.samples).toBe(burst.perDevice.get(key)!.count);
    }
    await sub.client.endAsync();
  });

  it('publishes a retained birth on connect, offline on a clean stop, and the last will on a lost connection', async () => {
    const device = { site: 'site-s', line: 'line-1', device: 'm-001' };
    const gw = new GatewayPublisher({ brokerUrl: broker.url, gatewayId: 'gw-status', site: 'site-s', devices: [device] });
    await gw.connect();
    await waitFor(async () => {
      const late = await subscriber('pp/v1/site-s/#'); // a late subscriber sees the retained births
      await new Promise((r) => setTimeout(r, 100));
      await late.client.endAsync();
      return late.messages.filter((m) => m.retain && m.body.state === 'online').length === 2;
    }, 10_000, 'retained births');

    const sub = await subscriber('pp/v1/site-s/#');
    await gw.stop();
    await waitFor(() => sub.messages.filter((m) => m.body.state === 'offline' && m.body.reason === 'stopped').length === 2, 10_000, 'offline statuses');

    const gw2 = new GatewayPublisher({ brokerUrl: broker.url, gatewayId: 'gw-will', site: 'site-s', devices: [device] });
    await gw2.connect();
    gw2.client.stream.destroy(); // connection lost without DISCONNECT: the broker sends the will
    gw2.client.options.reconnectPeriod = 0;
    await waitFor(() => sub.messages.some((m) => m.topic === gatewayStatusTopic('site-s', 'gw-will') && m.body.reason === 'connection lost'), 10_000, 'last will');
    await gw2.client.endAsync(true);
    await sub.client.endAsync();
  });
});
