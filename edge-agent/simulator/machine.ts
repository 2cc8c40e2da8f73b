import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { MACHINE_STATES } from '../../src/contract/index.js';
import { TRANSITIONS, type MachineClass } from './machine-classes.js';
import type { Rng } from './rng.js';

export type MachineState = keyof typeof MACHINE_STATES;
export type FaultKind = 'overheat' | 'vibration' | 'stuck' | 'silence';

const AMBIENT_C = 22;
const NOMINAL_V = 400;

/**
 * One simulated machine with believable physics: a Markov state machine (running, idle,
 * stopped, fault), power that follows the state with a lag and noise, energy integrated from
 * power, parts counted only while running, temperature with thermal inertia, vibration that
 * rises with load and much more with a developing fault. Pure: all randomness comes from `rng`.
 */
export class Machine {
  state: MachineState;
  powerKw = 0;
  energyKwh: number;
  outputUnits = 0;
  temperatureC = AMBIENT_C;
  vibration = 0;
  private load = 0.8;
  private partial = 0;
  private readonly faults = new Set<FaultKind>();
  private faultAgeS = 0;

  constructor(
    readonly ref: DeviceRef,
    readonly cls: MachineClass,
    private readonly rng: Rng,
  ) {
    // Meters are not new: start from a plausible reading.
    this.energyKwh = Math.round(rng.next() * 500_000 * 100) / 100;
    this.state = rng.next() < 0.75 ? 'running' : 'idle';
    this.temperatureC = AMBIENT_C + (this.state === 'running' ? cls.tempRiseC * 0.9 : cls.tempRiseC * 0.3);
    this.powerKw = this.targetPower();
  }

  get silent(): boolean {
    return this.faults.has('silence');
  }

  injectFault(kind: FaultKind): void {
    this.faults.add(kind);
    this.faultAgeS = 0;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  private targetPower(): number {
    const r = this.cls.ratedKw;
    switch (this.state) {
      case 'running':
        return r * this.load;
      case 'idle':
        return r * 0.22;
      case 'stopped':
        return r * 0.01;
      case 'fault':
        return r * 0.05;
    }
  }

  private powerFactor(): number {
    return this.state === 'running' ? 0.86 + 0.08 * this.load : this.state === 'idle' ? 0.62 : 0.5;
  }

  step(dtMs: number): void {
    const dt = dtMs / 1000;
    const rng = this.rng;
    // State transitions (Poisson events at the rates of TRANSITIONS).
    for (const [to, rate] of Object.entries(TRANSITIONS[this.state]) as [MachineState, number][]) {
      if (rng.chance(rate, dt)) {
        this.state = to;
        break;
      }
    }
    // Load wanders slowly between 60 % and 98 %.
    this.load = Math.min(0.98, Math.max(0.6, this.load + 0.01 * rng.gauss() * Math.sqrt(dt)));
    // Power follows its target with a 5 s lag, plus 1.5 % noise.
    const target = this.targetPower();
    this.powerKw += (target - this.powerKw) * (1 - Math.exp(-dt / 5));
    const power = Math.max(0, this.powerKw * (1 + 0.015 * rng.gauss()));
    this.energyKwh += (power * dt) / 3600;
    if (this.state === 'running' && this.cls.partsPerHour > 0) {
      this.partial += (this.cls.partsPerHour * this.load * dt) / 3600;
      const whole = Math.floor(this.partial);
      this.outputUnits += whole;
      this.partial -= whole;
    }
    // Temperature: first-order lag towards a state-dependent target (thermal inertia).
    this.faultAgeS += dt;
    const rise = this.state === 'running' ? this.cls.tempRiseC * (0.7 + 0.3 * this.load) : this.state === 'idle' ? this.cls.tempRiseC * 0.3 : 0;
    const overheat = this.faults.has('overheat') ? Math.min(80, this.faultAgeS * 0.5) : 0;
    if (!this.faults.has('stuck')) {
      const tTarget = AMBIENT_C + rise + overheat;
      this.temperatureC += (tTarget - this.temperatureC) * (1 - Math.exp(-dt / this.cls.thermalTauS)) + 0.03 * rng.gauss();
    }
    // Vibration: RMS velocity scales with load; a developing bearing fault grows over minutes.
    const base = this.state === 'running' ? this.cls.vibrationMmS * (0.6 + 0.4 * this.load) : this.state === 'idle' ? this.cls.vibrationMmS * 0.2 : this.state === 'fault' ? this.cls.vibrationMmS * 2 : 0.05;
    const bearing = this.faults.has('vibration') ? Math.min(12, this.faultAgeS * 0.05) : 0;
    this.vibration = Math.max(0.01, (base + bearing) * (1 + 0.08 * rng.gauss()));
    this.powerKw = Math.max(0, this.powerKw);
  }

  sample(ts: number): Sample {
    const rng = this.rng;
    const voltage = NOMINAL_V * (1 + 0.01 * rng.gauss());
    const pf = Math.min(1, Math.max(0.3, this.powerFactor() + 0.01 * rng.gauss()));
    const current = (this.powerKw * 1000) / (Math.sqrt(3) * voltage * pf);
    const r2 = (v: number) => Math.round(v * 100) / 100;
    const m: Record<string, number> = {
      state: MACHINE_STATES[this.state],
      power_kw: r2(this.powerKw),
      energy_kwh: Math.round(this.energyKwh * 1000) / 1000,
      temperature_c: r2(this.temperatureC),
      vibration_mm_s: r2(this.vibration),
      current_a: r2(current),
      voltage_v: r2(voltage),
      power_factor: Math.round(pf * 1000) / 1000,
    };
    if (this.cls.partsPerHour > 0) m.output_units = this.outputUnits;
    return { ts, m };
  }
}
