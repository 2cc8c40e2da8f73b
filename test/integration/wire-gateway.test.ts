import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { deviceTopic, gatewayStatusTopic, type DeviceRef } from '../../src/contract/index.js';
import { WireGateway } from '../../load-tests/bench/wire-gateway.js';
import { startMosquitto } from '../support/mosquitto.js';
import { freePort, waitFor } from '../support/ports.js';

// The load generator's gateway, written to the socket by hand, against a real Mosquitto: what a
// subscriber receives must be exactly what the broker acknowledged, and the statuses those of
// the edge agent's gateway.

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

const devices: DeviceRef[] = Array.from({ length: 3 }, (_, i) => ({ site: 'site-w', line: 'line-1', device: `m-${i}` }));

async function subscriber(url: string) {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `sub-${Math.random().toString(36).slice(2, 8)}` });
  cleanup.push(() => client.endAsync(true));
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync('pp/v1/#', { qos: 1 });
  return got;
}

describe('bench: the wire gateway', () => {
  it('publishes QoS 1 within its window, every acknowledged message delivered byte for byte; births and a clean stop as the edge agent', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const got = await subscriber(broker.url);
    const gw = new WireGateway({ brokerUrl: broker.url, gatewayId: 'wire-a', site: 'site-w', devices, maxInFlight: 8 });
    cleanup.push(() => gw.stop());
    await gw.connect();
    await waitFor(async () => got.length >= 4, 10_000, 'births delivered');
    const birth = JSON.parse(got.find((m) => m.topic === gatewayStatusTopic('site-w', 'wire-a'))!.payload) as { state: string; devices: string[] };
    expect(birth).toMatchObject({ state: 'online', devices: ['line-1/m-0', 'line-1/m-1', 'line-1/m-2'] });
    expect(got.filter((m) => m.topic === deviceTopic(devices[1]!, 'status')).map((m) => JSON.parse(m.payload).state)).toEqual(['online']);

    const sent: string[] = [];
    for (let k = 0; k < 300; k++) {
      const payload = JSON.stringify({ seq: Math.floor(k / 3), samples: [{ ts: 1_700_000_000_000 + k, m: { power_kw: k / 7, note_ü: 1 } }] });
      sent.push(payload);
      gw.publish(k % 3, payload, 1);
    }
    // The window: 8 sent, the rest waiting for a packet id.
    expect(gw.inFlight).toBe(8);
    expect(gw.queued).toBe(292);
    await gw.whenIdle();
    expect(gw.failure).toBeNull();
    expect({ messages: gw.messagesAcked, samples: gw.samplesAcked }).toEqual({ messages: 300, samples: 300 });
    await waitFor(async () => got.filter((m) => m.topic.endsWith('/metrics')).length >= 300, 10_000, 'telemetry delivered');
    for (let d = 0; d < 3; d++) {
      expect(got.filter((m) => m.topic === deviceTopic(devices[d]!, 'metrics')).map((m) => m.payload)).toEqual(sent.filter((_, k) => k % 3 === d));
    }

    await gw.stop();
    await waitFor(async () => got.filter((m) => m.payload.includes('"offline"')).length >= 4, 10_000, 'offline statuses delivered');
    const offline = got.filter((m) => m.payload.includes('"offline"')).map((m) => JSON.parse(m.payload) as { reason: string });
    expect(offline.map((o) => o.reason)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']); // no will: a normal DISCONNECT
    expect(() => gw.publish(0, '{}', 1)).toThrow(/stopped/);
  });

  it('writes packets of every size byte for byte over many output buffers, while the socket still sends the earlier ones', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const got = await subscriber(broker.url);
    const gw = new WireGateway({ brokerUrl: broker.url, gatewayId: 'wire-e', site: 'site-w', devices, maxInFlight: 200 });
    cleanup.push(() => gw.stop());
    await gw.connect();
    // A frozen broker reads nothing: the socket keeps what it was given, and sends it while later
    // packets are written (on each PUBACK) once the broker goes on.
    process.kill(broker.pid()!, 'SIGSTOP');
    const sent: string[] = [];
    for (let turn = 0; turn < 20; turn++) {
      // 25 MiB in all, in turns of the event loop: the first window's worth (more than the kernel
      // takes while the broker is frozen) and one more message are larger than a buffer, and
      // buffers are used up within a turn (what is pending moves to the next) and between turns.
      for (let k = 0; k < 100; k++) {
        const n = sent.length;
        const size = n < 200 ? 50_000 + n * 500 : n === 1500 ? 150_000 : 100 + ((n * 7919) % 3000);
        const payload = JSON.stringify({ seq: n, pad: `${n}-`.repeat(size / 4).slice(0, size) });
        sent.push(payload);
        gw.publish(n % 3, payload, 1);
      }
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 100));
    process.kill(broker.pid()!, 'SIGCONT');
    await gw.whenIdle();
    expect(gw.failure).toBeNull();
    expect(gw.messagesAcked).toBe(2000);
    await waitFor(async () => got.filter((m) => m.topic.endsWith('/metrics')).length >= 2000, 20_000, 'telemetry delivered');
    for (let d = 0; d < 3; d++) {
      expect(got.filter((m) => m.topic === deviceTopic(devices[d]!, 'metrics')).map((m) => m.payload)).toEqual(sent.filter((_, k) => k % 3 === d));
    }
  });

  it('keeps to the broker\'s Receive Maximum when it is below its own window', async () => {
    const broker = await startMosquitto('max_inflight_messages 5');
    cleanup.push(() => broker.stop());
    const gw = new WireGateway({ brokerUrl: broker.url, gatewayId: 'wire-b', site: 'site-w', devices, maxInFlight: 100 });
    cleanup.push(() => gw.stop());
    await gw.connect();
    for (let k = 0; k < 40; k++) gw.publish(0, JSON.stringify({ seq: k, samples: [{ ts: 1_700_000_000_000 + k, m: { power_kw: 1 } }] }), 1);
    expect(gw.inFlight).toBe(5);
    await gw.whenIdle();
    expect(gw.messagesAcked).toBe(40);
  });

  it('fails the run when the broker goes away with publishes unacknowledged, and counts only what was acknowledged', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const gw = new WireGateway({ brokerUrl: broker.url, gatewayId: 'wire-c', site: 'site-w', devices, maxInFlight: 50 });
    cleanup.push(() => gw.stop());
    await gw.connect();
    for (let k = 0; k < 100; k++) gw.publish(k % 3, JSON.stringify({ seq: k, samples: [{ ts: 1_700_000_000_000 + k, m: { power_kw: 1 } }] }), 1);
    await gw.whenIdle();
    // Frozen, the broker acknowledges nothing more; then it dies.
    process.kill(broker.pid()!, 'SIGSTOP');
    for (let k = 100; k < 5000; k++) gw.publish(k % 3, JSON.stringify({ seq: k, samples: [{ ts: 1_700_000_000_000 + k, m: { power_kw: 1 } }] }), 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(gw.inFlight).toBe(50);
    await broker.kill('SIGKILL');
    await waitFor(async () => gw.failure !== null, 10_000, 'the lost connection noticed');
    await gw.whenIdle(); // resolves: nothing is left waiting forever
    expect(gw.failure?.message).toMatch(/gateway wire-c.* with \d+ publishes unacknowledged/);
    expect(gw.messagesAcked).toBe(100);
    expect(gw.samplesAcked).toBe(100);
  });

  it('says which broker it could not reach', async () => {
    const port = await freePort();
    const gw = new WireGateway({ brokerUrl: `mqtt://127.0.0.1:${port}`, gatewayId: 'wire-d', site: 'site-w', devices });
    await expect(gw.connect()).rejects.toThrow(new RegExp(`wire-d \\(127.0.0.1:${port}\\): connect ECONNREFUSED`));
    expect(() => new WireGateway({ brokerUrl: 'mqtt://x', gatewayId: 'g', site: 'site-w', devices, maxInFlight: 0 })).toThrow(/maxInFlight must be an integer from 1 to 65,535/);
    expect(() => new WireGateway({ brokerUrl: 'mqtt://x', gatewayId: 'g', site: 'other', devices })).toThrow(/not in site other/);
  });
});
