import type { EnergyCarrier } from './coefficients.js';
import type { EnergyCoefficients } from './site-settings.js';

/**
 * One device's energy over one tumbling window [start, end): what the accumulator emits when the
 * window closes, what rollups sum and what is stored as an `energy` point.
 */
export interface EnergyWindow {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  windowMs: number;
  site: string;
  line: string;
  device: string;
  /** Electricity, kWh. */
  kwh: number;
  /** Natural gas, m³. */
  gasM3: number;
  /** Steam, t. */
  steamT: number;
  /** Water, m³ (not energy: never in kgce or CO2). */
  waterM3: number;
  /** Good parts. Fractional when a counter interval straddles windows (split in proportion to time). */
  outputUnits: number;
  /** kWh drawn while the machine produced nothing (see DeviceEnergyAccumulator). */
  idleKwh: number;
  /** Standard coal equivalent of electricity, gas and (when configured) steam, kg. */
  kgce: number;
  tce: number;
  /** Electricity (grid factor), gas and (when configured) steam. */
  co2Kg: number;
  /** null when the window has no output. */
  kwhPerUnit: number | null;
  kgcePerUnit: number | null;
  /** Accepted samples with a timestamp inside the window. */
  samples: number;
  /** Energy-weighted average of power_factor readings; null when there are none. */
  powerFactorAvg: number | null;
  /**
   * The part of `idleKwh` drawn while the machine stood ready: state idle (1), or, without a
   * state, output stalled. Standby while stopped (0) and the fault state (3) are left out. Set by
   * the device accumulator (the rules judge idle share on it); absent in rollups.
   */
  readyIdleKwh?: number;
  /**
   * Energy-weighted average power factor over the kWh drawn under load (not idle); null when
   * none was. Set by the device accumulator (the rules judge it); absent in rollups.
   */
  loadedPowerFactorAvg?: number | null;
  /** Counter readings in this window whose delta was not counted (implausible rate or impossible value). */
  implausibleJumps: number;
  /** Carriers used in this window that kgce/tce leaves out, for want of a coefficient (steam, unless configured). */
  notInTce: EnergyCarrier[];
  /** Carriers used in this window that co2Kg leaves out, for want of a factor (steam, unless configured). */
  notInCo2: EnergyCarrier[];
}

/** The additive quantities of a window, before coefficients are applied. */
export interface EnergyQuantities {
  kwh: number;
  gasM3: number;
  steamT: number;
  waterM3: number;
  outputUnits: number;
}

/** Coal equivalent and CO2 of some quantities, with the carriers each one had to leave out. */
export function convertQuantities(
  q: EnergyQuantities,
  c: EnergyCoefficients,
): Pick<EnergyWindow, 'kgce' | 'tce' | 'co2Kg' | 'notInTce' | 'notInCo2'> {
  const steamInTce = c.kgcePerSteamT !== null;
  const steamInCo2 = c.steamKgCo2PerT !== null;
  const kgce = q.kwh * c.kgcePerKwh + q.gasM3 * c.kgcePerGasM3 + (steamInTce ? q.steamT * (c.kgcePerSteamT as number) : 0);
  const co2Kg = q.kwh * c.gridKgCo2PerKwh + q.gasM3 * c.gasKgCo2PerM3 + (steamInCo2 ? q.steamT * (c.steamKgCo2PerT as number) : 0);
  return {
    kgce,
    tce: kgce / 1000,
    co2Kg,
    notInTce: q.steamT > 0 && !steamInTce ? ['steam_t'] : [],
    notInCo2: q.steamT > 0 && !steamInCo2 ? ['steam_t'] : [],
  };
}

/** Intensity per good part; null without output (no division by zero, no Infinity in storage). */
export function perUnit(amount: number, outputUnits: number): number | null {
  return outputUnits > 0 ? amount / outputUnits : null;
}
