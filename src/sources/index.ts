export * from './mqtt/index.js';
export * from './http/index.js';
export * from './line-protocol/index.js';
export * from './sparkplug/index.js';
export * from './nats/index.js';
