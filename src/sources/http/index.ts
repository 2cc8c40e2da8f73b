export { registerIngestRoutes, type IngestSiteCheck } from './ingest-route.js';
