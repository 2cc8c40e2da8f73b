/**
 * Machine classes of the simulated factory. Figures are typical of their kind, not of any
 * vendor. Each machine draws its own nameplate within ±10 % of `ratedKw`.
 */
export interface MachineClass {
  name: string;
  /** Rated electrical power, kW. Running power is rated × load (load 55–100 %). */
  ratedKw: number;
  /** Good parts per hour at nominal load (0: the machine makes no parts, e.g. a compressor). */
  partsPerHour: number;
  /** Natural gas at full fire, m³/h (0: no gas meter). */
  gasM3PerHour: number;
  /** Temperature rise over ambient when running at nominal load, °C. */
  tempRiseC: number;
  /** Thermal time constant, s (first-order lag). */
  thermalTauS: number;
  /** Vibration RMS velocity while running at nominal load, mm/s (ISO 10816 "good" zone). */
  vibrationMmS: number;
  /** Time constant of power following a state change, s (drives, heaters, soft starters). */
  rampTauS: number;
  /**
   * A centrifugal pump's hydraulics at nominal load, for classes that are pumps: flow (m³/h),
   * discharge and suction pressure (kPa). Such a machine also reports its flow, both pressures
   * and the pumped fluid's temperature, and can have the pump faults (machine.ts).
   */
  pump?: { flowM3h: number; dischargeKpa: number; suctionKpa: number };
}

export const MACHINE_CLASSES: readonly MachineClass[] = [
  { name: 'cnc', ratedKw: 22, partsPerHour: 40, gasM3PerHour: 0, tempRiseC: 30, thermalTauS: 600, vibrationMmS: 1.8, rampTauS: 2 },
  { name: 'press', ratedKw: 55, partsPerHour: 600, gasM3PerHour: 0, tempRiseC: 25, thermalTauS: 900, vibrationMmS: 3.5, rampTauS: 2 },
  { name: 'compressor', ratedKw: 75, partsPerHour: 0, gasM3PerHour: 0, tempRiseC: 55, thermalTauS: 400, vibrationMmS: 2.8, rampTauS: 4 },
  { name: 'furnace', ratedKw: 250, partsPerHour: 120, gasM3PerHour: 0, tempRiseC: 180, thermalTauS: 1800, vibrationMmS: 0.6, rampTauS: 10 },
  { name: 'oven', ratedKw: 15, partsPerHour: 300, gasM3PerHour: 35, tempRiseC: 160, thermalTauS: 1200, vibrationMmS: 1.2, rampTauS: 5 },
];

/**
 * A process water pump (centrifugal, motor-driven). Not in the factory's rotation: fleets and
 * exports include it when asked (`--classes`), and pump test-bench runs (bench.ts) are all pumps.
 */
export const PUMP_CLASS: MachineClass = {
  name: 'pump',
  ratedKw: 30,
  partsPerHour: 0,
  gasM3PerHour: 0,
  tempRiseC: 35,
  thermalTauS: 600,
  vibrationMmS: 2.2,
  rampTauS: 3,
  pump: { flowM3h: 120, dischargeKpa: 450, suctionKpa: 150 },
};

/** Every class by name: the factory's five and the pump. */
export const CLASSES_BY_NAME: Readonly<Record<string, MachineClass>> = Object.fromEntries([...MACHINE_CLASSES, PUMP_CLASS].map((c) => [c.name, c]));

/**
 * Machine classes from a `--classes` value: names separated by commas, where `factory` stands for
 * the five of the default rotation and `all` for every class (`factory,pump` = `all`).
 */
export function parseClasses(value: string): MachineClass[] {
  if (value.trim() === '') return [...MACHINE_CLASSES];
  return value.split(',').flatMap((raw) => {
    const name = raw.trim();
    if (name === 'factory') return [...MACHINE_CLASSES];
    if (name === 'all') return Object.values(CLASSES_BY_NAME);
    const c = CLASSES_BY_NAME[name];
    if (!c) throw new Error(`unknown machine class ${JSON.stringify(name)}; use factory, all or some of ${Object.keys(CLASSES_BY_NAME).join(', ')}`);
    return [c];
  });
}

/** Nominal load: the load a running machine returns to (mean-reverting random walk). */
export const NOMINAL_LOAD = 0.8;

/**
 * Transition rates per second between states: mean dwell = 1 / sum of a state's rates.
 * Running: ~15 min between idles, a fault every ~10 h of running (announced by a developing
 * fault: vibration and heat rise for 5–20 min before the trip). Idle: back to work within
 * minutes, or shut down. Stopped: ~30 min. Fault: repaired in ~10 min, then idle.
 */
export const TRANSITIONS = {
  running: { idle: 1 / 900, fault: 1 / 36_000 },
  idle: { running: 1 / 150, stopped: 1 / 7200 },
  stopped: { idle: 1 / 1800 },
  fault: { idle: 1 / 600 },
} as const;
