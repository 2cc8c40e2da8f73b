export { Plant, type PlantShape } from './plant.js';
export { Machine, type MachineState, type FaultKind } from './machine.js';
export { MACHINE_CLASSES, TRANSITIONS, type MachineClass } from './machine-classes.js';
export { Rng } from './rng.js';
