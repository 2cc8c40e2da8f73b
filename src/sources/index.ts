export * from './mqtt/index.js';
export * from './http/index.js';
