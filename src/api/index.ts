export { buildServer, type ApiDeps } from './server.js';
export type { ReadinessCheck } from './health-routes.js';
