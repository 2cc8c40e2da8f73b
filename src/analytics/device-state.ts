import { restoreCadence, type Cadence } from './cadence.js';
import { stateOf, type DeviceState as EngineDeviceState } from './engine.js';
import { DeviceEnergyAccumulator, type EnergyAccumulatorSnapshot, type EnergyConfig } from './energy/index.js';
import { fromJsonValue, toJsonValue, type JsonValue } from './state-json.js';

/**
 * One device's analytics state as plain JSON: what a worker that takes a device over from another
 * (docs/scale-out.md, "Hand-over") needs to go on exactly where the other stopped: each rule's
 * detector state, the last sample time and machine state, and the energy accumulator with its
 * open windows. Rules are matched by id and detector kind, so a rule that is new on the importing
 * side starts from its initial state and one it no longer has is dropped.
 */
export interface DeviceStateJson {
  v: 1;
  site: string;
  line: string;
  device: string;
  lastTs: number | null;
  machineState: number | null;
  stateSince: number | null;
  /** By rule id: the detector kind and its state, and the means pending for a rule with a cadence (cadence.ts). */
  rules: Record<string, { kind: string; state: JsonValue; cadence?: JsonValue }>;
  energy: EnergyAccumulatorSnapshot;
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export function exportDeviceState(d: EngineDeviceState): DeviceStateJson {
  const rules: DeviceStateJson['rules'] = {};
  d.rules.forEach((r, i) => {
    const cadence = d.cadences[i];
    // A state not made yet is exported as the initial one it stands for (as before states were made on first use).
    const state = toJsonValue(stateOf(d, i));
    rules[r.id] = cadence ? { kind: d.detectors[i]!.kind, state, cadence: toJsonValue(cadence) } : { kind: d.detectors[i]!.kind, state };
  });
  return { v: 1, site: d.site, line: d.line, device: d.device, lastTs: finiteOrNull(d.lastTs), machineState: d.machineState ?? null, stateSince: finiteOrNull(d.stateSince), rules, energy: d.energy.snapshot() };
}

/**
 * The engine's device state from JSON. `fresh` is the state the engine would make for a device
 * it has never seen (its rules, detectors and initial states): what the JSON says replaces it, in
 * place.
 */
export function importDeviceState(json: DeviceStateJson, fresh: EngineDeviceState, energy: EnergyConfig): EngineDeviceState {
  if (json?.v !== 1) throw new Error(`unknown device state version ${JSON.stringify((json as { v?: unknown } | null)?.v)}`);
  const states = fresh.rules.map((r, i) => {
    const saved = json.rules[r.id];
    return saved && saved.kind === fresh.detectors[i]!.kind ? fromJsonValue(saved.state) : fresh.states[i];
  });
  // A pending period goes on at this side's cadence (the rule's judgeEveryS may differ here); a state
  // from a side without cadences starts one afresh. Rules sharing a cadence here (cadencesOf) share
  // the first one saved among them: each rule's JSON holds a copy.
  const restored = new Map<Cadence, Cadence>();
  fresh.cadences.forEach((c, i) => {
    const saved = json.rules[fresh.rules[i]!.id];
    if (c === null || restored.has(c) || saved?.cadence === undefined || saved.kind !== fresh.detectors[i]!.kind) return;
    restored.set(c, restoreCadence(fromJsonValue(saved.cadence) as Cadence, c.dueMs));
  });
  const cadences = fresh.cadences.map((c) => (c === null ? c : (restored.get(c) ?? c)));
  const acc = new DeviceEnergyAccumulator(fresh, energy);
  acc.restore(json.energy);
  // Written into the fresh state itself, not a spread copy of it: V8 boxes every number later
  // stored into an object made by a spread (the device's last sample time, on every sample). No
  // slots (engine.ts): they would point at the fresh states, not these.
  fresh.states = states;
  fresh.cadences = cadences;
  fresh.slots = fresh.rules.map(() => undefined);
  fresh.lastTs = json.lastTs ?? -Infinity;
  fresh.machineState = json.machineState ?? undefined;
  fresh.stateSince = json.stateSince ?? -Infinity;
  fresh.energy = acc;
  return fresh;
}
