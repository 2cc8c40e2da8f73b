/**
 * Roles and what each may do (docs/access.md). A token has exactly one role and one
 * site scope; the scope limits every permission below to its sites.
 *
 * | role      | may                                                                 |
 * |-----------|---------------------------------------------------------------------|
 * | gateway   | ingest (JSON, line protocol) for its sites                          |
 * | manager   | read (alerts, energy, series, quality, live) and acknowledge alerts |
 * | regulator | read, and manage its own webhook subscriptions                      |
 * | admin     | everything, on every site; tokens and all subscriptions             |
 * | monitor   | scrape `/metrics` (Prometheus); no site data, so no scope            |
 */
export const ROLES = ['gateway', 'manager', 'regulator', 'admin', 'monitor'] as const;
export type Role = (typeof ROLES)[number];

export type Permission = 'ingest' | 'read' | 'acknowledge' | 'subscribe' | 'manage' | 'metrics';

const GRANTS: Record<Role, readonly Permission[]> = {
  gateway: ['ingest'],
  manager: ['read', 'acknowledge'],
  regulator: ['read', 'subscribe'],
  admin: ['ingest', 'read', 'acknowledge', 'subscribe', 'manage', 'metrics'],
  monitor: ['metrics'],
};

/** Roles whose tokens are not limited to sites: admin (every site) and monitor (no site data at all). */
export function coversEverySite(role: Role): boolean {
  return role === 'admin' || role === 'monitor';
}

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
