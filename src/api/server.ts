import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DecodeLimits } from '../contract/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Pipeline } from '../pipeline/index.js';
import { DEFAULT_LINE_PROTOCOL_MAPPING, registerIngestRoutes, registerLineProtocolRoutes, type LineProtocolMapping } from '../sources/index.js';
import type { AlertManager, AlertNotifier } from '../alerts/index.js';
import type { HistoryReader } from '../storage/index.js';
import { registerLiveRoute, type LiveAuthorizer, type LiveHub } from '../live/index.js';
import { registerAlertRoutes } from './alert-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerEnergyRoutes } from './energy-routes.js';
import { registerQualityRoutes, type QualityStatusSource } from './quality-routes.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './error-handler.js';
import type { Role } from './role-routes.js';
import { capConnections, DEFAULT_HTTP_LIMITS, httpServerOptions, type HttpLimits } from './http-limits.js';
import { registerSeriesRoutes } from './series-routes.js';
import { registerHealthRoutes, type ReadinessCheck } from './health-routes.js';
import type { AccessControl } from '../auth/index.js';
import type { Webhooks } from '../webhooks/index.js';
import { registerSubscriptionRoutes } from './subscription-routes.js';
import { registerWhoamiRoute } from './whoami-route.js';
import { registerDocs } from './docs/docs-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { installAudit, type AuditLog } from '../audit/index.js';

export interface ApiDeps {
  logger: Logger;
  metrics: Metrics;
  /** Ingest (HTTP samples, line protocol). Absent on an API node (PP_ROLE=api): workers ingest. */
  pipeline?: Pipeline;
  limits: DecodeLimits;
  /** Timeouts and the connection cap (default: DEFAULT_HTTP_LIMITS). */
  http?: HttpLimits;
  readiness: ReadinessCheck[];
  /** Read APIs: alerts (and acknowledgements, told to `notifier`), history and energy from storage. */
  alerts?: AlertManager;
  notifier?: AlertNotifier;
  history?: HistoryReader;
  /** Energy windows align on local midnight at this offset (energy config `windows.utcOffsetMinutes`). */
  energyUtcOffsetMs?: number;
  /** Line protocol tag and measurement mapping (default: DEFAULT_LINE_PROTOCOL_MAPPING). */
  lineProtocol?: LineProtocolMapping;
  /** Live hub WebSocket at /api/v1/live; `authorize` is the auth seam (src/live/authorize.ts; default: allow all). */
  live?: { hub: LiveHub; authorize?: LiveAuthorizer };
  /** Tokens, roles and scopes (src/auth/) for every `/api/` route, line protocol and live. Absent: no checks (route unit tests). */
  access?: AccessControl;
  /** Webhook subscriptions at /api/v1/subscriptions (src/webhooks/). */
  webhooks?: Webhooks;
  /** Audit log (src/audit/): records acknowledgements and subscription changes; GET /api/v1/audit. */
  audit?: AuditLog;
  /** Data completeness: each device's status now, from the running quality stage (src/quality/); figures come from history. */
  qualityStatus?: QualityStatusSource;
  /** Line, site and gateway completeness summed from device figures (PP_SOURCE=nats: workers write device figures only). */
  qualityFromDevices?: boolean;
  /** PP_ROLE (default all): a route of another role answers PP_ERR_NOT_ON_THIS_NODE naming it (role-routes.ts). */
  role?: Role;
  /** Told of every route as it is registered (tests compare the routes with the OpenAPI document). */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

export function buildServer(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.limits.maxBytes,
    // Per-request logs at info would cost more than ingest itself; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Bounded resources against slow, idle and flooding clients (http-limits.ts).
    ...httpServerOptions(deps.http ?? DEFAULT_HTTP_LIMITS),
    // Errors raised before a route or by Node's HTTP parser answer `{ code, message }` too.
    frameworkErrors,
    clientErrorHandler,
  });
  capConnections(app, deps.http ?? DEFAULT_HTTP_LIMITS);
  // Keep JSON bodies raw: the contract decoder parses them itself, so HTTP and MQTT share one
  // decoder and its exact error reasons (e.g. 1e999 → Infinity is caught there).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  installErrorHandlers(app, deps.role);
  // Before any route, so that their onRoute hooks see them all: /docs (OpenAPI, Swagger UI) and tests.
  if (deps.onRoute) app.addHook('onRoute', (route) => deps.onRoute!(route));
  registerDocs(app);
  // Before any route, so that its hook guards them all.
  deps.access?.install(app);
  if (deps.audit) installAudit(app, deps.audit);
  registerHealthRoutes(app, deps.readiness, deps.metrics, deps.access?.metricsGuard());
  if (deps.pipeline) registerIngestRoutes(app, deps.pipeline, deps.limits, deps.access?.siteCheck);
  if (deps.alerts && deps.notifier) registerAlertRoutes(app, deps.alerts, deps.notifier);
  if (deps.alerts) registerReportRoutes(app, { alerts: deps.alerts, history: deps.history, utcOffsetMs: deps.energyUtcOffsetMs ?? 8 * 3_600_000, qualityFromDevices: deps.qualityFromDevices });
  if (deps.history) {
    registerSeriesRoutes(app, deps.history);
    registerEnergyRoutes(app, deps.history, deps.energyUtcOffsetMs);
    registerQualityRoutes(app, deps.history, deps.qualityStatus, deps.qualityFromDevices);
  }
  if (deps.pipeline) registerLineProtocolRoutes(app, deps.pipeline, { limits: deps.limits, mapping: deps.lineProtocol ?? DEFAULT_LINE_PROTOCOL_MAPPING, authorizer: deps.access?.writeAuthorizer });
  if (deps.live) registerLiveRoute(app, deps.live.hub, deps.live.authorize ?? deps.access?.liveAuthorizer);
  if (deps.webhooks) registerSubscriptionRoutes(app, deps.webhooks);
  registerWhoamiRoute(app);
  registerDashboardRoutes(app);
  return app;
}
