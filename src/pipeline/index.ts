export { Pipeline, type DurableWriter, type BatchAnalytics, type StatusListener, type StoredListener } from './pipeline.js';
export { AnalyticsStage } from './analytics-stage.js';
export { telemetryPoints, TELEMETRY_MEASUREMENT } from './to-points.js';
