import type { FastifyInstance } from 'fastify';
import { AUTH_OFF_PRINCIPAL, can, formatScope, type Permission } from '../auth/index.js';

const PERMISSIONS: Permission[] = ['ingest', 'read', 'acknowledge', 'subscribe', 'manage', 'metrics'];

/** `GET /api/v1/whoami`: what the presented token is and may do (the dashboard shows it; scripts check it). */
export function registerWhoamiRoute(app: FastifyInstance): void {
  app.get('/api/v1/whoami', async (req) => {
    const p = req.principal ?? AUTH_OFF_PRINCIPAL;
    return { tokenId: p.tokenId, name: p.name, role: p.role, scope: formatScope(p.scope), permissions: PERMISSIONS.filter((x) => can(p.role, x)) };
  });
}
