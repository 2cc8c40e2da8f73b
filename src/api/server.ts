import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DecodeLimits } from '../contract/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Pipeline } from '../pipeline/index.js';
import { DEFAULT_LINE_PROTOCOL_MAPPING, registerIngestRoutes, registerLineProtocolRoutes, type LineProtocolMapping } from '../sources/index.js';
import type { AlertManager, AlertNotifier } from '../alerts/index.js';
import type { HistoryReader } from '../storage/index.js';
import { registerAlertRoutes } from './alert-routes.js';
import { registerEnergyRoutes } from './energy-routes.js';
import { installErrorHandlers } from './error-handler.js';
import { registerSeriesRoutes } from './series-routes.js';
import { registerHealthRoutes, type ReadinessCheck } from './health-routes.js';

export interface ApiDeps {
  logger: Logger;
  metrics: Metrics;
  pipeline: Pipeline;
  limits: DecodeLimits;
  readiness: ReadinessCheck[];
  /** Read APIs: alerts (and acknowledgements, told to `notifier`), history and energy from storage. */
  alerts?: AlertManager;
  notifier?: AlertNotifier;
  history?: HistoryReader;
  /** Energy windows align on local midnight at this offset (energy config `windows.utcOffsetMinutes`). */
  energyUtcOffsetMs?: number;
  /** Line protocol tag and measurement mapping (default: DEFAULT_LINE_PROTOCOL_MAPPING). */
  lineProtocol?: LineProtocolMapping;
}

export function buildServer(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.limits.maxBytes,
    // Per-request logs at info would cost more than ingest itself; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Bounded resources against slow or idle clients.
    requestTimeout: 120_000,
    connectionTimeout: 130_000,
    keepAliveTimeout: 10_000,
  });
  // Keep JSON bodies raw: the contract decoder parses them itself, so HTTP and MQTT share one
  // decoder and its exact error reasons (e.g. 1e999 → Infinity is caught there).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  installErrorHandlers(app);
  registerHealthRoutes(app, deps.readiness, deps.metrics);
  registerIngestRoutes(app, deps.pipeline, deps.limits);
  if (deps.alerts && deps.notifier) registerAlertRoutes(app, deps.alerts, deps.notifier);
  if (deps.history) {
    registerSeriesRoutes(app, deps.history);
    registerEnergyRoutes(app, deps.history, deps.energyUtcOffsetMs);
  }
  registerLineProtocolRoutes(app, deps.pipeline, { limits: deps.limits, mapping: deps.lineProtocol ?? DEFAULT_LINE_PROTOCOL_MAPPING });
  return app;
}
