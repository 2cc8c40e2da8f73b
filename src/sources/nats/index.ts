export { NatsSource, type NatsSourceOptions } from './nats-source.js';
export { ensureJetStream, type JetStreamLayout } from './jetstream-setup.js';
export { leaseSafetyMs, PartitionLeases, type LeaseOptions, type LeaseHandlers } from './partition-leases.js';
export * from './subjects.js';
export { StateHandOver, type DeviceStates } from './state-hand-over.js';
