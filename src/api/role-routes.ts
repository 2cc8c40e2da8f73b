/** What a process does (PP_ROLE, docs/scale-out.md): its routes follow from it. */
export type Role = 'all' | 'worker' | 'api';

/**
 * Routes some roles do not serve, with the roles that do: ingest on workers (an API node has no
 * telemetry source), webhook subscriptions on API nodes (workers send no webhooks). A node asked
 * for one answers PP_ERR_NOT_ON_THIS_NODE naming both roles, instead of a bare "no such route";
 * its route list and OpenAPI document, made from the routes it registered, do not list them.
 */
const ELSEWHERE: { method: string; path: RegExp; servedBy: readonly Role[] }[] = [
  { method: 'POST', path: /^\/api\/v1\/ingest(\/[^/]+\/[^/]+\/[^/]+)?$/, servedBy: ['all', 'worker'] },
  { method: 'POST', path: /^\/(write|api\/v2\/write)$/, servedBy: ['all', 'worker'] },
  { method: '*', path: /^\/api\/v1\/subscriptions(\/[^/]+(\/(deliveries|redeliver))?)?$/, servedBy: ['all', 'api'] },
];

/** Why `role` does not serve `method url` (a route of another role), or null (no such route anywhere). */
export function servedElsewhere(role: Role, method: string, url: string): string | null {
  const path = url.split('?')[0]!;
  const route = ELSEWHERE.find((r) => (r.method === '*' || r.method === method) && r.path.test(path));
  if (!route || route.servedBy.includes(role)) return null;
  const by = route.servedBy.filter((r) => r !== 'all').map((r) => `PP_ROLE=${r}`);
  return `${method} ${path} is served by ${by.join(' or ')} nodes (and single processes, PP_ROLE=all); this node runs PP_ROLE=${role}`;
}
