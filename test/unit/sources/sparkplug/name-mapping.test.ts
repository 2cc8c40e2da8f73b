import { describe, expect, it } from 'vitest';
import { IdMapping, MetricNameMapper, normaliseMetricName, parseSparkplugMapping } from '../../../../src/sources/sparkplug/index.js';
import { convert, IDENTITY } from '../../../../src/sources/sparkplug/units.js';

describe('Sparkplug metric names → PlantPulse metric names', () => {
  it('normalises Sparkplug names into valid metric names', () => {
    expect(normaliseMetricName('Meter/Energy')).toBe('meter_energy');
    expect(normaliseMetricName('Line 1/Motor Temp (°C)')).toBe('line_1_motor_temp_c');
    expect(normaliseMetricName('  __Pressure__ ')).toBe('pressure');
    expect(normaliseMetricName('3Phase/Current')).toBe('m_3phase_current');
    expect(normaliseMetricName('电表/有功功率')).toBeNull();
    expect(normaliseMetricName('///')).toBeNull();
    const long = `${'Folder/'.repeat(12)}Value`;
    const a = normaliseMetricName(long)!;
    const b = normaliseMetricName(`${long}2`)!;
    expect(a).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
    expect(a).toHaveLength(64);
    expect(a).not.toBe(b);
  });

  it('uses the configured mapping first, then normalisation', () => {
    const mapper = new MetricNameMapper({ Power: 'power_kw', 'Meter/Energy': 'energy_kwh' });
    expect(mapper.resolve('Power', undefined)).toMatchObject({ ok: true, name: 'power_kw', mapped: true, conversion: { offset: 0, multiply: 1, divide: 1 } });
    expect(mapper.resolve('Meter/Energy', 'kWh')).toMatchObject({ ok: true, name: 'energy_kwh', mapped: true });
    expect(mapper.resolve('Oil/Level', '%')).toMatchObject({ ok: true, name: 'oil_level', mapped: false });
    expect(mapper.resolve('电表/有功功率', 'kW')).toMatchObject({ ok: false });
  });

  it('converts units into the catalogue unit, and refuses the catalogue name when it cannot', () => {
    const mapper = new MetricNameMapper({ Power: 'power_kw', Temp: 'temperature_c', Press: 'pressure_kpa', HP: 'power_kw' });
    const w = mapper.resolve('Power', 'W');
    expect(w).toMatchObject({ ok: true, name: 'power_kw' });
    expect(w.ok && convert(42100, w.conversion)).toBe(42.1);
    const f = mapper.resolve('Temp', '°F');
    expect(f.ok && convert(212, f.conversion)).toBe(100);
    expect(mapper.resolve('Temp', '℃')).toMatchObject({ name: 'temperature_c', conversion: IDENTITY });
    const bar = mapper.resolve('Press', ' bar ');
    expect(bar.ok && convert(1.5, bar.conversion)).toBe(150);
    const kelvin = new MetricNameMapper({ T: 'temperature_c' }).resolve('T', 'K');
    expect(kelvin.ok && convert(273.15, kelvin.conversion)).toBe(0);
    // Horsepower is not converted: stored under its own name, never as kW.
    expect(mapper.resolve('HP', 'hp')).toMatchObject({ ok: true, name: 'hp', mapped: false, warning: expect.stringContaining('cannot convert') });
    expect(new MetricNameMapper().resolve('power_kw', 'hp')).toMatchObject({ name: 'power_kw_raw' });
  });

  it('refuses a mapping to an invalid metric name at start-up', () => {
    expect(() => new MetricNameMapper({ Power: 'power kW' })).toThrow(/must match/);
  });
});

describe('Sparkplug ids → site / line / device', () => {
  it('maps group → site, edge node → line, device → device by default, node metrics to _node', () => {
    const ids = new IdMapping();
    expect(ids.resolve('plant-1', 'gw-a', 'press-3')).toEqual({ ok: true, ref: { site: 'plant-1', line: 'gw-a', device: 'press-3' } });
    expect(ids.resolve('plant-1', 'gw-a')).toEqual({ ok: true, ref: { site: 'plant-1', line: 'gw-a', device: '_node' } });
  });

  it('rejects ids that are not valid PlantPulse ids, saying which and how to fix it', () => {
    const ids = new IdMapping();
    const r = ids.resolve('Plant 1', 'gw-a', 'press-3');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/group_id "Plant 1" gives site "Plant 1", which is not a valid id.*groups:/);
    expect(ids.resolve('plant-1', 'gw.a').ok).toBe(false);
    expect(ids.resolve('plant-1', 'gw-a', 'dev\u0000').ok).toBe(false);
    expect(ids.resolve('plant-1', '_gateway', 'd').ok).toBe(false);
  });

  it('applies overrides, group-scoped keys before bare ones, with line/device targets', () => {
    const ids = new IdMapping({
      groups: { 'Plant 1': 'plant-1' },
      nodes: { 'Plant 1/Gateway A': 'press-shop', 'Gateway B': 'assembly/gw-b-cabinet' },
      devices: { 'Plant 1/Gateway A/Press 3': 'press-3', 'Robot 7': 'welding/robot-7' },
    });
    expect(ids.resolve('Plant 1', 'Gateway A', 'Press 3')).toEqual({ ok: true, ref: { site: 'plant-1', line: 'press-shop', device: 'press-3' } });
    expect(ids.resolve('Plant 1', 'Gateway A', 'Robot 7')).toEqual({ ok: true, ref: { site: 'plant-1', line: 'welding', device: 'robot-7' } });
    expect(ids.resolve('Plant 1', 'Gateway B')).toEqual({ ok: true, ref: { site: 'plant-1', line: 'assembly', device: 'gw-b-cabinet' } });
    // The scoped key only applies in its group.
    expect(ids.resolve('Plant 2', 'Gateway A', 'd').ok).toBe(false);
  });

  it('refuses a mapping file whose targets are not valid ids, naming the entry', () => {
    expect(() => parseSparkplugMapping('groups:\n  "Plant 1": "plant 1"\n')).toThrow(/groups\.Plant 1: site "plant 1" must match/);
    expect(() => parseSparkplugMapping('nodes:\n  gw: _gateway\n')).toThrow(/reserved/);
    expect(() => parseSparkplugMapping('metrik:\n  a: b\n')).toThrow(/metrik/);
    const m = parseSparkplugMapping('{"groups": {"Plant 1": "plant-1"}, "metrics": {"Power": "power_kw"}}');
    expect(m.ids.resolve('Plant 1', 'gw', 'd')).toEqual({ ok: true, ref: { site: 'plant-1', line: 'gw', device: 'd' } });
    expect(m.metrics.resolve('Power', undefined)).toMatchObject({ name: 'power_kw' });
  });
});
