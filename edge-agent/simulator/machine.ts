import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { MACHINE_STATES } from '../../src/contract/index.js';
import { NOMINAL_LOAD, TRANSITIONS, type MachineClass } from './machine-classes.js';
import type { Rng } from './rng.js';

export type MachineState = keyof typeof MACHINE_STATES;

/**
 * Injectable faults (each lasts until cleared). Quick demo faults, developing within minutes:
 * - `overheat`: the cooling fails; the temperature target climbs up to 90 °C over ambient+rise in 10 min.
 * - `vibration`: a bearing wears; vibration grows by up to 15 mm/s RMS while the machine turns.
 * - `stuck`: the temperature sensor freezes at its last reading (the physics go on underneath).
 * - `silence`: the device stops reporting (no samples); the physics go on.
 * - `idle-waste`: the machine is held idle, making nothing, while drawing 70 % of its rated power
 *   (a line left running with no work, the classic energy waste).
 * Faults developing over hours, as found in plants (fault-schedule.ts schedules these, `stuck` and
 * `idle-waste`, and labels them):
 * - `bearing-wear`: vibration grows slowly, then faster (exponentially, time constant 1.5 h) while
 *   the machine turns, and the friction warms the machine a little.
 * - `cooling-loss`: a fan or coolant pump fails: the temperature rise over ambient grows by 60 %
 *   (at most 40 °C) and the temperature follows with the machine's thermal time constant.
 * - `leak`: a compressed-air or hydraulic leak: the pump or compressor makes up the lost flow,
 *   drawing up to 12 % of rated power more (growing over 30 min) whenever the machine is not stopped.
 * - `pf-degradation`: the machine's capacitor bank fails (a blown fuse): power factor 0.12 lower
 *   in every state, and the current rises with it.
 * - `sensor-drift`: the temperature sensor reads high by 2 °C more every hour (a degrading
 *   thermocouple or a corroded connection); the true temperature is unchanged.
 * - `overload`: the drive is overloaded (a jammed feed, a blunt tool, a failing gearbox): 35 % of
 *   rated power more while running, for the same output; current, heat and vibration follow.
 * Pump faults (only a machine whose class is a pump has them: `canHave`), each moving several
 * channels at once for as long as it lasts:
 * - `cavitation`: the suction pressure falls (a low tank, a throttled inlet) until vapour bubbles
 *   form and collapse in the impeller, within 3 min: flow 20 % and discharge pressure 15 % lower,
 *   both unsteady, vibration up to 2.2 times and rough, the current erratic.
 * - `clogged-filter`: the suction strainer fouls (time constant 15 min): suction pressure down by
 *   up to 45 %, flow by 30 %, discharge pressure by 10 %, power by 12 %, vibration up 20 %.
 * - `misalignment`: the motor and pump shafts no longer line up (after maintenance, a settling
 *   base), within a minute: vibration doubles, the coupling and bearings warm the motor by up to
 *   8 °C, the current rises 6 %; the hydraulics are unchanged.
 * - `valve-stuck`: the discharge valve sticks part-closed (45 % shut, within 30 s): flow 45 %
 *   lower, discharge pressure higher (the pump moves back on its curve), power 15 % lower,
 *   vibration 30 % higher (recirculation), the fluid warms (less flow carries the heat away).
 */
