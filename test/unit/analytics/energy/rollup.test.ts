import { describe, expect, it } from 'vitest';
import { rollup, toEnergyPoint, type EnergyWindow } from '../../../../src/analytics/energy/index.js';

const T0 = Date.UTC(2026, 0, 5, 16, 0, 0);
const MIN = 60_000;

function win(over: Partial<EnergyWindow>): EnergyWindow {
  return {
    start: T0,
    end: T0 + MIN,
    windowMs: MIN,
    site: 'site-01',
    line: 'line-1',
    device: 'dev',
    kwh: 0,
    gasM3: 0,
    steamT: 0,
    waterM3: 0,
    outputUnits: 0,
    idleKwh: 0,
    kgce: 0,
    tce: 0,
    co2Kg: 0,
    kwhPerUnit: null,
    kgcePerUnit: null,
    samples: 0,
    powerFactorAvg: null,
    implausibleJumps: 0,
    notInTce: [],
    notInCo2: [],
    ...over,
  };
}

// Three devices in one minute. kgce = kWh × 0.1229 (+ gas × 1.2143 for the oven); co2 = kWh × 0.5306.
const press1 = win({ device: 'press-1', kwh: 10, outputUnits: 100, idleKwh: 1, kgce: 1.229, tce: 0.001229, co2Kg: 5.306, kwhPerUnit: 0.1, kgcePerUnit: 0.01229, samples: 6, powerFactorAvg: 0.9 });
const press2 = win({ device: 'press-2', kwh: 30, outputUnits: 50, idleKwh: 4, kgce: 3.687, tce: 0.003687, co2Kg: 15.918, kwhPerUnit: 0.6, kgcePerUnit: 0.07374, samples: 6, powerFactorAvg: 0.8 });
const oven = win({
  line: 'line-2',
  device: 'oven-1',
  kwh: 60,
  gasM3: 10,
  steamT: 1,
  kgce: 19.517, // 60 × 0.1229 + 10 × 1.2143 = 7.374 + 12.143
  tce: 0.019517,
  co2Kg: 53.676291, // 60 × 0.5306 + 10 × 2.1840291 = 31.836 + 21.840291
  samples: 5,
  notInTce: ['steam_t'],
  notInCo2: ['steam_t'],
});
const press1Later = win({ device: 'press-1', start: T0 + MIN, end: T0 + 2 * MIN, kwh: 7, outputUnits: 70, kgce: 0.8603, tce: 0.0008603 });

describe('rollup by line', () => {
  const [line1, line2, line1Later] = rollup([press1, press2, oven, press1Later], 'line');
  it('sums additive fields per line and window', () => {
    expect(line1).toMatchObject({ level: 'line', site: 'site-01', line: 'line-1', start: T0, windowMs: MIN, devices: 2, kwh: 40, outputUnits: 150, idleKwh: 5, samples: 12 });
    expect(line1?.kgce).toBeCloseTo(4.916, 12); // 1.229 + 3.687
    expect(line1?.co2Kg).toBeCloseTo(21.224, 12); // 5.306 + 15.918
    expect(line1Later).toMatchObject({ line: 'line-1', start: T0 + MIN, devices: 1, kwh: 7 });
  });
  it('recomputes intensity from the sums: 40 kWh / 150 parts = 0.2667, not the mean of 0.1 and 0.6 (0.35)', () => {
    expect(line1?.kwhPerUnit).toBeCloseTo(40 / 150, 12);
    expect(line1?.kgcePerUnit).toBeCloseTo(4.916 / 150, 12);
  });
  it('power factor weighted by energy: (0.9 × 10 + 0.8 × 30) / 40 = 0.825', () => {
    expect(line1?.powerFactorAvg).toBeCloseTo(0.825, 12);
  });
  it('a line without output has no intensity; carriers left out of tce stay visible', () => {
    expect(line2).toMatchObject({ line: 'line-2', kwhPerUnit: null, kgcePerUnit: null, powerFactorAvg: null, notInTce: ['steam_t'], notInCo2: ['steam_t'] });
  });
});

describe('rollup by site', () => {
  it('one site window: 100 kWh / 150 parts = 0.6667 kWh/part; kgce 1.229 + 3.687 + 19.517 = 24.433', () => {
    const [site, later] = rollup([press1, press2, oven, press1Later], 'site');
    expect(site).toMatchObject({ level: 'site', site: 'site-01', line: null, devices: 3, kwh: 100, gasM3: 10, steamT: 1, outputUnits: 150 });
    expect(site?.kwhPerUnit).toBeCloseTo(100 / 150, 12);
    expect(site?.kgce).toBeCloseTo(24.433, 12);
    expect(site?.tce).toBeCloseTo(0.024433, 12);
    expect(site?.notInTce).toEqual(['steam_t']);
    // Energy-weighted over the devices that report a power factor: the oven reports none.
    expect(site?.powerFactorAvg).toBeCloseTo(0.825, 12);
    expect(later).toMatchObject({ start: T0 + MIN, kwh: 7, kwhPerUnit: 0.1 });
  });
  it('windows of different sizes are never summed together', () => {
    const quarter = win({ device: 'press-1', windowMs: 15 * MIN, end: T0 + 15 * MIN, kwh: 150 });
    const out = rollup([press1, quarter], 'site');
    expect(out.map((r) => [r.windowMs, r.kwh])).toEqual([
      [MIN, 10],
      [15 * MIN, 150],
    ]);
  });
});

describe('toEnergyPoint', () => {
  it('an energy point at the window start: ids and window size as tags, numbers as snake_case fields', () => {
    expect(toEnergyPoint(press1)).toEqual({
      measurement: 'energy',
      tags: { site: 'site-01', line: 'line-1', device: 'press-1', window: '1m' },
      fields: {
        kwh: 10,
        gas_m3: 0,
        steam_t: 0,
        water_m3: 0,
        output_units: 100,
        idle_kwh: 1,
        kgce: 1.229,
        tce: 0.001229,
        co2_kg: 5.306,
        kwh_per_unit: 0.1,
        kgce_per_unit: 0.01229,
        samples: 6,
        power_factor_avg: 0.9,
        implausible_jumps: 0,
      },
      ts: T0,
    });
  });
  it('nulls are left out, never stored as 0; the window tag follows the size', () => {
    const p = toEnergyPoint({ ...oven, windowMs: 15 * MIN });
    expect(p.tags.window).toBe('15m');
    expect(p.fields).not.toHaveProperty('kwh_per_unit');
    expect(p.fields).not.toHaveProperty('kgce_per_unit');
    expect(p.fields).not.toHaveProperty('power_factor_avg');
    expect(Object.values(p.fields).every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    expect(toEnergyPoint({ ...oven, windowMs: 3_600_000 }).tags.window).toBe('1h');
    expect(toEnergyPoint({ ...oven, windowMs: 86_400_000 }).tags.window).toBe('1d');
  });
});
