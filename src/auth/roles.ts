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
 */
export const ROLES = ['gateway', 'manager', 'regulator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type Permission = 'ingest' | 'read' | 'acknowledge' | 'subscribe' | 'manage';

const GRANTS: Record<Role, readonly Permission[]> = {
  gateway: ['ingest'],
  manager: ['read', 'acknowledge'],
  regulator: ['read', 'subscribe'],
  admin: ['ingest', 'read', 'acknowledge', 'subscribe', 'manage'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
