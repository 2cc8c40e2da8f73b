export { startSimulatedFactory, publishBurst, type SimulatedFactory, type SimulatedFactoryOptions, type BurstResult, type DeviceTally } from './agent.js';
export { Plant, Machine, Rng, MACHINE_CLASSES, type FaultKind, type MachineState, type PlantShape } from './simulator/index.js';
export { GatewayPublisher, gatewayStatusTopic, AGENT_VERSION } from './publisher/index.js';
