export { Plant, validatePlantShape, MAX_MACHINES, type PlantShape, type DeviceSelector } from './plant.js';
export { Machine, FAULT_KINDS, PUMP_FAULTS, classCanHave, type MachineState, type FaultKind, type MachineOptions } from './machine.js';
export { MACHINE_CLASSES, PUMP_CLASS, CLASSES_BY_NAME, parseClasses, NOMINAL_LOAD, TRANSITIONS, type MachineClass } from './machine-classes.js';
export { Rng, streamSeed } from './rng.js';
export { SCHEDULED_FAULTS, planFaults, parseFaultKinds, type FaultLabel, type FaultPlanOptions } from './fault-schedule.js';
export { Simulation, fleetShape, type SimulationOptions } from './simulation.js';
export { benchRuns, benchChannels, type BenchOptions, type BenchRun } from './bench.js';
