import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertListQuery } from '../../src/api/alert-routes.js';
import { energyReportQuery } from '../../src/api/report-routes.js';
import type { Platform } from '../../src/app/platform.js';
import { authHeaders, startTestPlatform } from '../support/platform.js';

/**
 * `/docs`: the OpenAPI document describes every route the server registers under `/api/` and the
 * write API, is structurally valid OpenAPI 3, and is served (with its UI, from the npm package)
 * without a token. Routes are collected here with our own onRoute hook, independently of the
 * collector that builds the document.
 */
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses?: Record<string, { description?: string; $ref?: string }>;
  'x-pp-undocumented'?: boolean;
  'x-pp-access'?: string;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  tags: { name: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, unknown>; responses: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
let platform: Platform;
const registered: { method: string; url: string }[] = [];
let doc: Document;

beforeAll(async () => {
  platform = await startTestPlatform(
    { PP_AUTH: 'required', PP_MQTT_EMBEDDED_PORT: '0' },
    {
      onRoute: (route) => {
        for (const method of [route.method].flat()) registered.push({ method, url: route.url });
      },
    },
  );
  const res = await fetch(`${platform.httpUrl}/docs/json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
}, 60_000);

afterAll(async () => platform?.stop());

const toPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })));

describe('the OpenAPI document at /docs/json', () => {
  it('describes every route registered under /api/ and the write API, with its method', () => {
    const api = registered.filter((r) => r.method !== 'HEAD' && (r.url.startsWith('/api/') || r.url === '/write'));
    // The routes this suite knows exist (a broken collector must not pass with an empty list).
    for (const known of ['GET /api/v1/alerts', 'GET /api/v1/alerts.csv', 'GET /api/v1/reports/energy', 'POST /write', 'POST /api/v2/write', 'GET /api/v1/live', 'POST /api/v1/ingest/:site/:line/:device']) {
      expect(api.map((r) => `${r.method} ${r.url}`)).toContain(known);
    }
    const missing = api.filter((r) => !doc.paths[toPath(r.url)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    // …and nothing that is not a route.
    const routeKeys = new Set(registered.map((r) => `${r.method.toLowerCase()} ${toPath(r.url)}`));
    expect(operations().filter(({ path, method }) => !routeKeys.has(`${method} ${path}`))).toEqual([]);
  });

  it('every operation is documented: summary, a declared tag, responses with descriptions, unique operationId', () => {
    const tags = new Set(doc.tags.map((t) => t.name));
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op['x-pp-undocumented'], where).toBeUndefined();
      expect(op.summary, where).toBeTruthy();
      expect(op.tags?.length, where).toBe(1);
      expect(tags.has(op.tags![0]!), where).toBe(true);
      expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
      for (const [status, r] of Object.entries(op.responses!)) expect(r.description ?? r.$ref, `${where} ${status}`).toBeTruthy();
      expect(op.operationId, where).toBeTruthy();
      expect(ids.has(op.operationId!), where).toBe(false);
      ids.add(op.operationId!);
    }
  });

  it('is structurally valid OpenAPI 3: version, info, paths, path parameters declared, every $ref resolves', () => {
    expect(doc.openapi).toMatch(/^3\.[01]\.\d+$/);
    expect(doc.info.title).toBe('PlantPulse API');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    for (const path of Object.keys(doc.paths)) expect(path.startsWith('/'), path).toBe(true);
    for (const { path, method, op } of operations()) {
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
      expect(declared, `${method} ${path}`).toEqual([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort());
      for (const p of op.parameters ?? []) {
        expect(['query', 'header', 'path', 'cookie']).toContain(p.in);
        expect(typeof p.schema, `${method} ${path} ${p.name}`).toBe('object');
        if (p.in === 'path') expect(p.required).toBe(true);
      }
    }
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), doc);
      expect(target, ref).toBeTruthy();
    }
  });

  it('declares bearer-token security, applied per route as the access table says; health needs none, metrics a token', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const op = (path: string, method = 'get') => doc.paths[path]![method]!;
    expect(op('/api/v1/reports/energy').security).toEqual([{ bearerAuth: [] }]);
    expect(op('/api/v1/reports/energy')['x-pp-access']).toBe('read');
    expect(op('/api/v1/alerts/{id}/ack', 'post')['x-pp-access']).toBe('acknowledge');
    expect(op('/healthz').security).toEqual([]);
    expect(op('/metrics').security).toEqual([{ bearerAuth: [] }]);
    expect(op('/write', 'post').security).toContainEqual({ basicAuth: [] });
    expect(op('/api/v1/alerts').responses!['401']!.$ref).toBe('#/components/responses/Error401');
    // The error shape: { code, message }, code one of ours.
    expect(doc.components.schemas.Error).toMatchObject({ required: ['code', 'message'], properties: { code: { enum: expect.arrayContaining(['PP_ERR_INVALID_QUERY', 'PP_ERR_SITE_FORBIDDEN']) } } });
  });

  it('query parameters come from the zod schemas the routes parse with', () => {
    const params = (path: string) => doc.paths[path]!.get!.parameters!.filter((p) => p.in === 'query');
    expect(params('/api/v1/alerts').map((p) => p.name).sort()).toEqual(Object.keys(alertListQuery.shape).sort());
    expect(params('/api/v1/alerts').find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 10_000, default: 500 });
    const report = params('/api/v1/reports/energy');
    expect(report.map((p) => p.name).sort()).toEqual(Object.keys(energyReportQuery.shape).sort());
    expect(report.find((p) => p.name === 'site')).toMatchObject({ required: true, schema: { type: 'string', pattern: expect.any(String) } });
    expect(report.find((p) => p.name === 'lang')!.schema).toMatchObject({ enum: ['en', 'zh'] });
    expect(Object.keys(doc.paths['/api/v1/reports/energy']!.get!.responses!['200']! as object)).toContain('content');
  });

  it('the subscription changes API nodes share through NATS list their 503 PP_ERR_FLEET_UNAVAILABLE', () => {
    const answer = (path: string, method: 'post' | 'delete') => doc.paths[path]![method]!.responses!['503'];
    for (const [path, method] of [['/api/v1/subscriptions', 'post'], ['/api/v1/subscriptions/{id}', 'delete']] as const) {
      expect(answer(path, method)?.description, `${method} ${path}`).toContain('PP_ERR_FLEET_UNAVAILABLE');
    }
  });
});

describe('serving it', () => {
  it('/docs (Swagger UI, from the npm package) and /docs/json need no token; /api/ still does', async () => {
    const ui = await fetch(`${platform.httpUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    const html = await ui.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // nothing from the internet
    const bundle = await fetch(`${platform.httpUrl}/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect(ui.headers.get('content-security-policy') ?? '').not.toContain('upgrade-insecure-requests');
    expect((await fetch(`${platform.httpUrl}/api/v1/alerts`)).status).toBe(401);
  });

  it('documenting the routes changed nothing of their validation: our codes and messages, not Fastify’s', async () => {
    const res = await fetch(`${platform.httpUrl}/api/v1/alerts?limit=0`, { headers: authHeaders() });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'PP_ERR_INVALID_QUERY', message: expect.stringContaining('limit') });
    const csv = await fetch(`${platform.httpUrl}/api/v1/reports/energy?site=s&lang=fr`, { headers: authHeaders() });
    expect(csv.status).toBe(400);
    expect(await csv.json()).toMatchObject({ code: 'PP_ERR_INVALID_QUERY', message: expect.stringContaining('lang') });
  });
});
