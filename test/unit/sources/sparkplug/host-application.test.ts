import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecodeResult, Rejection, TelemetryBatch } from '../../../../src/contract/index.js';
import { createLogger } from '../../../../src/observability/index.js';
import { DataType, DeviceStatusRegistry, IdMapping, MetricNameMapper, SparkplugHost, decodeSparkplugPayload, type HostIo } from '../../../../src/sources/sparkplug/index.js';
import { createSparkplugMetrics } from '../../../../src/sources/sparkplug/sparkplug-metrics.js';
import { EdgeNodeMessages, isRebirthRequest, type SparkplugMessage } from '../../../support/sparkplug-edge-node.js';

const REORDER_MS = 2000;
const T0 = 1_795_910_400_000;

class FakeIo implements HostIo {
  batches: TelemetryBatch[] = [];
  accounted: DecodeResult[] = [];
  published: { topic: string; payload: string | Buffer; qos: 0 | 1; retain: boolean }[] = [];
  deadLetters: { topic: string; rejections: Rejection[] }[] = [];
  async ingest(batch: TelemetryBatch) {
    this.batches.push(batch);
  }
  account(result: DecodeResult) {
    this.accounted.push(result);
  }
  async publish(topic: string, payload: string | Buffer, o: { qos: 0 | 1; retain: boolean }) {
    this.published.push({ topic, payload, ...o });
  }
  async deadLetter(topic: string, _payload: Buffer, rejections: Rejection[]) {
    this.deadLetters.push({ topic, rejections });
  }
  rebirths(node = 'gw-a') {
    return this.published.filter((p) => p.topic === `spBv1.0/plant-1/NCMD/${node}` && isRebirthRequest(p.payload as Buffer));
  }
  statuses() {
    return this.published.filter((p) => p.topic.startsWith('pp/v1/')).map((p) => ({ topic: p.topic, retain: p.retain, qos: p.qos, body: JSON.parse(String(p.payload)) as { state: string; reason?: string; gateway: string } }));
  }
}

let io: FakeIo;
let registry: DeviceStatusRegistry;
let counters: ReturnType<typeof createSparkplugMetrics>;
let host: SparkplugHost;
let edge: EdgeNodeMessages;
const send = (m: SparkplugMessage) => host.receive(m.topic, m.payload, Date.now());
const power = (value: number, ts: number) => ({ alias: 1, timestamp: ts, datatype: DataType.Double, value });

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  io = new FakeIo();
  registry = new DeviceStatusRegistry();
  counters = createSparkplugMetrics(new Registry(), registry);
  host = new SparkplugHost(
    { mapping: { ids: new IdMapping(), metrics: new MetricNameMapper({ Power: 'power_kw' }) }, limits: { maxBytes: 1 << 20, maxSamples: 1000, maxMetricsPerSample: 256, maxFutureSkewMs: 300_000 }, reorderTimeoutMs: REORDER_MS, rebirthMinIntervalMs: 10_000 },
    io,
    counters,
    registry,
    createLogger('silent'),
  );
  edge = new EdgeNodeMessages('plant-1', 'gw-a', 5);
});
afterEach(() => {
  host.close();
  vi.useRealTimers();
});

async function born() {
  await send(edge.nbirth([], T0));
  await send(edge.dbirth('press-1', [{ name: 'Power', alias: 1, datatype: DataType.Double, value: 40, timestamp: T0 }], T0));
}

