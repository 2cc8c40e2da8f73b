import { describe, expect, it } from 'vitest';
import { DataType, decodeSparkplugPayload, encodeSparkplugPayload, float32ToShortest, numericValue } from '../../../../src/sources/sparkplug/index.js';

describe('Sparkplug B payload codec', () => {
  it('round-trips timestamps, seq, names, uint64 aliases, flags and properties', () => {
    const buf = encodeSparkplugPayload({
      timestamp: 1_795_910_400_123,
      seq: 255,
      metrics: [
        { name: 'Meter/Power', alias: 2n ** 40n, timestamp: 1_795_910_400_000, datatype: DataType.Double, value: 41.7, properties: { engUnit: 'kW' } },
        { alias: 7, datatype: DataType.Float, isHistorical: true, isNull: true },
      ],
    });
    const p = decodeSparkplugPayload(buf);
    expect(p.timestamp).toBe(1_795_910_400_123);
    expect(p.seq).toBe(255);
    expect(p.metrics[0]).toMatchObject({ name: 'Meter/Power', alias: 2n ** 40n, timestamp: 1_795_910_400_000, datatype: DataType.Double, value: { kind: 'double', raw: 41.7 }, properties: { engUnit: 'kW' }, isHistorical: false, isNull: false });
    expect(p.metrics[1]).toMatchObject({ alias: 7n, isHistorical: true, isNull: true, value: { kind: 'none' } });
    expect(p.metrics[1]!.name).toBeUndefined();
  });

  it('reads signed integers whichever way the sender packed them into the unsigned field', () => {
    const p = decodeSparkplugPayload(
      encodeSparkplugPayload({
        metrics: [
          { name: 'i8', datatype: DataType.Int8, value: -5 },
          { name: 'i16', datatype: DataType.Int16, value: -32768 },
          { name: 'i32', datatype: DataType.Int32, value: -2_000_000_000 },
          { name: 'i64', datatype: DataType.Int64, value: -9_007_199_254_740_991n },
          { name: 'u32', datatype: DataType.UInt32, value: 4_294_967_295 },
          { name: 'u64', datatype: DataType.UInt64, value: 2n ** 53n },
        ],
      }),
    );
    const values = p.metrics.map((m) => numericValue(m.datatype!, m.value));
    expect(values).toEqual([-5, -32768, -2_000_000_000, -9_007_199_254_740_991, 4_294_967_295, 2 ** 53].map((value) => ({ ok: true, value })));
    // An Int8 -5 sent as 251 (only the low byte, as some implementations do) is still -5.
    expect(numericValue(DataType.Int8, { kind: 'int', raw: 251 })).toEqual({ ok: true, value: -5 });
  });

  it('turns floats into the decimal the gateway meant, booleans into 0/1, and skips the rest by reason', () => {
    const p = decodeSparkplugPayload(
      encodeSparkplugPayload({
        metrics: [
          { name: 'f', datatype: DataType.Float, value: 41.7 },
          { name: 'b', datatype: DataType.Boolean, value: true },
          { name: 's', datatype: DataType.String, value: 'RUN' },
          { name: 'x', datatype: DataType.Bytes, value: 'abc' },
        ],
      }),
    );
    expect(p.metrics[0]!.value).toEqual({ kind: 'float', raw: Math.fround(41.7) });
    expect(numericValue(DataType.Float, p.metrics[0]!.value)).toEqual({ ok: true, value: 41.7 });
    expect(numericValue(DataType.Boolean, p.metrics[1]!.value)).toEqual({ ok: true, value: 1 });
    expect(numericValue(DataType.String, p.metrics[2]!.value)).toEqual({ ok: false, skip: 'string' });
    expect(numericValue(DataType.Bytes, p.metrics[3]!.value)).toEqual({ ok: false, skip: 'bytes' });
    expect(numericValue(DataType.DataSet, { kind: 'dataset' })).toEqual({ ok: false, skip: 'dataset' });
    expect(numericValue(DataType.Template, { kind: 'template' })).toEqual({ ok: false, skip: 'template' });
    expect(numericValue(24, { kind: 'bytes' })).toEqual({ ok: false, skip: 'array' });
    expect(numericValue(DataType.Double, { kind: 'string', raw: '1' })).toEqual({ ok: false, skip: 'type_mismatch' });
    expect(float32ToShortest(Math.fround(0.1))).toBe(0.1);
    expect(float32ToShortest(Math.fround(123456.789))).toBe(123456.79);
  });

  it('throws on bytes that are not a Sparkplug payload', () => {
    expect(() => decodeSparkplugPayload(Buffer.from('{"seq":1,"samples":[]}'))).toThrow();
  });
});
