import { median } from 'simple-statistics';
import type { FaultLabel } from '../../edge-agent/simulator/index.js';
import type { AlertOpening } from './run-fleet.js';

export interface RuleFigures {
  /** Every alert this rule opened, inside labels or not. */
  openings: number;
  /** Alert openings outside every label window (and its grace period). */
  falseAlerts: number;
  perMachineDay: number;
  /** Share of machines with at least one false opening of this rule. */
  machineShare: number;
}

export interface FaultFigures {
  windows: number;
  /** Windows with at least one alert opened inside them. */
  detected: number;
  recall: number | null;
  /** Windows not detected whose only alerts were opened during a natural trip (credited to the trip). */
  duringTripOnly: number;
  /** Median of (first opening inside the window − onset), over detected windows; null when none. */
  medianDelayMs: number | null;
  /** Per rule: windows in which that rule opened an alert. */
  byRule: Record<string, number>;
}

export interface FleetScore {
  machines: number;
  machineDays: number;
  openings: number;
  falseAlerts: number;
  falsePerMachineDay: number;
  byRule: Record<string, RuleFigures>;
  byFault: Record<string, FaultFigures>;
}

/**
 * Score alert openings against the simulator's labels. An opening inside a window [start, end]
 * on the same device detects it; one outside every window, and more than `graceMs` after the end
 * of the last one, is a false alert. The grace period keeps a repair's aftermath out of the
 * false count: a baseline that followed a fault, or a machine restarted cold after a trip, still
 * looks abnormal for a while after the label ends, and that alert is about the fault. An opening
 * during a natural trip (`trip` label) or its grace period is credited to the trip alone.
 */
export function scoreFleet(openings: readonly AlertOpening[], labels: readonly FaultLabel[], machines: number, hours: number, graceMs: number): FleetScore {
  const labelsOf = new Map<string, FaultLabel[]>();
  for (const l of labels) (labelsOf.get(l.device) ?? labelsOf.set(l.device, []).get(l.device)!).push(l);
  const firstIn = new Map<FaultLabel, number>();
  const rulesIn = new Map<FaultLabel, Set<string>>();
  const shadowed = new Set<FaultLabel>();
  const byRule: Record<string, RuleFigures> = {};
  const falseMachines = new Map<string, Set<string>>();
  let falseAlerts = 0;
  const machineDays = (machines * hours) / 24;
  for (const o of openings) {
    const r = (byRule[o.rule] ??= { openings: 0, falseAlerts: 0, perMachineDay: 0, machineShare: 0 });
    r.openings++;
    const own = labelsOf.get(o.device) ?? [];
    let inside = own.filter((l) => o.ts >= l.start && o.ts <= l.end);
    // During a natural trip (or its aftermath) the machine shakes, heats and restarts whatever
    // else is wrong with it: an alert then is the trip's, and must not count as finding another fault.
    const trips = own.filter((l) => l.kind === 'trip' && o.ts >= l.start && o.ts <= l.end + graceMs);
    if (trips.length > 0) {
      for (const l of inside) if (l.kind !== 'trip') shadowed.add(l);
      inside = inside.filter((l) => l.kind === 'trip');
    }
    for (const l of inside) {
      if (!firstIn.has(l) || o.ts < firstIn.get(l)!) firstIn.set(l, o.ts);
      (rulesIn.get(l) ?? rulesIn.set(l, new Set()).get(l)!).add(o.rule);
    }
    if (inside.length > 0 || trips.length > 0 || own.some((l) => o.ts > l.end && o.ts <= l.end + graceMs)) continue;
    falseAlerts++;
    r.falseAlerts++;
    (falseMachines.get(o.rule) ?? falseMachines.set(o.rule, new Set()).get(o.rule)!).add(o.device);
  }
  for (const [rule, r] of Object.entries(byRule)) {
    r.perMachineDay = r.falseAlerts / machineDays;
    r.machineShare = (falseMachines.get(rule)?.size ?? 0) / machines;
  }
  const byFault: Record<string, FaultFigures> = {};
  for (const l of labels) {
    const f = (byFault[l.kind] ??= { windows: 0, detected: 0, recall: null, duringTripOnly: 0, medianDelayMs: null, byRule: {} });
    f.windows++;
    if (!firstIn.has(l)) {
      if (shadowed.has(l)) f.duringTripOnly++;
      continue;
    }
    f.detected++;
    for (const rule of rulesIn.get(l)!) f.byRule[rule] = (f.byRule[rule] ?? 0) + 1;
  }
  for (const [kind, f] of Object.entries(byFault)) {
    f.recall = f.windows > 0 ? f.detected / f.windows : null;
    const delays = labels.filter((l) => l.kind === kind && firstIn.has(l)).map((l) => firstIn.get(l)! - l.start);
    f.medianDelayMs = delays.length > 0 ? median(delays) : null;
  }
  return { machines, machineDays, openings: openings.length, falseAlerts, falsePerMachineDay: falseAlerts / machineDays, byRule, byFault };
}