describe('Sparkplug host application', () => {
  it('stores birth values and data read through the birth, and announces devices online', async () => {
    await born();
    await send(edge.ddata('press-1', [power(41.5, T0 + 1000)], T0 + 1000));
    expect(io.batches.map((b) => ({ device: b.device, samples: b.samples, historical: b.historical }))).toEqual([
      { device: 'press-1', samples: [{ ts: T0, m: { power_kw: 40 } }], historical: undefined },
      { device: 'press-1', samples: [{ ts: T0 + 1000, m: { power_kw: 41.5 } }], historical: undefined },
    ]);
    expect(io.statuses().map((s) => [s.topic, s.body.state, s.retain, s.qos])).toEqual([
      ['pp/v1/plant-1/gw-a/_node/status', 'online', true, 1],
      ['pp/v1/plant-1/gw-a/press-1/status', 'online', true, 1],
    ]);
    expect(registry.get({ site: 'plant-1', line: 'gw-a', device: 'press-1' })).toMatchObject({ online: true, metrics: { power_kw: { sparkplugName: 'Power', unit: 'kW' } } });
    expect(io.deadLetters).toEqual([]);
  });

  it('holds a message after a seq gap for the reorder timeout; a late arrival closes the gap without a rebirth', async () => {
    await born();
    const m2 = edge.ddata('press-1', [power(1, T0 + 2000)]);
    const m3 = edge.ddata('press-1', [power(2, T0 + 3000)]);
    const p3 = send(m3);
    await vi.advanceTimersByTimeAsync(REORDER_MS - 100);
    expect(io.batches).toHaveLength(1); // only the birth so far: 3 waits for 2
    await send(m2);
    await p3;
    expect(io.batches.slice(1).map((b) => b.samples[0]!.m.power_kw)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(REORDER_MS * 2);
    expect(io.rebirths()).toHaveLength(0);
  });

  it('a gap still open after the reorder timeout publishes NCMD Node Control/Rebirth and stores the held data', async () => {
    await born();
    edge.skip();
    const held = send(edge.ddata('press-1', [power(7, T0 + 5000)]));
    await vi.advanceTimersByTimeAsync(REORDER_MS - 1);
    expect(io.rebirths()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await held;
    const [req] = io.rebirths();
    expect(req).toMatchObject({ qos: 0, retain: false });
    expect(decodeSparkplugPayload(req!.payload as Buffer).metrics[0]).toMatchObject({ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: { kind: 'boolean', raw: true } });
    expect(io.batches.at(-1)!.samples).toEqual([{ ts: T0 + 5000, m: { power_kw: 7 } }]);
    // Following messages continue from the held one's seq.
    await send(edge.ddata('press-1', [power(8, T0 + 6000)]));
    expect(io.batches.at(-1)!.samples[0]!.m.power_kw).toBe(8);
    expect(io.rebirths()).toHaveLength(1);
  });

  it('rejects NDATA before any NBIRTH and requests a rebirth after the reorder timeout, at most once per interval', async () => {
    await send(edge.ndata([{ alias: 1, datatype: DataType.Double, value: 1 }]));
    expect(io.deadLetters[0]!.rejections[0]!.code).toBe('PP_ERR_SPARKPLUG_NO_BIRTH');
    expect(io.accounted[0]!.batch).toBeNull();
    expect(io.rebirths()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(REORDER_MS);
    expect(io.rebirths()).toHaveLength(1);
    await send(edge.ndata([{ alias: 1, datatype: DataType.Double, value: 1 }]));
    await vi.advanceTimersByTimeAsync(REORDER_MS);
    expect(io.rebirths()).toHaveLength(1); // within the 10 s minimum interval
    await vi.advanceTimersByTimeAsync(10_000);
    await send(edge.ndata([{ alias: 1, datatype: DataType.Double, value: 1 }]));
    await vi.advanceTimersByTimeAsync(REORDER_MS);
    expect(io.rebirths()).toHaveLength(2);
  });

  it('a DDATA for a device without DBIRTH, or with an alias the DBIRTH lacks, is rejected and triggers a rebirth', async () => {
    await born();
    await send(edge.ddata('press-9', [power(1, T0)]));
    expect(io.deadLetters.at(-1)!.rejections[0]).toMatchObject({ code: 'PP_ERR_SPARKPLUG_NO_BIRTH', reason: expect.stringContaining('no DBIRTH for device press-9') });
    await send(edge.ddata('press-1', [power(3, T0 + 1000), { alias: 42, timestamp: T0 + 1000, datatype: DataType.Double, value: 9 }]));
    expect(io.batches.at(-1)!.samples).toEqual([{ ts: T0 + 1000, m: { power_kw: 3 } }]); // the known metric is kept
    expect(io.deadLetters.at(-1)!.rejections).toEqual([expect.objectContaining({ code: 'PP_ERR_SPARKPLUG_NO_BIRTH', path: 'metrics[1]' })]);
    await vi.advanceTimersByTimeAsync(REORDER_MS);
    expect(io.rebirths()).toHaveLength(1);
  });

  it('ignores an NDEATH whose bdSeq is not the current NBIRTH\'s; the matching one takes the node and its devices offline once', async () => {
    await born();
    await send(edge.ndeath(4)); // the will of the previous connection, delivered late
    expect((await counters.staleDeaths.get()).values[0]!.value).toBe(1);
    expect(registry.get({ site: 'plant-1', line: 'gw-a', device: 'press-1' })!.online).toBe(true);
    expect(io.statuses().filter((s) => s.body.state === 'offline')).toHaveLength(0);

    await send(edge.ndeath(5));
    const offline = io.statuses().filter((s) => s.body.state === 'offline');
    expect(offline.map((s) => [s.topic, s.body.reason, s.body.gateway]).sort()).toEqual([
      ['pp/v1/plant-1/gw-a/_node/status', 'connection lost', 'plant-1/gw-a'],
      ['pp/v1/plant-1/gw-a/press-1/status', 'connection lost', 'plant-1/gw-a'],
    ]);
    expect(registry.get({ site: 'plant-1', line: 'gw-a', device: 'press-1' })).toMatchObject({ online: false, reason: 'connection lost' });
    await send(edge.ndeath(5)); // repeated: no second outage announced
    expect(io.statuses().filter((s) => s.body.state === 'offline')).toHaveLength(2);
    // After the death, data needs a new birth.
    await send(edge.ddata('press-1', [power(1, T0)]));
    expect(io.deadLetters.at(-1)!.rejections[0]!.code).toBe('PP_ERR_SPARKPLUG_NO_BIRTH');
  });

  it('DDEATH marks only that device offline (reason device lost)', async () => {
    await born();
    await send(edge.ddeath('press-1', T0 + 9000));
    expect(registry.get({ site: 'plant-1', line: 'gw-a', device: 'press-1' })).toMatchObject({ online: false, reason: 'device lost', since: T0 + 9000 });
    expect(registry.get({ site: 'plant-1', line: 'gw-a', device: '_node' })!.online).toBe(true);
    expect(io.statuses().at(-1)).toMatchObject({ topic: 'pp/v1/plant-1/gw-a/press-1/status', body: { state: 'offline', reason: 'device lost', ts: T0 + 9000 } });
  });

  it('flags is_historical samples on a separate batch and is_null as a bad reading', async () => {
    await born();
    await send(edge.ddata('press-1', [power(5, T0 + 1000), { alias: 1, timestamp: T0 - 60_000, datatype: DataType.Double, value: 4, isHistorical: true }, { alias: 1, timestamp: T0 + 2000, datatype: DataType.Double, isNull: true }]));
    const [live, historical] = io.batches.slice(-2);
    expect(live).toMatchObject({ samples: [{ ts: T0 + 1000, m: { power_kw: 5 } }, { ts: T0 + 2000, m: {}, bad: ['power_kw'] }] });
    expect(live!.historical).toBeUndefined();
    expect(historical).toMatchObject({ historical: true, seq: null, samples: [{ ts: T0 - 60_000, m: { power_kw: 4 } }] });
  });

  it('rejects messages whose ids do not map to valid PlantPulse ids, and undecodable payloads', async () => {
    const hostile = new EdgeNodeMessages('Plant 1', 'gw-a');
    await send(hostile.nbirth([], T0));
    await host.receive('spBv1.0/plant-1/NBIRTH/gw-b', Buffer.from('not protobuf \xff\xff'), T0);
    await host.receive('spBv1.0/plant-1/NBIRTH', Buffer.alloc(0), T0);
    expect(io.deadLetters.map((d) => d.rejections[0]!.code)).toEqual(['PP_ERR_INVALID_ID', 'PP_ERR_SPARKPLUG_PAYLOAD', 'PP_ERR_SPARKPLUG_TOPIC']);
    expect(io.deadLetters[0]!.rejections[0]!.reason).toMatch(/group_id "Plant 1"/);
    expect(io.batches).toHaveLength(0);
    expect(registry.list()).toHaveLength(0);
  });
});

describe('Sparkplug host application shutdown', () => {
  it('stores messages still held for reordering when it is closed, and takes nothing after', async () => {
    vi.useFakeTimers({ now: T0 });
    const io = new FakeIo();
    const registry = new DeviceStatusRegistry();
    const host = new SparkplugHost(
      { mapping: { ids: new IdMapping(), metrics: new MetricNameMapper({ Power: 'power_kw' }) }, limits: { maxBytes: 1 << 20, maxSamples: 1000, maxMetricsPerSample: 256, maxFutureSkewMs: 300_000 }, reorderTimeoutMs: REORDER_MS, rebirthMinIntervalMs: 10_000 },
      io,
      createSparkplugMetrics(new Registry(), registry),
      registry,
      createLogger('silent'),
    );
    const edge = new EdgeNodeMessages('plant-1', 'gw-a');
    const sendTo = (m: SparkplugMessage) => host.receive(m.topic, m.payload, Date.now());
    await sendTo(edge.nbirth([], T0));
    await sendTo(edge.dbirth('press-1', [{ name: 'Power', alias: 1, datatype: DataType.Double, value: 40, timestamp: T0 }], T0));
    edge.skip();
    const held = sendTo(edge.ddata('press-1', [power(9, T0 + 1000)]));
    host.close();
    await held;
    expect(io.batches.at(-1)!.samples).toEqual([{ ts: T0 + 1000, m: { power_kw: 9 } }]);
    await sendTo(edge.ddata('press-1', [power(10, T0 + 2000)]));
    expect(io.batches.at(-1)!.samples[0]!.m.power_kw).toBe(9);
    vi.useRealTimers();
  });
});
