import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, type RegisteredRoute } from './openapi-document.js';

export const DOCS_PATH = '/docs';

/** The platform's version from package.json: src/api/docs/ from source, dist/src/api/docs/ when built. */
function packageVersion(): string {
  for (const up of ['../../../package.json', '../../../../package.json']) {
    const file = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
  }
  return '0.0.0';
}

/**
 * The OpenAPI document at `/docs/json` (and `/docs/yaml`), Swagger UI at `/docs`: served from the
 * npm packages, nothing fetched from the internet (no CDN, no online validator). Outside `/api/`,
 * so no token is needed to read it (src/auth/route-access.ts).
 *
 * Call before any route is registered: an onRoute hook collects every route as it is declared
 * (including those of plugins, e.g. the live WebSocket and the write API), and the document is
 * built from them once the server is ready (operations.ts says what each one is). @fastify/swagger
 * runs in static mode on that document: its dynamic mode would read route `schema`s, which
 * Fastify would then also validate with, replacing the routes' own zod parsing and PP_ERR_* answers.
 */
export function registerDocs(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  // Filled in when the server is ready; @fastify/swagger serves this very object.
  const document: Record<string, unknown> = {};
  app.addHook('onReady', async () => {
    Object.assign(document, buildOpenApiDocument(routes, packageVersion()));
  });
  app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    theme: { title: 'PlantPulse API' },
    // The package's CSP (script hashes of its own files), minus `upgrade-insecure-requests`: the
    // platform is often reached over plain HTTP on a plant network, where that would break the page.
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
}
