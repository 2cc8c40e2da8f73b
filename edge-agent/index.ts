/** PlantPulse edge agent: public API. */
export { startSimulatedFactory, publishBurst, type SimulatedFactory, type FactoryStats } from './agent.js';
export { resolveOptions, MAX_SAMPLES_PER_MESSAGE, type SimulatedFactoryOptions, type AgentMode } from './options.js';
export { type FactoryResult, type BurstResult, type DeviceTally } from './sent-log.js';
export { Plant, Machine, Rng, MACHINE_CLASSES, FAULT_KINDS, type FaultKind, type MachineState, type MachineClass, type PlantShape, type DeviceSelector } from './simulator/index.js';
export { Simulation, SCHEDULED_FAULTS, planFaults, parseFaultKinds, fleetShape, type FaultLabel, type SimulationOptions } from './simulator/index.js';
export { GatewayPublisher, gatewayStatusTopic, GATEWAY_LINE, AGENT_VERSION, type GatewayOptions, type PublisherStats, type ClientFactory, type StatusMessage } from './publisher/index.js';
export { parseAgentArgs, AGENT_HELP, type ParsedAgentArgs } from './cli-args.js';
