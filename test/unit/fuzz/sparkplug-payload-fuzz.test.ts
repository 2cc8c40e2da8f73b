import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ERRORS, MIN_TIMESTAMP_MS, METRIC_NAME_PATTERN, type DecodeResult, type Rejection, type TelemetryBatch } from '../../../src/contract/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { telemetryPoints } from '../../../src/pipeline/to-points.js';
import { parseLineProtocol } from '../../../src/sources/line-protocol/index.js';
import { DataType, DeviceStatusRegistry, IdMapping, MetricNameMapper, SparkplugHost, decodeSparkplugPayload, encodeSparkplugPayload, type HostIo, type OutgoingMetric } from '../../../src/sources/sparkplug/index.js';
import { createSparkplugMetrics } from '../../../src/sources/sparkplug/sparkplug-metrics.js';
import { pointsToLineProtocol } from '../../../src/storage/index.js';
import { EdgeNodeMessages } from '../../support/sparkplug-edge-node.js';
import { fuzz } from '../../support/fuzz.js';
import { hostileString } from '../../support/hostile-input.js';

/**
 * Property-based tests of the Sparkplug B side: the protobuf decoder on random bytes, and the
 * host application on random births, data and garbage from an edge node. Whatever arrives, no
 * promise rejects, and every batch handed to the pipeline is one the contract allows and that
 * storage writes as valid line protocol.
 */

const LIMITS = { maxBytes: 1 << 20, maxSamples: 1000, maxMetricsPerSample: 256, maxFutureSkewMs: 300_000 };

