import { describe, expect, it } from 'vitest';
import { BirthCertificate, DataType, MetricNameMapper, decodeSparkplugPayload, encodeSparkplugPayload, type OutgoingMetric, type SparkplugMetric } from '../../../../src/sources/sparkplug/index.js';
import { metricsToSamples } from '../../../../src/sources/sparkplug/to-samples.js';

const decode = (metrics: OutgoingMetric[]) => decodeSparkplugPayload(encodeSparkplugPayload({ metrics })).metrics;
/** A DATA metric that refers to its birth by alias and/or name. */
const ref = (p: { alias?: bigint; name?: string }): SparkplugMetric => ({ isHistorical: false, isTransient: false, isNull: false, properties: {}, value: { kind: 'none' }, ...p });
const mapper = new MetricNameMapper({ Power: 'power_kw', 'Meter/Energy': 'energy_kwh' });

describe('birth certificates (alias → metric maps)', () => {
  const birth = new BirthCertificate(
    decode([
      { name: 'bdSeq', datatype: DataType.Int64, value: 3 },
      { name: 'Power', alias: 10, datatype: DataType.Float, value: 41500, properties: { engUnit: 'W' } },
      { name: 'Meter/Energy', alias: 11, datatype: DataType.Double, value: 1000.5, properties: { engUnit: 'kWh' } },
      { name: 'Mode', alias: 12, datatype: DataType.String, value: 'AUTO' },
      { name: 'Running', alias: 13, datatype: DataType.Boolean, value: true },
      { name: 'Oil/Temperature', alias: 14, datatype: DataType.Int16, value: -4, properties: { engUnit: '°C' } },
    ]),
    mapper,
  );

  it('maps aliases and names to definitions with datatype, target and unit', () => {
    expect(birth.problems).toEqual([]);
    expect(birth.lookup(ref({ alias: 10n }))).toMatchObject({ sparkplugName: 'Power', datatype: DataType.Float, unit: 'W', target: { name: 'power_kw', unit: 'kW', conversion: { multiply: 1, divide: 1000 } } });
    expect(birth.lookup(ref({ name: 'Meter/Energy' }))).toMatchObject({ target: { name: 'energy_kwh' } });
    expect(birth.lookup(ref({ alias: 12n }))).toMatchObject({ skip: 'string' });
    expect(birth.lookup(ref({ name: 'bdSeq' }))).toMatchObject({ skip: 'control' });
    expect(birth.lookup(ref({ alias: 99n }))).toBeUndefined();
    // An unknown alias with a known name still resolves (some gateways send both).
    expect(birth.lookup(ref({ alias: 99n, name: 'Running' }))).toMatchObject({ target: { name: 'running' } });
    expect(birth.describe()).toEqual({
      power_kw: { sparkplugName: 'Power', unit: 'kW' },
      energy_kwh: { sparkplugName: 'Meter/Energy', unit: 'kWh' },
      running: { sparkplugName: 'Running' },
      oil_temperature: { sparkplugName: 'Oil/Temperature', unit: '°C' },
    });
    expect(birth.notes).toEqual(['Power in W converted to kW']);
  });

  it('reads DATA by alias: units converted, booleans 0/1, strings skipped, is_null bad, historical apart', () => {
    const data = decode([
      { alias: 10, timestamp: 1_795_910_401_000, datatype: DataType.Float, value: 42000 },
      { alias: 13, timestamp: 1_795_910_401_000, datatype: DataType.Boolean, value: false },
      { alias: 12, timestamp: 1_795_910_401_000, datatype: DataType.String, value: 'MANUAL' },
      { alias: 14, timestamp: 1_795_910_401_000, datatype: DataType.Int16, isNull: true },
      { alias: 11, timestamp: 1_795_910_300_000, datatype: DataType.Double, value: 999.25, isHistorical: true },
      { alias: 77, timestamp: 1_795_910_401_000, datatype: DataType.Double, value: 1 },
    ]);
    const out = metricsToSamples(data, (m) => birth.lookup(m), 1_795_910_402_000, 'DBIRTH of g/n/d');
    expect(out.live).toEqual([{ ts: 1_795_910_401_000, m: { power_kw: 42, running: 0 }, bad: ['oil_temperature'] }]);
    expect(out.historical).toEqual([{ ts: 1_795_910_300_000, m: { energy_kwh: 999.25 } }]);
    expect([...out.skipped]).toEqual([['string', 1]]);
    expect(out.undefinedMetrics).toBe(1);
    expect(out.rejections).toEqual([{ code: 'PP_ERR_SPARKPLUG_NO_BIRTH', path: 'metrics[5]', reason: expect.stringContaining('alias 77 is not in the DBIRTH of g/n/d') }]);
  });

  it('reports faulty births: missing names, reused aliases, names colliding after normalisation', () => {
    const b = new BirthCertificate(
      decode([
        { name: 'Speed', alias: 1, datatype: DataType.Double, value: 1 },
        { alias: 2, datatype: DataType.Double, value: 2 },
        { name: 'Feed', alias: 1, datatype: DataType.Double, value: 3 },
        { name: 'Line Speed', alias: 3, datatype: DataType.Double, value: 4 },
        { name: 'Line/Speed', alias: 4, datatype: DataType.Double, value: 5 },
      ]),
      mapper,
    );
    expect(b.problems.map((p) => p.index)).toEqual([1, 2]);
    expect(b.problems[1]!.reason).toMatch(/alias 1 of "Feed" is already used by "Speed"/);
    expect(b.lookup(ref({ alias: 1n }))).toMatchObject({ sparkplugName: 'Speed' });
    expect(b.lookup(ref({ alias: 4n }))?.rejection).toMatch(/both become metric line_speed/);
  });
});
