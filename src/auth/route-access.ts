import type { Permission } from './roles.js';

/**
 * What each `/api/` route requires, in one table so the whole access policy can be read (and
 * reviewed) at once. Keys are `METHOD route-pattern`, as Fastify registered them.
 *
 * - a permission (roles.ts): the token's role must grant it; a `:site` path parameter must lie
 *   in the token's scope (403 otherwise); routes also put the scope into their queries;
 * - `authenticated`: any valid token;
 * - `self`: the route authenticates on its own, answering in its protocol's terms (the live
 *   WebSocket closes with 4401/4403; the InfluxDB write API answers InfluxDB-shaped errors).
 *
 * An `/api/` route missing here requires `manage` (admins only): a new route is closed until
 * someone decides who may use it and makes it filter by scope.
 *
 * Routes outside `/api/` are not guarded by the hook: `/healthz`, `/readyz`, the dashboard's
 * files and the API documentation (`/docs`, `/docs/json`: the OpenAPI document and Swagger UI,
 * no data) are public; `/metrics` has its own guard (`metrics` permission, PP_METRICS_AUTH);
 * `/write` authenticates itself like `self` routes.
 */
export type RouteAccess = Permission | 'authenticated' | 'self';

export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'POST /api/v1/ingest': 'ingest',
  'POST /api/v1/ingest/:site/:line/:device': 'ingest',
  'POST /api/v2/write': 'self',
  'GET /api/v1/live': 'self',
  'GET /api/v1/alerts': 'read',
  'GET /api/v1/alerts/:id': 'read',
  'POST /api/v1/alerts/:id/ack': 'acknowledge',
  'GET /api/v1/energy': 'read',
  'GET /api/v1/series': 'read',
  'GET /api/v1/quality': 'read',
  // Reports (src/reports/): the site named must be in the scope; the scope is in their queries.
  'GET /api/v1/reports/energy': 'read',
  'GET /api/v1/alerts.csv': 'read',
  'GET /api/v1/whoami': 'authenticated',
  'GET /api/v1/subscriptions': 'subscribe',
  'POST /api/v1/subscriptions': 'subscribe',
  'GET /api/v1/subscriptions/:id': 'subscribe',
  'DELETE /api/v1/subscriptions/:id': 'subscribe',
  'GET /api/v1/subscriptions/:id/deliveries': 'subscribe',
  'POST /api/v1/subscriptions/:id/redeliver': 'manage',
  'GET /api/v1/audit': 'manage',
};

export const DEFAULT_ROUTE_ACCESS: RouteAccess = 'manage';

export function routeAccess(method: string, url: string): RouteAccess {
  // Fastify answers HEAD with the GET route.
  return ROUTE_ACCESS[`${method === 'HEAD' ? 'GET' : method} ${url}`] ?? DEFAULT_ROUTE_ACCESS;
}