export const FAULT_KINDS = [
  'overheat',
  'vibration',
  'stuck',
  'silence',
  'idle-waste',
  'bearing-wear',
  'cooling-loss',
  'leak',
  'pf-degradation',
  'sensor-drift',
  'overload',
  'cavitation',
  'clogged-filter',
  'misalignment',
  'valve-stuck',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults only a pump can have (its class has `pump` hydraulics). */
export const PUMP_FAULTS: readonly FaultKind[] = ['cavitation', 'clogged-filter', 'misalignment', 'valve-stuck'];

/** Whether a machine of this class can have the fault (the pump faults need a pump). */
export function classCanHave(cls: MachineClass, kind: FaultKind): boolean {
  return FAULT_KINDS.includes(kind) && (cls.pump !== undefined || !PUMP_FAULTS.includes(kind));
}

export interface MachineOptions {
  /** Hold the machine running: no idling, stops or trips (a test bench running a unit through its test). */
  holdRunning?: boolean;
  /** Step of the load's random walk per √minute, share of rated power (default 0.02: operators and part mix; a bench's speed controller holds it far steadier). */
  loadWalk?: number;
}

const SQRT3 = Math.sqrt(3);
const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * One simulated machine with believable physics: a Markov state machine (running, idle,
 * stopped, fault) whose transition probabilities scale with the time step; power that ramps
 * towards a state-dependent target and is measured with noise; an energy meter integrated from
 * power (never decreasing); parts counted only while running; temperature with thermal inertia
 * (first-order lag towards a state-dependent target over ambient); vibration RMS that rises
 * with load and much more with a developing fault; current, voltage and power factor that agree
 * with each other (P = √3 · V · I · PF).
 *
 * Pure: every random number comes from `rng`, and all of them are drawn in the constructor and
 * `step()`. `sample()` only reads, so how often it is called never changes the simulation.
 */
export class Machine {
  /** Current state. Writable so tests and demos can force one; the physics follow from the next step. */
  state: MachineState;
  /** Nameplate (rated) power of this machine, kW. */
  readonly ratedKw: number;
  /** True electrical power, kW (the measured `power_kw` adds instrument noise). */
  powerKw: number;
  energyKwh: number;
  gasM3: number;
  outputUnits: number;
  /** True temperature, °C (the sensor reading adds noise, or freezes when `stuck`). */
  temperatureC: number;
  /** Vibration RMS velocity, mm/s, as last measured. */
  vibration = 0;
  /** Pumped fluid's true temperature, °C (pumps only). */
  fluidC = 0;

  private readonly ambientC: number;
  private readonly idleFraction: number;
  private readonly standbyFraction: number;
  private readonly faultFraction: number;
  private readonly nominalV: number;
  private load: number;
  private partial = 0;
  /** A developing fault: the machine still runs, vibration and heat climb, then it trips. */
  private precursor: { ageS: number; durationS: number } | null = null;
  /** Injected faults and their age in seconds. */
  private readonly injected = new Map<FaultKind, number>();
  private reading: Record<string, number> = {};

  constructor(
    readonly ref: DeviceRef,
    readonly cls: MachineClass,
    private readonly rng: Rng,
    private readonly options: MachineOptions = {},
  ) {
    this.ratedKw = round(cls.ratedKw * rng.uniform(0.9, 1.1), 1);
    this.ambientC = rng.uniform(20, 25);
    this.idleFraction = rng.uniform(0.15, 0.3);
    this.standbyFraction = rng.uniform(0.005, 0.02);
    this.faultFraction = rng.uniform(0.03, 0.08);
    this.nominalV = rng.uniform(396, 404);
    this.load = clamp(NOMINAL_LOAD + 0.05 * rng.gauss(), 0.55, 1);
    // Meters are not new: start from plausible readings.
    this.energyKwh = round(rng.next() * 500_000, 2);
    this.gasM3 = cls.gasM3PerHour > 0 ? round(rng.next() * 200_000, 2) : 0;
    this.outputUnits = cls.partsPerHour > 0 ? Math.floor(rng.next() * 1_000_000) : 0;
    this.state = options.holdRunning || rng.next() < 0.75 ? 'running' : 'idle';
    this.temperatureC = this.temperatureTarget();
    this.fluidC = this.fluidTarget();
    this.powerKw = this.powerTarget();
    this.measure();
  }

  /** True while the device reports nothing (`silence` fault). */
  get silent(): boolean {
    return this.injected.has('silence');
  }

  get faults(): FaultKind[] {
    return [...this.injected.keys()];
  }

  /** True while a natural fault is developing (it trips to `fault` within 5–20 min). */
  get faultDeveloping(): boolean {
    return this.precursor !== null;
  }

  /** Whether this machine can have the fault (the pump faults need a pump). */
  canHave(kind: FaultKind): boolean {
    return classCanHave(this.cls, kind);
  }

  injectFault(kind: FaultKind): void {
    if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault kind ${JSON.stringify(kind)}; one of ${FAULT_KINDS.join(', ')}`);
    if (!this.canHave(kind)) throw new Error(`${this.cls.name} ${this.ref.device} cannot have ${kind}: only a pump can`);
    if (!this.injected.has(kind)) this.injected.set(kind, 0);
  }

  /** Clear one injected fault, or all of them. */
  clearFaults(kind?: FaultKind): void {
    if (kind) this.injected.delete(kind);
    else this.injected.clear();
  }

  /** Advance the physics by `dtMs` milliseconds. */
  step(dtMs: number): void {
    if (!(dtMs >= 0) || !Number.isFinite(dtMs)) throw new Error(`step: dtMs must be a finite number ≥ 0, got ${dtMs}`);
    const dt = dtMs / 1000;
    const rng = this.rng;
    for (const [kind, age] of this.injected) this.injected.set(kind, age + dt);
    this.transition(dt);

    // Load: mean-reverting random walk around the nominal load (operators, part mix).
    this.load = clamp(this.load + (NOMINAL_LOAD - this.load) * (1 - Math.exp(-dt / 900)) + (this.options.loadWalk ?? 0.02) * Math.sqrt(dt / 60) * rng.gauss(), 0.55, 1);

    // Power ramps towards its target; the meter integrates it (trapezoid), so it never decreases.
    const before = this.powerKw;
    this.powerKw = Math.max(0, this.powerKw + (this.powerTarget() - this.powerKw) * (1 - Math.exp(-dt / this.cls.rampTauS)));
    this.energyKwh += ((before + this.powerKw) / 2) * (dt / 3600);
    this.gasM3 += this.gasFlowM3h() * (dt / 3600);

    // Parts only while running (the state after this step's transition, which the sample reports).
    if (this.state === 'running' && this.cls.partsPerHour > 0) {
      this.partial += (this.cls.partsPerHour * (this.load / NOMINAL_LOAD) * dt) / 3600;
      const whole = Math.floor(this.partial);
      this.outputUnits += whole;
      this.partial -= whole;
    }

    // Thermal inertia: first-order lag towards the target, plus a little process noise.
    const target = this.temperatureTarget();
    this.temperatureC += (target - this.temperatureC) * (1 - Math.exp(-dt / this.cls.thermalTauS)) + 0.02 * Math.sqrt(dt) * rng.gauss();
    // The fluid in the loop lags by the loop's own time constant (20 min); no extra noise drawn,
    // so machines without a pump keep their random stream.
    if (this.cls.pump) this.fluidC += (this.fluidTarget() - this.fluidC) * (1 - Math.exp(-dt / 1200));
    this.measure();
  }

  /** The latest measurement, stamped `ts`. Reads only: no randomness, no state change. */
  sample(ts: number): Sample {
    return { ts, m: { ...this.reading } };
  }

  private transition(dt: number): void {
    if (this.options.holdRunning) return;
    if (this.injected.has('idle-waste')) {
      this.state = 'idle';
      this.precursor = null;
      return;
    }
    if (this.precursor) {
      this.precursor.ageS += dt;
      if (this.precursor.ageS >= this.precursor.durationS) {
        this.precursor = null;
        this.state = 'fault';
      }
      return;
    }
    const rates = Object.entries(TRANSITIONS[this.state]) as [MachineState, number][];
    const total = rates.reduce((sum, [, rate]) => sum + rate, 0);
    if (!this.rng.chance(total, dt)) return;
    let u = this.rng.next() * total;
    let to = rates[rates.length - 1]![0];
    for (const [candidate, rate] of rates) {
      u -= rate;
      if (u <= 0) {
        to = candidate;
        break;
      }
    }
    if (this.state === 'running' && to === 'fault') {
      this.precursor = { ageS: 0, durationS: this.rng.uniform(300, 1200) };
      return;
    }
    this.state = to;
  }

  private powerTarget(): number {
    switch (this.state) {
      case 'running':
        return this.ratedKw * (this.driveLoad() * this.pumpPowerFactor() + this.leakFraction());
      case 'idle':
        return this.ratedKw * ((this.injected.has('idle-waste') ? 0.7 : this.idleFraction) + this.leakFraction());
      case 'stopped':
        return this.ratedKw * this.standbyFraction;
      case 'fault':
        return this.ratedKw * this.faultFraction;
    }
  }

  /** The share of rated power the drive draws while running: the load, plus any overload. */
  private driveLoad(): number {
    return this.injected.has('overload') ? this.load + 0.35 : this.load;
  }

  /** How far a pump fault has developed, 0…1 (0 when the machine does not have it). */
  private severity(kind: FaultKind): number {
    const age = this.injected.get(kind);
    if (age === undefined) return 0;
    switch (kind) {
      case 'cavitation':
        return Math.min(1, age / 180);
      case 'clogged-filter':
        return 1 - Math.exp(-age / 900);
      case 'misalignment':
        return Math.min(1, age / 60);
      case 'valve-stuck':
        return Math.min(1, age / 30);
      default:
        return 1;
    }
  }

  /** Share of its healthy power a running pump draws with its faults (1 for any other machine). */
  private pumpPowerFactor(): number {
    if (!this.cls.pump) return 1;
    return (1 - 0.08 * this.severity('cavitation')) * (1 - 0.12 * this.severity('clogged-filter')) * (1 - 0.15 * this.severity('valve-stuck')) * (1 + 0.06 * this.severity('misalignment'));
  }

  /** Share of the discharge valve that is open (1 unless it stuck part-closed). */
  private valveOpen(): number {
    return 1 - 0.45 * this.severity('valve-stuck');
  }

  /**
   * A pump's true flow and pressures now: flow ∝ speed and valve opening, discharge pressure ∝
   * speed² (higher when the valve throttles: the pump moves back on its curve), less of both when
   * it cavitates or its strainer clogs; suction pressure falls with either. Idle: minimum speed.
   */
  private hydraulics(): { flow: number; discharge: number; suction: number } {
    const h = this.cls.pump!;
    const turning = this.state === 'running' ? this.load / NOMINAL_LOAD : this.state === 'idle' ? 0.3 : 0;
    const cav = this.severity('cavitation');
    const clog = this.severity('clogged-filter');
    const open = this.valveOpen();
    const flow = h.flowM3h * turning * open * (1 - 0.2 * cav) * (1 - 0.3 * clog);
    const discharge = turning === 0 ? 0.05 * h.dischargeKpa : h.dischargeKpa * turning ** 2 * (1 + 0.3 * (1 - open)) * (1 - 0.15 * cav) * (1 - 0.1 * clog);
    const suction = h.suctionKpa * (1 - 0.35 * cav) * (1 - 0.45 * clog);
    return { flow, discharge, suction };
  }

  /** The fluid warms over ambient by the pump's losses, more when little flow carries them away. */
  private fluidTarget(): number {
    if (!this.cls.pump) return 0;
    const turning = this.state === 'running' ? this.load / NOMINAL_LOAD : this.state === 'idle' ? 0.3 : 0;
    if (turning === 0) return this.ambientC + 2;
    const throughput = this.hydraulics().flow / (this.cls.pump.flowM3h * turning);
    return this.ambientC + 4 + 10 * (1 - throughput);
  }

  /** Extra share of rated power drawn to make up a leak (it grows as the leak opens up over 30 min). */
  private leakFraction(): number {
    const age = this.injected.get('leak');
    return age === undefined ? 0 : 0.12 * Math.min(1, age / 1800);
  }

  /** Extra vibration of a wearing bearing at full speed: slow at first, then faster (exponential growth, capped). */
  private bearingWearMmS(): number {
    const age = this.injected.get('bearing-wear');
    return age === undefined ? 0 : Math.min(8 * this.cls.vibrationMmS, 0.1 * this.cls.vibrationMmS * (Math.exp(age / 5400) - 1));
  }

  private gasFlowM3h(): number {
    if (this.cls.gasM3PerHour === 0) return 0;
    if (this.state === 'running') return this.cls.gasM3PerHour * this.load;
    if (this.state === 'idle') return this.cls.gasM3PerHour * 0.3; // holding temperature
    return 0;
  }

  private temperatureTarget(): number {
    const rise = this.cls.tempRiseC;
    let t = this.ambientC;
    let heat = 0;
    if (this.state === 'running') heat = rise * (0.7 + 0.3 * (this.driveLoad() / NOMINAL_LOAD));
    else if (this.state === 'idle') heat = rise * 0.4;
    // Lost cooling: the same heat needs a larger rise over ambient to leave the machine.
    if (this.injected.has('cooling-loss')) heat += Math.min(40, 0.6 * heat);
    t += heat;
    // A worn bearing's friction: a few degrees at most; a misaligned coupling's, up to 8 °C.
    if (this.state === 'running') t += Math.min(10, 0.5 * this.bearingWearMmS()) + 8 * this.severity('misalignment');
    if (this.precursor) t += Math.min(15, this.precursor.ageS * 0.02);
    const overheatAge = this.injected.get('overheat');
    if (overheatAge !== undefined) t += Math.min(90, overheatAge * 0.15);
    return t;
  }

  private vibrationRms(): number {
    const base = this.cls.vibrationMmS;
    const turning = this.state === 'running' ? 1 : this.state === 'idle' ? 0.3 : 0;
    let v = this.state === 'running' ? base * (0.6 + 0.4 * (this.driveLoad() / NOMINAL_LOAD)) : this.state === 'idle' ? base * 0.2 : 0.05;
    // A developing fault (natural or injected bearing wear) shakes the machine harder and harder.
    if (this.precursor) v += Math.min(8, this.precursor.ageS * 0.01) * turning;
    const wearAge = this.injected.get('vibration');
    if (wearAge !== undefined) v += Math.min(15, wearAge * 0.02) * turning;
    v += this.bearingWearMmS() * turning;
    // Pump faults shake it harder while it turns; collapsing vapour bubbles also make it rough.
    const cav = this.severity('cavitation') * turning;
    v *= 1 + turning * (1.2 * cav + 0.2 * this.severity('clogged-filter') + 1.0 * this.severity('misalignment') + 0.3 * this.severity('valve-stuck'));
    return Math.max(0.01, v * (1 + (0.08 + 0.25 * cav) * this.rng.gauss()));
  }

  private powerFactorTarget(): number {
    // Without its capacitor bank the machine draws all of its reactive power from the grid.
    return this.injected.has('pf-degradation') ? this.healthyPowerFactor() - 0.12 : this.healthyPowerFactor();
  }

  private healthyPowerFactor(): number {
    switch (this.state) {
      case 'running':
        return 0.8 + 0.1 * this.load;
      case 'idle':
        return 0.6;
      case 'stopped':
        return 0.4;
      case 'fault':
        return 0.5;
    }
  }

  /** Read the instruments (all noise is drawn here, at the end of construction or of a step). */
  private measure(): void {
    const rng = this.rng;
    // A cavitating pump's load surges with the collapsing bubbles: its current is erratic.
    const cav = this.state === 'running' ? this.severity('cavitation') : 0;
    const power = Math.max(0, this.powerKw * (1 + (0.015 + 0.08 * cav) * rng.gauss()));
    const voltage = this.nominalV * (1 + 0.004 * rng.gauss()) - 4 * (this.powerKw / this.ratedKw);
    const pf = clamp(this.powerFactorTarget() + 0.01 * rng.gauss(), 0.2, 0.99);
    this.vibration = this.vibrationRms();
    const driftAge = this.injected.get('sensor-drift');
    const sensedTemp = this.temperatureC + 0.05 * rng.gauss() + (driftAge === undefined ? 0 : (2 * driftAge) / 3600);
    const previousTemp = this.reading.temperature_c;
    const m: Record<string, number> = {
      state: MACHINE_STATES[this.state],
      power_kw: round(power, 2),
      energy_kwh: round(this.energyKwh, 3),
      temperature_c: this.injected.has('stuck') && previousTemp !== undefined ? previousTemp : round(sensedTemp, 2),
      vibration_mm_s: round(this.vibration, 2),
      current_a: round((power * 1000) / (SQRT3 * voltage * pf), 2),
      voltage_v: round(voltage, 1),
      power_factor: round(pf, 3),
    };
    if (this.cls.partsPerHour > 0) m.output_units = this.outputUnits;
    if (this.cls.gasM3PerHour > 0) m.gas_m3 = round(this.gasM3, 3);
    if (this.cls.pump) {
      const h = this.hydraulics();
      m.flow_m3_h = round(Math.max(0, h.flow * (1 + (0.015 + 0.1 * cav) * rng.gauss())), 2);
      m.pressure_kpa = round(Math.max(0, h.discharge * (1 + (0.01 + 0.06 * cav) * rng.gauss())), 1);
      m.suction_kpa = round(Math.max(0, h.suction * (1 + (0.02 + 0.1 * cav) * rng.gauss())), 1);
      m.fluid_temperature_c = round(this.fluidC + 0.05 * rng.gauss(), 2);
    }
    this.reading = m;
  }
}
