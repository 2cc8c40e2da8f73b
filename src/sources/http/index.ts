export { registerIngestRoutes } from './ingest-route.js';
