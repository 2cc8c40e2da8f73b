import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMqttMessage, type DeviceRef, type Sample } from '../../../src/contract/index.js';
import { AGENT_VERSION, GatewayPublisher, gatewayStatusTopic, type GatewayOptions, type StatusMessage } from '../../../edge-agent/index.js';
import { fakeFactory, type FakeMqttClient } from './fake-mqtt.js';

const A: DeviceRef = { site: 'site-01', line: 'line-01', device: 'm-001' };
const B: DeviceRef = { site: 'site-01', line: 'line-02', device: 'm-007' };
const now = Date.now();
const samples = (n: number, base = now - 10_000): Sample[] => Array.from({ length: n }, (_, i) => ({ ts: base + i * 1000, m: { power_kw: i } }));

async function gateway(opts: Partial<GatewayOptions> = {}, setup?: (c: FakeMqttClient) => void) {
  const f = fakeFactory(setup);
  const gw = new GatewayPublisher({ brokerUrl: 'mqtt://broker.test:1883', gatewayId: 'gw-1', site: 'site-01', devices: [A, B], createClient: f.create, ...opts });
  await gw.connect();
  return { gw, client: f.clients[0]! };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GatewayPublisher', () => {
  it('numbers messages per device: seq starts at 0 and increases by one per message, independently per device', async () => {
    const { gw, client } = await gateway();
    const order = [A, B, A, A, B, A, A, B];
    const seqs = await Promise.all(order.map((ref) => gw.publish(ref, samples(3))));
    expect(seqs).toEqual([0, 0, 1, 2, 1, 3, 4, 2]);
    const metrics = client.bodies<{ seq: number; samples: Sample[] }>('/metrics');
    expect(metrics.filter((m) => m.topic === 'pp/v1/site-01/line-01/m-001/metrics').map((m) => m.body.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(metrics.filter((m) => m.topic === 'pp/v1/site-01/line-02/m-007/metrics').map((m) => m.body.seq)).toEqual([0, 1, 2]);
    for (const m of metrics) {
      expect(m.opts).toMatchObject({ qos: 1 });
      expect(m.opts.retain).toBeFalsy();
      const r = decodeMqttMessage(m.topic, Buffer.from(JSON.stringify(m.body)));
      expect(r.rejections).toEqual([]);
      expect(r.batch!.seq).toBe(m.body.seq);
    }
    expect(gw.stats()).toMatchObject({ messagesPublished: 8, samplesPublished: 24, messagesAcked: 8, samplesAcked: 24, messagesFailed: 0, inFlight: 0 });
  });

  it('rejects invalid input before any side effect, without using up a seq', async () => {
    const { gw, client } = await gateway();
    const before = client.published.length;
    await expect(gw.publish({ ...A, site: 'site-02' }, samples(1))).rejects.toThrow(/not in site site-01/);
    await expect(gw.publish({ ...A, device: 'm 1' }, samples(1))).rejects.toThrow(/must match/);
    await expect(gw.publish({ ...A, line: '_gateway' }, samples(1))).rejects.toThrow(/reserved/);
    await expect(gw.publish(A, [])).rejects.toThrow(/no samples/);
    expect(client.published.length).toBe(before);
    expect(await gw.publish(A, samples(1))).toBe(0);
  });

  it('never has more than maxInFlight publishes waiting for PUBACK', async () => {
    const { gw, client } = await gateway({ maxInFlight: 3 });
    client.autoAck = false;
    client.maxOutstanding = 0;
    const all = Promise.all(Array.from({ length: 20 }, (_, i) => gw.publish(i % 2 ? A : B, samples(2))));
    await tick();
    expect(client.outstanding).toBe(3);
    expect(gw.stats()).toMatchObject({ inFlight: 3, queued: 17, window: 3, messagesPublished: 3, messagesAcked: 0 });
    while (client.heldCount > 0) {
      client.ackOne();
      await tick();
      expect(client.outstanding).toBeLessThanOrEqual(3);
    }
    await all;
    expect(client.maxOutstanding).toBe(3);
    expect(gw.stats()).toMatchObject({ messagesAcked: 20, samplesAcked: 40, inFlight: 0, queued: 0 });
    // Publication order is seq order, even through the queue.
    const seqA = client.bodies<{ seq: number }>('/metrics').filter((m) => m.topic.includes('m-001')).map((m) => m.body.seq);
    expect(seqA).toEqual([...Array(10).keys()]);
  });

  it("honours the broker's MQTT 5 Receive Maximum when it is below maxInFlight", async () => {
    const { gw, client } = await gateway({ maxInFlight: 50 }, (c) => (c.receiveMaximum = 4));
    client.autoAck = false;
    client.maxOutstanding = 0;
    const all = Promise.all(Array.from({ length: 12 }, () => gw.publish(A, samples(1))));
    await tick();
    expect(client.outstanding).toBe(4);
    expect(gw.stats().window).toBe(4);
    while (client.heldCount > 0) {
      client.ackAll();
      await tick();
    }
    await all;
    expect(client.maxOutstanding).toBe(4);
  });

  it('connects as the gateway with a retained last will on the gateway status topic', async () => {
    const { client } = await gateway();
    const o = client.options;
    expect(o.clientId).toBe('gw-1');
    expect(o.protocolVersion).toBe(5);
    expect(o.clean).toBe(true);
    expect(o.will).toMatchObject({ topic: 'pp/v1/site-01/_gateway/gw-1/status', qos: 1, retain: true });
    expect(JSON.parse(o.will!.payload.toString())).toEqual({ state: 'offline', reason: 'connection lost', gateway: 'gw-1', agent: { version: AGENT_VERSION } });
    expect(gatewayStatusTopic('site-01', 'gw-1')).toBe(o.will!.topic);
  });

  it('clean: false keeps a session: MQTT 5 gets a session expiry', async () => {
    const { client } = await gateway({ clean: false, sessionExpirySec: 3600 });
    expect(client.options.clean).toBe(false);
    expect(client.options.properties?.sessionExpiryInterval).toBe(3600);
    const v4 = await gateway({ clean: false, protocolVersion: 4 });
    expect(v4.client.options.protocolVersion).toBe(4);
    expect(v4.client.options.properties).toBeUndefined();
  });

  it('publishes retained births (gateway and every device) on connect and again on every reconnect', async () => {
    const { client } = await gateway();
    const births = () => client.bodies<StatusMessage>('/status');
    expect(births().map((b) => b.topic)).toEqual(['pp/v1/site-01/_gateway/gw-1/status', 'pp/v1/site-01/line-01/m-001/status', 'pp/v1/site-01/line-02/m-007/status']);
    for (const b of births()) {
      expect(b.opts).toMatchObject({ qos: 1, retain: true });
      expect(b.body).toMatchObject({ state: 'online', gateway: 'gw-1', agent: { version: AGENT_VERSION } });
      expect(Math.abs(b.body.ts! - Date.now())).toBeLessThan(5000);
    }
    expect(births()[0]!.body.devices).toEqual(['line-01/m-001', 'line-02/m-007']);
    client.reconnectNow();
    await tick();
    await tick();
    expect(births()).toHaveLength(6);
  });

  it('stop(): waits for PUBACKs, publishes retained offline statuses, then disconnects normally (no will)', async () => {
    const { gw, client } = await gateway();
    client.autoAck = false;
    const pending = gw.publish(A, samples(5));
    const stopped = gw.stop();
    await tick();
    expect(client.ended).toBeNull(); // still waiting for the PUBACK
    client.autoAck = true;
    client.ackAll();
    await stopped;
    expect(await pending).toBe(0);
    const offline = client.bodies<StatusMessage>('/status').filter((b) => b.body.state === 'offline');
    expect(offline.map((b) => b.topic).sort()).toEqual(['pp/v1/site-01/_gateway/gw-1/status', 'pp/v1/site-01/line-01/m-001/status', 'pp/v1/site-01/line-02/m-007/status']);
    for (const b of offline) expect(b.body).toMatchObject({ reason: 'stopped', gateway: 'gw-1' });
    expect(offline.every((b) => b.opts.retain)).toBe(true);
    expect(client.ended).toEqual({ force: false });
    await expect(gw.publish(A, samples(1))).rejects.toThrow(/stopped/);
    await gw.stop(); // idempotent
  });

  it('stop() is bounded: publishes that never get a PUBACK fail instead of hanging', async () => {
    const { gw, client } = await gateway({ stopTimeoutMs: 50, maxInFlight: 1 });
    client.autoAck = false;
    const pending = gw.publish(A, samples(1)).catch((err: Error) => err);
    const queued = gw.publish(B, samples(1)).catch((err: Error) => err);
    await gw.stop();
    expect(String(await pending)).toMatch(/seq 0: gateway stopped before PUBACK/);
    expect(String(await queued)).toMatch(/seq 0: gateway stopped before PUBACK/);
    expect(gw.stats()).toMatchObject({ messagesFailed: 2, inFlight: 0, queued: 0 });
    expect(client.ended).toEqual({ force: true }); // PUBACKs missing: no DISCONNECT, the broker sends the will
  });

  it('a PUBACK with an error reason fails that publish, counts it, and frees its slot', async () => {
    const { gw, client } = await gateway({ maxInFlight: 1 });
    client.failWith = new Error('Not authorized');
    await expect(gw.publish(A, samples(1))).rejects.toThrow(/m-001 seq 0: Not authorized/);
    client.failWith = null;
    expect(await gw.publish(A, samples(1))).toBe(1);
    expect(gw.stats()).toMatchObject({ messagesFailed: 1, messagesAcked: 1, inFlight: 0 });
  });

  it('a refused connection rejects connect() and leaves no reconnect loop behind', async () => {
    const f = fakeFactory((c) => (c.refuseWith = new Error('connect ECONNREFUSED 127.0.0.1:1')));
    const gw = new GatewayPublisher({ brokerUrl: 'mqtt://127.0.0.1:1', gatewayId: 'gw-x', site: 'site-01', devices: [A], createClient: f.create });
    await expect(gw.connect()).rejects.toThrow(/gw-x: cannot connect to mqtt:\/\/127.0.0.1:1: connect ECONNREFUSED/);
    expect(f.clients[0]!.ended).toEqual({ force: true });
    const secret = new GatewayPublisher({ brokerUrl: 'mqtt://gw:hunter2@127.0.0.1:1', gatewayId: 'gw-y', site: 'site-01', devices: [A], createClient: f.create });
    const err = await secret.connect().catch((e: Error) => e);
    expect(String(err)).toContain('cannot connect to mqtt://127.0.0.1:1');
    expect(String(err)).not.toContain('hunter2');
  });

  it('validates its configuration', () => {
    const base = { brokerUrl: 'mqtt://x', gatewayId: 'gw', site: 'site-01', devices: [A], createClient: fakeFactory().create };
    expect(() => new GatewayPublisher({ ...base, gatewayId: 'gw/1' })).toThrow(/gatewayId/);
    expect(() => new GatewayPublisher({ ...base, devices: [{ ...A, site: 'other' }] })).toThrow(/not in site/);
    expect(() => new GatewayPublisher({ ...base, maxInFlight: 0 })).toThrow(/maxInFlight/);
  });

  it('AGENT_VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(AGENT_VERSION).toBe(pkg.version);
  });
});
