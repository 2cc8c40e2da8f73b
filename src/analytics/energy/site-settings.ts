import { DEFAULT_GRID_YEAR, GRID_FACTORS_MEE_NBS, type GridRegion } from './coefficients.js';
import type { EnergyConfig } from './config.js';
import { ACCOUNTED_COUNTERS, type AccountedCounter, type CounterRules } from './counter.js';
import { WINDOW_SIZES_MS } from './window-sizes.js';

/**
 * The coefficients, counter rules and windows that apply to the devices of one site: the site's
 * overrides, else the top-level configuration, else the reference tables.
 */

export interface EnergyCoefficients {
  kgcePerKwh: number;
  kgcePerGasM3: number;
  /** null: not configured (steam has no agreed default); steam is then left out of kgce/tce. */
  kgcePerSteamT: number | null;
  gridKgCo2PerKwh: number;
  /** Where the grid factor came from, for reports: `MEE/NBS national average 2023`, `configured value`. */
  gridFactorSource: string;
  gasKgCo2PerM3: number;
  /** null: not configured; steam is then left out of CO2. */
  steamKgCo2PerT: number | null;
}

export interface SiteEnergySettings {
  coefficients: EnergyCoefficients;
  counters: Record<AccountedCounter, CounterRules>;
  /** Ascending. */
  windowSizesMs: number[];
  maxGapMs: number;
  idleAfterNoOutputMs: number;
  utcOffsetMs: number;
}

interface GridChoice {
  gridKgCo2PerKwh?: number;
  gridYear?: number;
  gridRegion?: GridRegion;
}

/** The grid factor a choice names. Schema validation has already rejected unknown years and regions. */
export function resolveGridFactor(choice: GridChoice): { kgCo2PerKwh: number; source: string } {
  if (choice.gridKgCo2PerKwh !== undefined) return { kgCo2PerKwh: choice.gridKgCo2PerKwh, source: 'configured value' };
  if (choice.gridRegion !== undefined) {
    return {
      kgCo2PerKwh: GRID_FACTORS_MEE_NBS.regional[choice.gridRegion],
      source: `MEE/NBS ${choice.gridRegion} regional grid average ${GRID_FACTORS_MEE_NBS.regionalYear}`,
    };
  }
  const year = choice.gridYear ?? DEFAULT_GRID_YEAR;
  const value = GRID_FACTORS_MEE_NBS.national[year];
  if (value === undefined) throw new Error(`no national grid factor for ${year}`);
  return { kgCo2PerKwh: value, source: `MEE/NBS national average ${year}` };
}

function hasGridChoice(c: GridChoice): boolean {
  return c.gridKgCo2PerKwh !== undefined || c.gridYear !== undefined || c.gridRegion !== undefined;
}

export function resolveSiteSettings(config: EnergyConfig, site: string): SiteEnergySettings {
  const own = config.sites[site] ?? {};
  // A site's grid choice replaces the top-level one as a whole (a site in Sichuan that names its
  // region must not inherit a top-level year).
  const grid = resolveGridFactor(hasGridChoice(own) ? own : config);
  const coefficients: EnergyCoefficients = {
    kgcePerKwh: own.kgce?.energy_kwh ?? config.kgce.energy_kwh,
    kgcePerGasM3: own.kgce?.gas_m3 ?? config.kgce.gas_m3,
    kgcePerSteamT: own.steamKgcePerT ?? config.steamKgcePerT ?? null,
    gridKgCo2PerKwh: grid.kgCo2PerKwh,
    gridFactorSource: grid.source,
    gasKgCo2PerM3: own.gasKgCo2PerM3 ?? config.gasKgCo2PerM3,
    steamKgCo2PerT: own.steamKgCo2PerT ?? config.steamKgCo2PerT ?? null,
  };
  const c = config.counters;
  const counters = Object.fromEntries(
    ACCOUNTED_COUNTERS.map((m) => [
      m,
      { rolloverModulus: c.rolloverModulus[m], rolloverNearFraction: c.rolloverNearFraction, maxRatePerHour: c.maxRatePerHour[m] },
    ]),
  ) as Record<AccountedCounter, CounterRules>;
  return {
    coefficients,
    counters,
    windowSizesMs: config.windows.sizes.map((s) => WINDOW_SIZES_MS[s]).sort((a, b) => a - b),
    maxGapMs: config.windows.maxGapMs,
    idleAfterNoOutputMs: config.windows.idleAfterNoOutputMs,
    utcOffsetMs: config.windows.utcOffsetMinutes * 60_000,
  };
}
