import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_PATH = '/dashboard/';

/** dashboards/web from here: src/api/ when run from source (tsx), dist/src/api/ when built. */
export function dashboardDir(): string | null {
  for (const up of ['../../dashboards/web', '../../../dashboards/web']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

/**
 * The live dashboard (dashboards/web: plain ES modules, no build step) at `/dashboard/`, `/`
 * redirecting to it. uPlot is served straight from node_modules (`/dashboard/vendor/uplot/`), so
 * no copy of it lives in git. The files hold no data: every figure comes from the API and the
 * live hub, which are where access is checked.
 */
export function registerDashboardRoutes(app: FastifyInstance): void {
  const root = dashboardDir();
  if (!root) {
    app.log.warn('dashboards/web not found: the live dashboard is not served');
    return;
  }
  const uplot = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  app.register(fastifyStatic, { root, prefix: DASHBOARD_PATH, index: 'index.html' });
  app.register(fastifyStatic, { root: uplot, prefix: `${DASHBOARD_PATH}vendor/uplot/`, decorateReply: false, allowedPath: (path) => path === '/uPlot.esm.js' || path === '/uPlot.min.css' });
  for (const path of ['/', '/dashboard']) app.get(path, async (_req, reply) => reply.redirect(DASHBOARD_PATH));
}
