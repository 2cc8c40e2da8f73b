export * from './types.js';
export { AnalyticsEngine, type AnalyticsOutput, type AnalyticsStats } from './engine.js';
export { loadAnalyticsConfig, AnalyticsConfigError, type AnalyticsConfig } from './config.js';
export { type DeviceStateJson } from './device-state.js';
