export { Backoff, retryDelayMs, type BackoffPolicy } from './backoff.js';
export { parseRetryAfter } from './retry-after.js';
