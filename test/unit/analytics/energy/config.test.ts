import { describe, expect, it } from 'vitest';
import {
  EnergyConfigError,
  GRID_FACTORS_MEE_NBS,
  NATURAL_GAS_CO2,
  STANDARD_COAL_GB_T_2589_2020,
  energyConfigSchema,
  parseEnergyConfig,
  resolveSiteSettings,
} from '../../../../src/analytics/energy/index.js';

function problemsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseEnergyConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(EnergyConfigError);
    return (e as EnergyConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('reference coefficients', () => {
  it('GB/T 2589 rows are calorific values in kcal ÷ 7,000 kcal/kgce, rounded to 4 decimals', () => {
    const t = STANDARD_COAL_GB_T_2589_2020;
    const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
    expect(t.electricityKgcePerKwh).toBe(round4(860 / 7000)); // 0.122857… → 0.1229
    expect(t.naturalGasKgcePerM3).toBe(round4(8500 / 7000)); // 1.214285… → 1.2143
    expect(t.rawCoalKgcePerKg).toBe(round4(5000 / 7000)); // 0.714285… → 0.7143
    expect(t.dieselKgcePerKg).toBe(round4(10_200 / 7000)); // 1.457142… → 1.4571
    expect(t.heatKgcePerMj).toBe(round4(1 / t.mjPerKgce)); // 1 ÷ 29.307 = 0.034122… → 0.0341
    expect(t.mjPerKgce).toBeCloseTo((7000 * 4.1868) / 1000, 2); // 29.3076
    expect(t.steamKgcePerT).toBeNull();
  });
  it('natural gas CO2: 56,100 kg/TJ × 38,931 kJ/m³ × 10⁻⁹ TJ/kJ = 2.1840291 kg/m³', () => {
    expect(NATURAL_GAS_CO2.kgCo2PerM3).toBeCloseTo(2.1840291, 9);
  });
  it('grid factors as published: national 2021–2023 and the 2022 regions', () => {
    expect(GRID_FACTORS_MEE_NBS.national).toEqual({ 2021: 0.5568, 2022: 0.5366, 2023: 0.5306 });
    expect(GRID_FACTORS_MEE_NBS.regional).toEqual({
      North: 0.6776,
      East: 0.5617,
      Central: 0.5395,
      Northwest: 0.5857,
      Northeast: 0.5564,
      South: 0.3869,
      Southwest: 0.2268,
    });
  });
});

describe('energyConfigSchema: defaults', () => {
  it('{} is valid and fills every default', () => {
    const c = energyConfigSchema.parse({});
    expect(c.kgce).toEqual({ energy_kwh: 0.1229, gas_m3: 1.2143 });
    expect(c.gasKgCo2PerM3).toBeCloseTo(2.1840291, 9);
    expect(c.steamKgcePerT).toBeUndefined();
    expect(c.sites).toEqual({});
    expect(c.counters).toEqual({
      rolloverModulus: {},
      rolloverNearFraction: 0.1,
      maxRatePerHour: { energy_kwh: 100_000, gas_m3: 20_000, steam_t: 500, water_m3: 10_000, output_units: 10_000_000 },
    });
    expect(c.windows).toEqual({ sizes: ['1m', '15m', '1h', '1d'], maxGapMs: 900_000, idleAfterNoOutputMs: 600_000, utcOffsetMinutes: 480 });
  });
  it('a partial nested object keeps the other defaults', () => {
    const c = parseEnergyConfig({ counters: { maxRatePerHour: { energy_kwh: 5_000 } }, windows: { maxGapMs: 60_000 } });
    expect(c.counters.maxRatePerHour.energy_kwh).toBe(5_000);
    expect(c.counters.maxRatePerHour.gas_m3).toBe(20_000);
    expect(c.windows.sizes).toEqual(['1m', '15m', '1h', '1d']);
    expect(c.windows.maxGapMs).toBe(60_000);
  });
});

describe('energyConfigSchema: errors name the path', () => {
  it('an unknown region in a site', () => {
    const [p] = problemsOf({ sites: { 'site-01': { gridRegion: 'Mars' } } });
    expect(p?.path).toBe('sites.site-01.gridRegion');
  });
  it('a year without a published national factor', () => {
    expect(problemsOf({ gridYear: 2019 })).toEqual([{ path: 'gridYear', message: 'no national grid factor for that year (known: 2021, 2022, 2023)' }]);
  });
  it('two grid choices at once', () => {
    const [p] = problemsOf({ sites: { 'site-01': { gridRegion: 'East', gridYear: 2022 } } });
    expect(p?.path).toBe('sites.site-01.gridRegion');
    expect(p?.message).toContain('set only one of');
  });
  it('a coal coefficient for water (water is not energy)', () => {
    const [p] = problemsOf({ kgce: { water_m3: 1 } });
    expect(p?.path).toBe('kgce');
    expect(p?.message).toContain('water_m3');
  });
  it('a non-positive rate limit, a bad site id, a repeated window size', () => {
    expect(problemsOf({ counters: { maxRatePerHour: { energy_kwh: 0 } } })[0]?.path).toBe('counters.maxRatePerHour.energy_kwh');
    expect(problemsOf({ sites: { 'site 01': {} } })[0]?.path).toBe('sites.site 01');
    expect(problemsOf({ windows: { sizes: ['1m', '1m'] } })[0]?.path).toBe('windows.sizes');
  });
  it('the message lists each problem on its own line', () => {
    expect(() => parseEnergyConfig({ gridYear: 2019, steamKgcePerT: -1 })).toThrow(/gridYear: .*\n.*steamKgcePerT: /s);
  });
});

describe('resolveSiteSettings', () => {
  it('defaults: the latest national grid factor (2023: 0.5306), GB/T 2589 coal, no steam coefficients', () => {
    const s = resolveSiteSettings(parseEnergyConfig({}), 'site-01');
    expect(s.coefficients).toEqual({
      kgcePerKwh: 0.1229,
      kgcePerGasM3: 1.2143,
      kgcePerSteamT: null,
      gridKgCo2PerKwh: 0.5306,
      gridFactorSource: 'MEE/NBS national average 2023',
      gasKgCo2PerM3: NATURAL_GAS_CO2.kgCo2PerM3,
      steamKgCo2PerT: null,
    });
  });
  it('the grid factor by year, by region, by value', () => {
    expect(resolveSiteSettings(parseEnergyConfig({ gridYear: 2021 }), 's').coefficients.gridKgCo2PerKwh).toBe(0.5568);
    const north = resolveSiteSettings(parseEnergyConfig({ gridRegion: 'North' }), 's').coefficients;
    expect([north.gridKgCo2PerKwh, north.gridFactorSource]).toEqual([0.6776, 'MEE/NBS North regional grid average 2022']);
    expect(resolveSiteSettings(parseEnergyConfig({ gridKgCo2PerKwh: 0.45 }), 's').coefficients.gridKgCo2PerKwh).toBe(0.45);
  });
  it('a site override applies to that site only, and replaces the top-level grid choice as a whole', () => {
    const config = parseEnergyConfig({ gridYear: 2021, sites: { 'site-01': { gridRegion: 'Southwest', steamKgcePerT: 128.6 } } });
    const sichuan = resolveSiteSettings(config, 'site-01').coefficients;
    expect(sichuan.gridKgCo2PerKwh).toBe(0.2268);
    expect(sichuan.kgcePerSteamT).toBe(128.6);
    const other = resolveSiteSettings(config, 'site-02').coefficients;
    expect(other.gridKgCo2PerKwh).toBe(0.5568);
    expect(other.kgcePerSteamT).toBeNull();
  });
  it('per-carrier kgce: a site overrides one carrier, the rest come from the top level', () => {
    const config = parseEnergyConfig({ kgce: { gas_m3: 1.33 }, sites: { 'site-01': { kgce: { energy_kwh: 0.3 } } } });
    const c = resolveSiteSettings(config, 'site-01').coefficients;
    expect([c.kgcePerKwh, c.kgcePerGasM3]).toEqual([0.3, 1.33]);
  });
  it('counter rules and windows', () => {
    const s = resolveSiteSettings(parseEnergyConfig({ counters: { rolloverModulus: { energy_kwh: 1_000_000 } }, windows: { sizes: ['1h', '1m'] } }), 's');
    expect(s.counters.energy_kwh).toEqual({ rolloverModulus: 1_000_000, rolloverNearFraction: 0.1, maxRatePerHour: 100_000 });
    expect(s.counters.gas_m3.rolloverModulus).toBeUndefined();
    expect(s.windowSizesMs).toEqual([60_000, 3_600_000]);
    expect(s.utcOffsetMs).toBe(8 * 3_600_000);
  });
});
