export { createMetrics, type Metrics, type IngestSource } from './metrics.js';
export { createLogger, REDACT_PATHS, type Logger } from './logger.js';
export { maskUrlQuery, redactUrl, scrubText, REDACTED } from './redact.js';
export { Tally } from './tally.js';
