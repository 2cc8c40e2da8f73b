import { describe, expect, it } from 'vitest';
import { decodeMqttMessage, type Sample } from '../../../src/contract/index.js';
import { resolveOptions, startSimulatedFactory, type SimulatedFactoryOptions, type StatusMessage } from '../../../edge-agent/index.js';
import { fakeFactory, type FakeMqttClient } from './fake-mqtt.js';

const BASE = { brokerUrl: 'mqtt://broker.test:1883', sites: 2, linesPerSite: 1, machinesPerLine: 3, seed: 42 } satisfies SimulatedFactoryOptions;

function metricsOf(clients: FakeMqttClient[]) {
  return clients.flatMap((c) => c.bodies<{ seq: number; samples: Sample[] }>('/metrics')).map((m) => ({ key: m.topic.split('/').slice(2, 5).join('/'), ...m.body, topic: m.topic }));
}

describe('startSimulatedFactory: burst mode', () => {
  it('publishes samplesPerDevice samples per device, spaced by the interval, ending now, and reports exactly what was acked', async () => {
    const f = fakeFactory();
    const before = Date.now();
    const factory = await startSimulatedFactory({ ...BASE, mode: 'burst', samplesPerDevice: 45, samplesPerMessage: 20, sampleIntervalMs: 500, createClient: f.create });
    const r = await factory.done;
    const after = Date.now();
    expect(f.clients.map((c) => c.options.clientId)).toEqual(['sim-gw-site-01', 'sim-gw-site-02']);
    expect(r.samples).toBe(6 * 45);
    expect(r.messages).toBe(6 * 3); // 20 + 20 + 5 per device
    expect(r.perDevice.size).toBe(6);
    const metrics = metricsOf(f.clients);
    expect(metrics).toHaveLength(r.messages);
    for (const [key, tally] of r.perDevice) {
      const mine = metrics.filter((m) => m.key === key);
      expect(mine.map((m) => m.seq)).toEqual([0, 1, 2]);
      expect(mine.map((m) => m.samples.length)).toEqual([20, 20, 5]);
      const ts = mine.flatMap((m) => m.samples.map((s) => s.ts));
      expect(ts.slice(1).every((t, i) => t - ts[i]! === 500)).toBe(true);
      expect(tally).toMatchObject({ count: 45, messages: 3, lastSeq: 2, firstTs: ts[0], lastTs: ts.at(-1) });
      expect(tally.lastTs).toBeGreaterThanOrEqual(before);
      expect(tally.lastTs).toBeLessThanOrEqual(after); // none in the future
      // expected(): the exact values that went out.
      for (const m of mine) for (const s of m.samples) expect(r.expected(key, s.ts)).toEqual(s);
      expect(r.expected(tally.ref, ts[0]! - 1)).toBeUndefined();
      for (const m of mine) expect(decodeMqttMessage(m.topic, Buffer.from(JSON.stringify({ seq: m.seq, samples: m.samples }))).rejections).toEqual([]);
    }
    // The burst ends with a clean stop: retained offline statuses, normal DISCONNECT.
    for (const c of f.clients) {
      const offline = c.bodies<StatusMessage>('/status').filter((b) => b.body.state === 'offline');
      expect(offline).toHaveLength(4); // 3 devices + the gateway
      expect(c.ended).toEqual({ force: false });
    }
    expect(factory.stats()).toMatchObject({ messages: 18, samples: 270, messagesFailed: 0, inFlight: 0 });
    await factory.stop(); // after done: a no-op
  });

  it('same seed and end time ⇒ the same burst', async () => {
    const burst = async () => {
      const factory = await startSimulatedFactory({ ...BASE, mode: 'burst', samplesPerDevice: 30, endTs: Date.UTC(2026, 0, 1), createClient: fakeFactory().create });
      return (await factory.done).sent;
    };
    const a = await burst();
    expect(await burst()).toEqual(a);
    expect([...a.values()].every((s) => s.length === 30)).toBe(true);
  });

  it('keeps generation behind the window: never more than maxInFlight unacknowledged per gateway', async () => {
    const f = fakeFactory();
    const factory = await startSimulatedFactory({ ...BASE, sites: 1, mode: 'burst', samplesPerDevice: 400, samplesPerMessage: 5, maxInFlight: 4, createClient: f.create });
    const r = await factory.done;
    expect(r.messages).toBe(3 * 80);
    expect(f.clients[0]!.maxOutstanding).toBeLessThanOrEqual(4);
  });

  it('stop() during a burst ends it early; done reports what was acknowledged', async () => {
    const f = fakeFactory();
    const factory = await startSimulatedFactory({ ...BASE, mode: 'burst', samplesPerDevice: 1_000_000, samplesPerMessage: 10, createClient: f.create });
    await new Promise((r) => setTimeout(r, 50));
    await factory.stop();
    const r = await factory.done;
    expect(r.samples).toBeGreaterThan(0);
    expect(r.samples).toBeLessThan(6_000_000);
    expect(r.samples).toBe(metricsOf(f.clients).reduce((n, m) => n + m.samples.length, 0));
    expect(f.clients.every((c) => c.ended !== null)).toBe(true);
  });

  it('a failed publish rejects done (and the gateways still stop)', async () => {
    const f = fakeFactory();
    const factory = await startSimulatedFactory({ ...BASE, mode: 'burst', samplesPerDevice: 100, createClient: f.create });
    for (const c of f.clients) c.failWith = new Error('Quota exceeded');
    await expect(factory.done).rejects.toThrow(/Quota exceeded/);
    expect(f.clients.every((c) => c.ended !== null)).toBe(true);
  });

  it('if one gateway cannot connect, start fails and the others are closed', async () => {
    const f = fakeFactory();
    let n = 0;
    const create: typeof f.create = (url, o) => {
      const c = f.create(url, o);
      if (n++ === 1) (f.clients.at(-1) as FakeMqttClient).refuseWith = new Error('Not authorized');
      return c;
    };
    await expect(startSimulatedFactory({ ...BASE, createClient: create })).rejects.toThrow(/sim-gw-site-02: cannot connect .*Not authorized/);
    expect(f.clients.every((c) => c.ended !== null)).toBe(true);
  });
});

