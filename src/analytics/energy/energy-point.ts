import type { Point } from '../../storage/point.js';
import type { EnergyWindow } from './energy-window.js';
import { windowLabel } from './window-sizes.js';

export const ENERGY_MEASUREMENT = 'energy';

/**
 * Field names in storage: snake_case with units, like the telemetry metrics they derive from
 * (`energy_kwh` → `kwh`, `gas_m3`), so InfluxQL needs no quoting.
 */
export const ENERGY_FIELDS = {
  kwh: 'kwh',
  gasM3: 'gas_m3',
  steamT: 'steam_t',
  waterM3: 'water_m3',
  outputUnits: 'output_units',
  idleKwh: 'idle_kwh',
  kgce: 'kgce',
  tce: 'tce',
  co2Kg: 'co2_kg',
  kwhPerUnit: 'kwh_per_unit',
  kgcePerUnit: 'kgce_per_unit',
  samples: 'samples',
  powerFactorAvg: 'power_factor_avg',
  implausibleJumps: 'implausible_jumps',
} as const satisfies Partial<Record<keyof EnergyWindow, string>>;

/** ENERGY_FIELDS as pairs, in its order: listed once, not for every window closed. */
const FIELD_PAIRS = Object.entries(ENERGY_FIELDS) as [keyof typeof ENERGY_FIELDS, string][];

/**
 * One device window as an `energy` point at the window's start. Tags are the validated ids and
 * the window size (`1m`, `15m`, `1h`, `1d`); fields are numbers only, and a null (no output, no
 * power factor) is left out rather than stored as 0. Writing the same window again overwrites
 * it (same series and timestamp), so replays never double-count.
 */
export function toEnergyPoint(w: EnergyWindow): Point {
  const fields: Record<string, number> = {};
  for (let i = 0; i < FIELD_PAIRS.length; i++) {
    const [key, field] = FIELD_PAIRS[i]!;
    const value = w[key];
    if (value !== null) fields[field] = value;
  }
  return {
    measurement: ENERGY_MEASUREMENT,
    tags: { site: w.site, line: w.line, device: w.device, window: windowLabel(w.windowMs) },
    fields,
    ts: w.start,
  };
}
