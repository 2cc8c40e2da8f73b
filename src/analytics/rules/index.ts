export * from './schema.js';
export * from './defaults.js';
export * from './resolve.js';
export * from './load.js';
