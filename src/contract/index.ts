export * from './errors.js';
export * from './ids.js';
export * from './topic.js';
export * from './metrics.js';
export * from './payload.js';
export * from './decoder.js';
export * from './status-message.js';
