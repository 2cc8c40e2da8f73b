import type { FaultLabel } from './fault-schedule.js';
import { Machine, PUMP_FAULTS, type FaultKind } from './machine.js';
import { PUMP_CLASS, type MachineClass } from './machine-classes.js';
import { Rng, streamSeed } from './rng.js';

/**
 * Pump test-bench runs: each unit a pump held running through one test of `rows` readings, with
 * one pump fault for a long stretch of it (a share of its rows drawn from `stretch`), as a bench
 * records it: eight channels in the bench's own units and names, none of them a catalogue metric,
 * and no machine-state channel. The bench's drive holds the speed (a tenth of a plant's load
 * wander). Sizes vary from unit to unit (flow 10–200 m³/h, discharge
 * 2–9 bar), so nothing about the units' scale can be assumed. Everything follows from the options.
 */
export interface BenchOptions {
  units: number;
  /** Readings per run. */
  rows: number;
  intervalMs: number;
  seed: number;
  startTs: number;
  /** Share of a run's rows the fault lasts, [min, max] (0 < min ≤ max < 0.75). */
  stretch: readonly [number, number];
  /** Kinds in turn along the units (default the pump faults). */
  kinds?: readonly FaultKind[];
}

export interface BenchRun {
  unit: string;
  /** The fault's stretch; `end` is its last faulty reading's time (windows.json bounds are inclusive). */
  label: FaultLabel;
  /** The run's readings, one per interval from startTs. */
  readings(): Generator<{ ts: number; m: Record<string, number> }>;
}

/** Vibration velocity (mm/s) to acceleration (g) at the running speed's frequency (2,970 rpm). */
const MM_S_TO_G = (2 * Math.PI * 49.5) / 1000 / 9.80665;

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The bench's channels from a pump's sample: its names and units (g, A, bar, °C, V, L/min). */
export function benchChannels(m: Readonly<Record<string, number>>): Record<string, number> {
  return {
    vibration_g: round(m.vibration_mm_s! * MM_S_TO_G, 4),
    motor_current: m.current_a!,
    suction_bar: round(m.suction_kpa! / 100, 3),
    discharge_bar: round(m.pressure_kpa! / 100, 3),
    motor_temp: m.temperature_c!,
    fluid_temp: m.fluid_temperature_c!,
    voltage: m.voltage_v!,
    flow_lpm: round((m.flow_m3_h! * 1000) / 60, 1),
  };
}

/** One unit's pump: the pump class scaled to a drawn size (rated power from its hydraulic power at 65 % efficiency). */
function unitClass(rng: Rng): MachineClass {
  const flowM3h = rng.uniform(10, 200);
  const dischargeKpa = rng.uniform(200, 900);
  const ratedKw = Math.max(1.5, (flowM3h / 3600) * dischargeKpa / 0.65 / 0.8);
  return { ...PUMP_CLASS, ratedKw, vibrationMmS: rng.uniform(1.2, 3.5), pump: { flowM3h, dischargeKpa, suctionKpa: rng.uniform(80, 250) } };
}

export function benchRuns(o: BenchOptions): BenchRun[] {
  if (!Number.isInteger(o.units) || o.units < 1) throw new Error(`units must be an integer ≥ 1, got ${String(o.units)}`);
  if (!Number.isInteger(o.rows) || o.rows < 100) throw new Error(`rows must be an integer ≥ 100, got ${String(o.rows)}`);
  const [lo, hi] = o.stretch;
  if (!(lo > 0 && lo <= hi && hi < 0.75)) throw new Error(`stretch must be 0 < min ≤ max < 0.75 of a run, got ${lo}–${hi}`);
  const kinds = o.kinds ?? PUMP_FAULTS;
  if (kinds.length === 0) throw new Error('bench: no fault kinds');
  for (const k of kinds) if (!PUMP_FAULTS.includes(k)) throw new Error(`bench: ${k} is not a pump fault; one of ${PUMP_FAULTS.join(', ')}`);
  return Array.from({ length: o.units }, (_, i) => {
    const unit = `pump-${String(i + 1).padStart(3, '0')}`;
    const rng = new Rng(streamSeed(o.seed, `bench|${unit}`));
    const cls = unitClass(rng);
    const kind = kinds[i % kinds.length]!;
    // The fault starts after a quarter of the run at least (the bench's healthy reference) and is
    // over by the run's end: onset and length drawn per unit.
    const share = rng.uniform(lo, hi);
    const first = Math.round(o.rows * rng.uniform(0.25, 1 - share));
    const last = Math.min(o.rows, first + Math.round(share * o.rows));
    const tsOf = (row: number) => o.startTs + row * o.intervalMs;
    const machineSeed = streamSeed(o.seed, `bench-machine|${unit}`);
    return {
      unit,
      label: { device: unit, kind, start: tsOf(first), end: tsOf(last - 1) },
      *readings() {
        const machine = new Machine({ site: 'bench', line: 'bench', device: unit }, cls, new Rng(machineSeed), { holdRunning: true, loadWalk: 0.002 });
        for (let row = 0; row < o.rows; row++) {
          if (row === first) machine.injectFault(kind);
          if (row === last) machine.clearFaults(kind);
          if (row > 0) machine.step(o.intervalMs);
          yield { ts: tsOf(row), m: benchChannels(machine.sample(tsOf(row)).m) };
        }
      },
    };
  });
}
