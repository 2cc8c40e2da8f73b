import type { Sample } from '../../src/contract/index.js';
import { deviceKey } from '../../src/contract/index.js';
import { planFaults, type FaultLabel } from './fault-schedule.js';
import type { FaultKind, Machine } from './machine.js';
import type { MachineClass } from './machine-classes.js';
import { Plant, type PlantShape } from './plant.js';

export interface SimulationOptions {
  machines: number;
  seed: number;
  /** Epoch ms of the first sample. */
  startTs: number;
  hours: number;
  /** One sample per machine this often; the physics step at the same pace. */
  intervalMs: number;
  /** Kinds to schedule, one fault per machine (none: a healthy fleet). */
  faults: readonly FaultKind[];
  /** Classes rotating along each line (default the factory's five). */
  classes?: readonly MachineClass[];
}

/** A plant of `n` machines: lines of 10 (or one line when `n` is not a multiple of 10), 10 lines per site. */
export function fleetShape(n: number, seed: number, classes?: readonly MachineClass[]): PlantShape {
  if (!Number.isInteger(n) || n < 1) throw new Error(`machines must be an integer ≥ 1, got ${String(n)}`);
  if (n % 10 !== 0) return { sites: 1, linesPerSite: 1, machinesPerLine: n, seed, classes };
  const lines = n / 10;
  const linesPerSite = lines % 10 === 0 ? 10 : lines;
  return { sites: lines / linesPerSite, linesPerSite, machinesPerLine: 10, seed, classes };
}

/**
 * A labelled run of the simulated factory: scheduled faults are injected at their onset and
 * cleared at their repair, and the natural faults the machines develop by themselves are
 * labelled as they happen (`trip`: from the first sign to the end of the repair). Everything
 * follows from the options, so the same options give the same samples and labels.
 */
export class Simulation {
  readonly plant: Plant;
  /** Scheduled faults, known from the start. */
  readonly scheduled: readonly FaultLabel[];
  /** Natural faults, completed ones (a trip still open at the end is closed by `labels()`). */
  private readonly trips: FaultLabel[] = [];
  private readonly openTrips = new Map<Machine, number>();
  private readonly endTs: number;

  constructor(readonly options: SimulationOptions) {
    if (!(options.hours > 0) || !Number.isFinite(options.hours)) throw new Error(`hours must be a number > 0, got ${String(options.hours)}`);
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 1000) throw new Error(`interval must be a whole number of ms ≥ 1000, got ${String(options.intervalMs)}`);
    this.plant = new Plant(fleetShape(options.machines, options.seed, options.classes));
    this.endTs = options.startTs + options.hours * 3_600_000;
    this.scheduled =
      options.faults.length === 0
        ? []
        : planFaults({
            devices: this.plant.machines.map((m) => deviceKey(m.ref)),
            startTs: options.startTs,
            endTs: this.endTs,
            kinds: options.faults,
            seed: options.seed,
            fits: (device, kind) => this.plant.machine(device)!.canHave(kind),
          });
  }

  /** Number of sample times (steps) the run has. */
  get stepCount(): number {
    return Math.floor((this.endTs - this.options.startTs) / this.options.intervalMs) + 1;
  }

  /** Every label, scheduled and natural, by device then start. */
  labels(): FaultLabel[] {
    const open = [...this.openTrips].map(([m, start]) => ({ device: deviceKey(m.ref), kind: 'trip' as const, start, end: this.endTs }));
    return [...this.scheduled, ...this.trips, ...open].sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.start - b.start));
  }

  /** The samples of each step in time order: the first at `startTs`, before any physics step. */
  *steps(): Generator<{ ts: number; samples: { machine: Machine; sample: Sample }[] }> {
    const { startTs, intervalMs } = this.options;
    const byDevice = new Map(this.plant.machines.map((m) => [deviceKey(m.ref), m]));
    // Onsets and repairs in time order, applied at the first step at or after their time.
    const changes = this.scheduled
      .flatMap((f) => [
        { ts: f.start, machine: byDevice.get(f.device)!, kind: f.kind as FaultKind, on: true },
        { ts: f.end, machine: byDevice.get(f.device)!, kind: f.kind as FaultKind, on: false },
      ])
      .sort((a, b) => a.ts - b.ts);
    let next = 0;
    for (let k = 0; k < this.stepCount; k++) {
      const ts = startTs + k * intervalMs;
      while (next < changes.length && changes[next]!.ts <= ts) {
        const c = changes[next++]!;
        if (c.on) c.machine.injectFault(c.kind);
        else c.machine.clearFaults(c.kind);
      }
      if (k > 0) this.plant.step(intervalMs);
      this.trackTrips(ts);
      yield { ts, samples: this.plant.sample(ts) };
    }
  }

  private trackTrips(ts: number): void {
    for (const m of this.plant.machines) {
      const tripping = m.faultDeveloping || m.state === 'fault';
      const since = this.openTrips.get(m);
      if (tripping && since === undefined) this.openTrips.set(m, ts);
      else if (!tripping && since !== undefined) {
        this.openTrips.delete(m);
        this.trips.push({ device: deviceKey(m.ref), kind: 'trip', start: since, end: ts });
      }
    }
  }
}
