/**
 * Machine classes of the simulated factory. Figures are typical of their kind, not of any
 * vendor: rated power (kW), parts per hour while running, temperature rise over ambient when
 * running (°C) and its time constant (s), vibration RMS while running (mm/s, ISO 10816 "good").
 */
export interface MachineClass {
  name: string;
  ratedKw: number;
  partsPerHour: number;
  tempRiseC: number;
  thermalTauS: number;
  vibrationMmS: number;
}

export const MACHINE_CLASSES: readonly MachineClass[] = [
  { name: 'cnc', ratedKw: 22, partsPerHour: 40, tempRiseC: 30, thermalTauS: 600, vibrationMmS: 1.8 },
  { name: 'press', ratedKw: 55, partsPerHour: 600, tempRiseC: 25, thermalTauS: 900, vibrationMmS: 3.5 },
  { name: 'compressor', ratedKw: 75, partsPerHour: 0, tempRiseC: 55, thermalTauS: 400, vibrationMmS: 2.8 },
  { name: 'furnace', ratedKw: 250, partsPerHour: 120, tempRiseC: 180, thermalTauS: 1800, vibrationMmS: 0.6 },
];

/** Transition rates per second between states: mean dwell = 1 / sum of a state's rates. */
export const TRANSITIONS = {
  running: { idle: 1 / 900, fault: 1 / 36_000 },
  idle: { running: 1 / 150, stopped: 1 / 7200 },
  stopped: { idle: 1 / 1800 },
  fault: { idle: 1 / 600 },
} as const;