describe('Sparkplug payload decoder fuzz', () => {
  it('random bytes decode to a payload or throw an Error, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        let payload;
        try {
          payload = decodeSparkplugPayload(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          return;
        }
        expect(Array.isArray(payload.metrics)).toBe(true);
        for (const m of payload.metrics) {
          expect(typeof m.isNull).toBe('boolean');
          expect(typeof m.value.kind).toBe('string');
        }
      }),
      fuzz(1000),
    );
  });

  it('valid payloads with bytes flipped, cut or appended decode or throw an Error', () => {
    const base = encodeSparkplugPayload({
      timestamp: 1_795_910_400_000,
      seq: 3,
      metrics: [
        { name: 'Power', alias: 1, datatype: DataType.Double, value: 41.5, properties: { engUnit: 'kW' } },
        { name: 'Count', alias: 2n ** 63n, datatype: DataType.UInt64, value: 2n ** 64n - 1n, timestamp: 1 },
        { name: 'Mode', datatype: DataType.String, value: 'AUTO' },
      ],
    });
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(base.length), fc.uint8Array({ maxLength: 8 })).map(([flips, cut, tail]) => {
      const b = Buffer.from(base);
      for (const [at, v] of flips) b[at] = v;
      return Buffer.concat([b.subarray(0, cut), tail]);
    });
    fc.assert(
      fc.property(mutated, (buf) => {
        try {
          decodeSparkplugPayload(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      fuzz(1000),
    );
  });
});

class RecordingIo implements HostIo {
  batches: TelemetryBatch[] = [];
  rejections: Rejection[] = [];
  async ingest(batch: TelemetryBatch) {
    this.batches.push(batch);
  }
  account(result: DecodeResult) {
    this.rejections.push(...result.rejections);
  }
  async publish() {}
  async deadLetter(_topic: string, _payload: Buffer, rejections: Rejection[]) {
    this.rejections.push(...rejections);
  }
}

const LONG_TYPES = new Set<number>([DataType.Int64, DataType.UInt64, DataType.DateTime]);
type Value = NonNullable<OutgoingMetric['value']>;

/** A value the test encoder can put in the datatype's field (64-bit types take bigints). */
function fit(datatype: number, v: Value): Value {
  if (!LONG_TYPES.has(datatype)) return typeof v === 'bigint' ? Number(v) : v;
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
}

/** Mostly plausible metrics (so that data gets through to storage), with hostile ones mixed in. */
function metricArb(now: number): fc.Arbitrary<OutgoingMetric> {
  const numericType = fc.constantFrom(DataType.Int8, DataType.Int16, DataType.Int32, DataType.Int64, DataType.UInt8, DataType.UInt16, DataType.UInt32, DataType.UInt64, DataType.Float, DataType.Double, DataType.Boolean, DataType.DateTime);
  const rarely = fc.constantFrom(false, false, false, true);
  return fc
    .record(
      {
        name: fc.oneof({ arbitrary: fc.constantFrom('Power', 'Meter/Energy', 'Temp (°C)', 'Line 1/Motor Speed'), weight: 3 }, fc.constantFrom('bdSeq', 'Node Control/Rebirth', '中文', '', '__proto__', 'constructor', 'time', 'bad'), hostileString.filter((x) => x.length < 300)),
        alias: fc.oneof({ arbitrary: fc.nat(5), weight: 3 }, fc.bigInt(0n, 2n ** 64n - 1n)),
        timestamp: fc.oneof({ arbitrary: fc.integer({ min: now - 3_600_000, max: now }), weight: 3 }, fc.constantFrom(0, 1, 2 ** 53, now * 1000, now + 86_400_000)),
        datatype: fc.oneof({ arbitrary: numericType, weight: 3 }, fc.integer({ min: 0, max: 40 })),
        value: fc.oneof({ arbitrary: fc.double(), weight: 2 }, fc.integer(), fc.bigInt(-(2n ** 63n), 2n ** 64n - 1n), fc.boolean(), fc.string({ maxLength: 10 }), fc.constant(null)),
        isHistorical: rarely,
        isTransient: rarely,
        isNull: rarely,
        properties: fc.dictionary(fc.constantFrom('engUnit', 'engUnits', 'unit', 'units', 'other'), fc.oneof(fc.constantFrom('W', 'kW', 'MW', '°F', 'K', 'psi', 'hp', '%LEL', ''), fc.string({ maxLength: 8 }), fc.double())),
      },
      { requiredKeys: ['datatype', 'name'] },
    )
    .map((m) => (m.value === undefined || m.value === null ? m : { ...m, value: fit(m.datatype, m.value) }));
}

/** What the host may hand to the pipeline: contract-valid samples that storage writes and reads back. */
function expectStorable(batch: TelemetryBatch, now: number): void {
  for (const id of [batch.site, batch.line, batch.device]) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  for (const s of batch.samples) {
    expect(s.ts >= MIN_TIMESTAMP_MS && s.ts <= now + LIMITS.maxFutureSkewMs).toBe(true);
    for (const [k, v] of Object.entries(s.m)) {
      expect(k).toMatch(METRIC_NAME_PATTERN);
      expect(Number.isFinite(v)).toBe(true);
    }
  }
  const parsed = parseLineProtocol(pointsToLineProtocol(telemetryPoints(batch)));
  expect(parsed.errors).toEqual([]);
  expect(parsed.points).toHaveLength(batch.samples.length);
}

describe('Sparkplug host application fuzz', () => {
  const ids = fc.oneof({ arbitrary: fc.constantFrom('plant-1', 'gw-a', 'press-1'), weight: 4 }, hostileString.filter((x) => x.length < 100));
  const messageKind = fc.constantFrom('ndata', 'ddata', 'ddata', 'ddata', 'dbirth', 'garbage', 'ddeath', 'nbirth');

  it('random births, data and garbage from an edge node: nothing rejects, every stored batch is storable', async () => {
    const now = Date.now();
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(ids, ids, ids, fc.array(metricArb(now), { maxLength: 4 }), fc.array(fc.tuple(messageKind, fc.array(metricArb(now), { maxLength: 4 }), fc.uint8Array({ maxLength: 60 })), { maxLength: 8 }), async (group, node, device, birth, messages) => {
        const io = new RecordingIo();
        const registry = new DeviceStatusRegistry();
        const host = new SparkplugHost(
          // A 1 ms reorder timeout: a message held for a seq gap settles at once instead of after 2 s.
          { mapping: { ids: new IdMapping(), metrics: new MetricNameMapper({ Power: 'power_kw', 'Meter/Energy': 'energy_kwh' }) }, limits: LIMITS, reorderTimeoutMs: 1, rebirthMinIntervalMs: 10_000 },
          io,
          createSparkplugMetrics(new Registry(), registry),
          registry,
          createLogger('silent'),
        );
        const edge = new EdgeNodeMessages(group, node);
        const pending: Promise<void>[] = [];
        const send = (m: { topic: string; payload: Buffer }) => pending.push(host.receive(m.topic, m.payload, now));
        try {
          send(edge.nbirth(birth, now));
          send(edge.dbirth(device, birth, now));
          for (const [kind, metrics, bytes] of messages) {
            if (kind === 'garbage') send({ topic: `spBv1.0/${group}/DDATA/${node}/${device}`, payload: Buffer.from(bytes) });
            else if (kind === 'ddata') send(edge.ddata(device, metrics, now));
            else if (kind === 'ndata') send(edge.ndata(metrics, now));
            else if (kind === 'dbirth') send(edge.dbirth(device, metrics, now));
            else if (kind === 'nbirth') send(edge.nbirth(metrics, now));
            else send(edge.ddeath(device, now));
          }
        } finally {
          host.close(); // stores what was held for reordering, clears timers
        }
        const settled = await Promise.allSettled(pending);
        expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
        for (const b of io.batches) expectStorable(b, now);
        stored += io.batches.length;
        for (const r of io.rejections) expect(Object.keys(ERRORS)).toContain(r.code);
      }),
      fuzz(80),
    );
    expect(stored).toBeGreaterThan(20); // not vacuous: many runs do store data
  });
});
