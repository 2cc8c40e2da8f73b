import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { deviceKey } from '../../src/contract/index.js';
import { Machine, type FaultKind } from './machine.js';
import { MACHINE_CLASSES, type MachineClass } from './machine-classes.js';
import { Rng, streamSeed } from './rng.js';

export interface PlantShape {
  sites: number;
  linesPerSite: number;
  machinesPerLine: number;
  seed: number;
  /** Classes rotating along each line (default the factory's five). */
  classes?: readonly MachineClass[];
}

/** Large enough for any demo or load test, small enough that a typo cannot exhaust memory. */
export const MAX_MACHINES = 100_000;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A device by its ref, or by its key `site/line/device` (as in `deviceKey`). */
export type DeviceSelector = DeviceRef | string;

export function validatePlantShape(shape: PlantShape): void {
  for (const name of ['sites', 'linesPerSite', 'machinesPerLine'] as const) {
    const v = shape[name];
    if (!Number.isInteger(v) || v < 1) throw new Error(`plant: ${name} must be an integer ≥ 1, got ${String(v)}`);
  }
  if (!Number.isFinite(shape.seed)) throw new Error(`plant: seed must be a finite number, got ${String(shape.seed)}`);
  if (shape.classes !== undefined && shape.classes.length === 0) throw new Error('plant: classes must name at least one machine class');
  const total = shape.sites * shape.linesPerSite * shape.machinesPerLine;
  if (total > MAX_MACHINES) throw new Error(`plant: ${total} machines is more than ${MAX_MACHINES}`);
}

/**
 * A simulated factory: sites → lines → machines (ids `site-01`, `line-01`, `m-001`). Machine
 * classes rotate along each line (cnc, press, compressor, furnace, oven, or `shape.classes`), so every line mixes
 * loads. Each machine has its own random stream derived from the seed and its key, so the same
 * seed gives the same factory and adding a machine does not change the others. No I/O, no clock:
 * `step(dtMs)` advances time, `sample(ts)` reads the instruments.
 */
export class Plant {
  readonly machines: Machine[] = [];
  private readonly byKey = new Map<string, Machine>();

  constructor(shape: PlantShape) {
    validatePlantShape(shape);
    const classes = shape.classes ?? MACHINE_CLASSES;
    for (let s = 1; s <= shape.sites; s++) {
      for (let l = 1; l <= shape.linesPerSite; l++) {
        for (let m = 1; m <= shape.machinesPerLine; m++) {
          const ref: DeviceRef = { site: `site-${pad(s, 2)}`, line: `line-${pad(l, 2)}`, device: `m-${pad(m, 3)}` };
          const key = deviceKey(ref);
          const machine = new Machine(ref, classes[(m - 1) % classes.length]!, new Rng(streamSeed(shape.seed, key)));
          this.machines.push(machine);
          this.byKey.set(key, machine);
        }
      }
    }
  }

  get sites(): string[] {
    return [...new Set(this.machines.map((m) => m.ref.site))];
  }

  get devices(): DeviceRef[] {
    return this.machines.map((m) => m.ref);
  }

  machine(device: DeviceSelector): Machine | undefined {
    return this.byKey.get(typeof device === 'string' ? device : deviceKey(device));
  }

  injectFault(device: DeviceSelector, kind: FaultKind): void {
    this.require(device).injectFault(kind);
  }

  clearFaults(device: DeviceSelector, kind?: FaultKind): void {
    this.require(device).clearFaults(kind);
  }

  /** Advance every machine by `dtMs` milliseconds. */
  step(dtMs: number): void {
    for (const m of this.machines) m.step(dtMs);
  }

  /** One sample per machine that is not silenced, stamped `ts`. Reads only. */
  sample(ts: number): { machine: Machine; sample: Sample }[] {
    const out: { machine: Machine; sample: Sample }[] = [];
    for (const machine of this.machines) if (!machine.silent) out.push({ machine, sample: machine.sample(ts) });
    return out;
  }

  private require(device: DeviceSelector): Machine {
    const m = this.machine(device);
    if (!m) throw new Error(`no simulated machine ${typeof device === 'string' ? device : deviceKey(device)}`);
    return m;
  }
}
