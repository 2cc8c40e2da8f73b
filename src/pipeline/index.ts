export { Pipeline, type DurableWriter } from './pipeline.js';
export { telemetryPoints, TELEMETRY_MEASUREMENT } from './to-points.js';
