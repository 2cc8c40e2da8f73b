import type { EnergyCarrier } from './coefficients.js';
import { perUnit, type EnergyWindow } from './energy-window.js';

/**
 * Line and site totals from device windows of the same size and start. Quantities, coal
 * equivalent and CO2 add up (each device's kgce and CO2 were computed with its own site's
 * coefficients, so they are summed, not recomputed); intensities are recomputed from the sums
 * (Σ kWh ÷ Σ output), never averaged.
 *
 * Σ output is only a meaningful denominator when the devices count the same product: for a line
 * whose stations each count the same part, a line figure should rather use the last station's
 * output. That choice belongs to the registry (which device is a line's output), not here.
 *
 * A rollup sums the windows it is given: windows close per device on event time, so the caller
 * decides when a line's window is complete (every device's window closed, or a grace period).
 */
export interface EnergyRollup extends Omit<EnergyWindow, 'line' | 'device'> {
  level: 'line' | 'site';
  /** null for a site rollup. */
  line: string | null;
  /** Device windows summed. */
  devices: number;
}

const ADDITIVE = ['kwh', 'gasM3', 'steamT', 'waterM3', 'outputUnits', 'idleKwh', 'kgce', 'tce', 'co2Kg', 'samples', 'implausibleJumps'] as const;

interface Group {
  first: EnergyWindow;
  sums: Record<(typeof ADDITIVE)[number], number>;
  devices: number;
  pfWeighted: number;
  pfWeight: number;
  pfSum: number;
  pfCount: number;
  notInTce: Set<EnergyCarrier>;
  notInCo2: Set<EnergyCarrier>;
}

export function rollup(windows: readonly EnergyWindow[], by: 'line' | 'site'): EnergyRollup[] {
  const groups = new Map<string, Group>();
  for (const w of windows) {
    // Ids cannot contain '/' (ID_PATTERN), so the key is unambiguous.
    const key = `${w.site}/${by === 'line' ? w.line : ''}/${w.windowMs}/${w.start}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        first: w,
        sums: Object.fromEntries(ADDITIVE.map((f) => [f, 0])) as Group['sums'],
        devices: 0,
        pfWeighted: 0,
        pfWeight: 0,
        pfSum: 0,
        pfCount: 0,
        notInTce: new Set(),
        notInCo2: new Set(),
      };
      groups.set(key, g);
    }
    for (const f of ADDITIVE) g.sums[f] += w[f];
    g.devices++;
    if (w.powerFactorAvg !== null) {
      // Energy-weighted across devices, as within a device: a big motor's power factor counts for more.
      g.pfWeighted += w.powerFactorAvg * w.kwh;
      g.pfWeight += w.kwh;
      g.pfSum += w.powerFactorAvg;
      g.pfCount++;
    }
    w.notInTce.forEach((c) => g.notInTce.add(c));
    w.notInCo2.forEach((c) => g.notInCo2.add(c));
  }

  return [...groups.values()]
    .map((g): EnergyRollup => ({
      level: by,
      site: g.first.site,
      line: by === 'line' ? g.first.line : null,
      start: g.first.start,
      end: g.first.end,
      windowMs: g.first.windowMs,
      devices: g.devices,
      ...g.sums,
      kwhPerUnit: perUnit(g.sums.kwh, g.sums.outputUnits),
      kgcePerUnit: perUnit(g.sums.kgce, g.sums.outputUnits),
      powerFactorAvg: g.pfWeight > 0 ? g.pfWeighted / g.pfWeight : g.pfCount > 0 ? g.pfSum / g.pfCount : null,
      notInTce: [...g.notInTce],
      notInCo2: [...g.notInCo2],
    }))
    .sort((a, b) => a.start - b.start || a.windowMs - b.windowMs || compare(a.site, b.site) || compare(a.line ?? '', b.line ?? ''));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