describe('startSimulatedFactory: realtime mode', () => {
  it('samples on a fixed grid, publishes in batches with contiguous seq, and flushes everything on stop()', async () => {
    const f = fakeFactory();
    const startTs = Date.now();
    const factory = await startSimulatedFactory({ ...BASE, sampleIntervalMs: 10, publishIntervalMs: 40, samplesPerMessage: 3, startTs, recordSamples: true, createClient: f.create });
    await new Promise((r) => setTimeout(r, 300));
    const midway = metricsOf(f.clients).length;
    expect(midway).toBeGreaterThan(0);
    factory.injectFault('site-01/line-01/m-002', 'silence');
    await new Promise((r) => setTimeout(r, 100));
    await factory.stop();
    const stoppedAt = Date.now();
    const r = await factory.done;
    const metrics = metricsOf(f.clients);
    expect(r.messages).toBe(metrics.length);
    expect(factory.stats()).toMatchObject({ messages: r.messages, samples: r.samples, samplesBuffered: 0, samplesDropped: 0 });
    for (const [key, tally] of r.perDevice) {
      const mine = metrics.filter((m) => m.key === key);
      expect(mine.map((m) => m.seq)).toEqual([...Array(mine.length).keys()]);
      expect(mine.every((m) => m.samples.length <= 3)).toBe(true);
      const ts = mine.flatMap((m) => m.samples.map((s) => s.ts));
      expect(ts[0]).toBe(startTs);
      expect(ts.every((t, i) => t === startTs + i * 10)).toBe(true); // on the grid, none missing
      expect(tally.lastTs).toBeLessThanOrEqual(stoppedAt);
      for (const m of mine) for (const s of m.samples) expect(r.expected(key, s.ts)).toEqual(s);
    }
    const silenced = r.perDevice.get('site-01/line-01/m-002')!;
    const healthy = r.perDevice.get('site-01/line-01/m-001')!;
    expect(silenced.count).toBeLessThan(healthy.count - 5);
  });

  it('bounds its queue while the broker does not acknowledge: drops (and counts) instead of growing', async () => {
    const f = fakeFactory();
    const factory = await startSimulatedFactory({ ...BASE, sites: 1, sampleIntervalMs: 5, publishIntervalMs: 20, samplesPerMessage: 1, maxInFlight: 2, maxQueuedMessages: 5, stopTimeoutMs: 50, createClient: f.create });
    f.clients[0]!.autoAck = false;
    await new Promise((r) => setTimeout(r, 200));
    const s = factory.stats();
    expect(s.inFlight).toBe(2);
    expect(s.queued).toBeLessThanOrEqual(5 + 3 * 4); // one flush may add a message per device per batch past the check
    expect(s.samplesDropped).toBeGreaterThan(0);
    await factory.stop();
    expect(factory.stats().messagesFailed).toBeGreaterThan(0);
  });
});

describe('factory options', () => {
  it('are validated before anything connects, naming the option', () => {
    expect(() => resolveOptions({ ...BASE, mode: 'burst' })).toThrow(/samplesPerDevice/);
    expect(() => resolveOptions({ ...BASE, brokerUrl: 'localhost' })).toThrow(/brokerUrl/);
    expect(() => resolveOptions({ ...BASE, brokerUrl: 'http://x' })).toThrow(/brokerUrl: unsupported protocol/);
    expect(() => resolveOptions({ ...BASE, samplesPerMessage: 5000 })).toThrow(/samplesPerMessage must be an integer from 1 to 1000/);
    expect(() => resolveOptions({ ...BASE, sampleIntervalMs: 0 })).toThrow(/sampleIntervalMs/);
    expect(() => resolveOptions({ ...BASE, clientId: 'gw/1' })).toThrow(/clientId/);
    expect(() => resolveOptions({ ...BASE, clientId: 'x'.repeat(60) })).toThrow(/clientId/);
    expect(() => resolveOptions({ ...BASE, sites: 0 })).toThrow(/sites/);
    expect(resolveOptions(BASE)).toMatchObject({ mode: 'realtime', clientId: 'sim-gw', sampleIntervalMs: 1000, publishIntervalMs: 5000, samplesPerMessage: 100, maxInFlight: 100, recordSamples: false });
    expect(resolveOptions({ ...BASE, mode: 'burst', samplesPerDevice: 1 })).toMatchObject({ samplesPerMessage: 20, recordSamples: true });
    expect(resolveOptions({ ...BASE, gatewayPrefix: 'old' }).clientId).toBe('old');
  });
});
