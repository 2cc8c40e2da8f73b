import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { deviceKey } from '../../src/contract/index.js';
import { Machine, type FaultKind } from './machine.js';
import { MACHINE_CLASSES } from './machine-classes.js';
import { Rng } from './rng.js';

export interface PlantShape {
  sites: number;
  linesPerSite: number;
  machinesPerLine: number;
  seed: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * A simulated factory: sites → lines → machines (ids `site-01`, `line-01`, `m-001`). Machine
 * classes rotate along each line so every line mixes loads. Each machine has its own random
 * stream derived from the seed, so adding a machine does not change the others.
 */
export class Plant {
  readonly machines: Machine[] = [];
  private readonly byKey = new Map<string, Machine>();

  constructor(shape: PlantShape) {
    for (let s = 1; s <= shape.sites; s++) {
      for (let l = 1; l <= shape.linesPerSite; l++) {
        for (let m = 1; m <= shape.machinesPerLine; m++) {
          const ref: DeviceRef = { site: `site-${pad(s, 2)}`, line: `line-${pad(l, 2)}`, device: `m-${pad(m, 3)}` };
          const rng = new Rng((shape.seed * 1_000_003 + s * 10_007 + l * 101 + m) >>> 0);
          const machine = new Machine(ref, MACHINE_CLASSES[(m - 1) % MACHINE_CLASSES.length]!, rng);
          this.machines.push(machine);
          this.byKey.set(deviceKey(ref), machine);
        }
      }
    }
  }

  get sites(): string[] {
    return [...new Set(this.machines.map((m) => m.ref.site))];
  }

  machine(ref: DeviceRef): Machine | undefined {
    return this.byKey.get(deviceKey(ref));
  }

  injectFault(ref: DeviceRef, kind: FaultKind): void {
    const m = this.machine(ref);
    if (!m) throw new Error(`no simulated machine ${deviceKey(ref)}`);
    m.injectFault(kind);
  }

  step(dtMs: number): void {
    for (const m of this.machines) m.step(dtMs);
  }

  /** One sample per machine that is not silenced. */
  sample(ts: number): { machine: Machine; sample: Sample }[] {
    return this.machines.filter((m) => !m.silent).map((machine) => ({ machine, sample: machine.sample(ts) }));
  }
}
