import { classCanHave, type FaultKind } from './machine.js';
import type { MachineClass } from './machine-classes.js';
import { Rng, streamSeed } from './rng.js';

/**
 * The faults a simulated fleet gets when faults are asked for: the slow faults found in plants
 * (machine.ts describes each signature) plus a stuck sensor and idle waste. `silence` is left
 * out (its detection is about arrival time, not the data), and so are the quick demo faults
 * `overheat` and `vibration`, which `cooling-loss` and `bearing-wear` model more faithfully.
 * The pump faults come last: they land only on pumps (a fleet with `--classes` including `pump`).
 */
export const SCHEDULED_FAULTS: readonly FaultKind[] = ['bearing-wear', 'cooling-loss', 'stuck', 'leak', 'idle-waste', 'pf-degradation', 'sensor-drift', 'overload', 'cavitation', 'clogged-filter', 'misalignment', 'valve-stuck'];

/** How long each fault lasts before it is found and repaired, hours [min, max]. */
const DURATION_H: Partial<Record<FaultKind, [number, number]>> = {
  'bearing-wear': [4, 8],
  'cooling-loss': [2, 4],
  stuck: [2, 6],
  leak: [4, 8],
  'idle-waste': [1, 3],
  'pf-degradation': [4, 8],
  'sensor-drift': [4, 8],
  overload: [1, 3],
  cavitation: [1, 3],
  'clogged-filter': [3, 6],
  misalignment: [4, 8],
  'valve-stuck': [2, 5],
};

/**
 * One fault on one machine, and its label: from onset to repair (epoch ms, [start, end)).
 * `kind` is a fault kind, or `trip` for a natural fault the machine developed by itself
 * (vibration and heat rising for 5–20 min, then a trip to the fault state until repaired).
 */
export interface FaultLabel {
  device: string;
  kind: FaultKind | 'trip';
  start: number;
  end: number;
}

export interface FaultPlanOptions {
  /** Device keys (`site/line/device`), one fault each, in this order. */
  devices: readonly string[];
  /** Simulated span, epoch ms. */
  startTs: number;
  endTs: number;
  kinds: readonly FaultKind[];
  seed: number;
  /** Whether a device can have a kind (default: any); a device that can have none of the kinds gets no fault. */
  fits?: (device: string, kind: FaultKind) => boolean;
}

/**
 * Plan one fault per device: kinds in turn along the device list, shifted by one after every five
 * rounds (machine classes rotate with period 5 along a line, so with five kinds or fewer each kind
 * would otherwise always land on the same class), onset and duration
 * drawn from the seed. Onsets fall after the first 40 % of the span, so that the learned baselines
 * (up to ~8 h of warm-up for energy intensity) have seen the machine healthy first, and every
 * fault is repaired before the end, so each label window is whole.
 */
export function planFaults(o: FaultPlanOptions): FaultLabel[] {
  const fits = o.fits;
  if (!(o.endTs > o.startTs)) throw new Error('planFaults: endTs must be after startTs');
  if (o.kinds.length === 0) throw new Error('planFaults: no fault kinds');
  for (const k of o.kinds) if (!DURATION_H[k]) throw new Error(`planFaults: ${JSON.stringify(k)} cannot be scheduled; one of ${SCHEDULED_FAULTS.join(', ')}`);
  const span = o.endTs - o.startTs;
  const earliest = o.startTs + 0.4 * span;
  return o.devices.flatMap((device, i) => {
    // Only the kinds this device can have (a pump fault needs a pump); with every kind fitting,
    // the rotation is the same as without the filter.
    const kinds = fits ? o.kinds.filter((k) => fits(device, k)) : o.kinds;
    if (kinds.length === 0) return [];
    const kind = kinds[(i + Math.floor(i / (kinds.length * 5))) % kinds.length]!;
    const rng = new Rng(streamSeed(o.seed, `fault|${device}`));
    const [lo, hi] = DURATION_H[kind]!;
    // Short spans (tests, demos) shrink the fault to fit: at most half of what follows the warm-up.
    const duration = Math.min(rng.uniform(lo, hi) * 3_600_000, (o.endTs - earliest) / 2);
    const start = Math.round(earliest + rng.next() * (o.endTs - earliest - duration));
    return [{ device, kind, start, end: Math.round(start + duration) }];
  });
}

/**
 * Parse a `--faults` value: `all`, `none`, or a comma-separated list of kinds. With the fleet's
 * machine classes, `all` is every kind one of them can have, and a kind none can have is an error.
 */
export function parseFaultKinds(value: string, classes?: readonly MachineClass[]): FaultKind[] {
  const possible = (k: FaultKind) => !classes || classes.some((c) => classCanHave(c, k));
  if (value === 'all') return SCHEDULED_FAULTS.filter(possible);
  if (value === 'none' || value === '') return [];
  const kinds = value.split(',').map((s) => s.trim());
  for (const k of kinds) if (!SCHEDULED_FAULTS.includes(k as FaultKind)) throw new Error(`unknown fault ${JSON.stringify(k)}; use all, none or some of ${SCHEDULED_FAULTS.join(', ')}`);
  for (const k of kinds as FaultKind[]) if (!possible(k)) throw new Error(`no machine of the fleet can have ${k}: add a pump (--classes factory,pump or --classes pump)`);
  return kinds as FaultKind[];
}
