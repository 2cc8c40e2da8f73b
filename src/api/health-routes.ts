import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/index.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves with details when ready; rejects (with the reason) when not. */
  check(): Promise<Record<string, unknown> | void>;
}

/** `/healthz`: the process is alive. `/readyz`: its dependencies answer. `/metrics`: Prometheus. */
export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[], metrics: Metrics): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          const details = await c.check();
          return [c.name, { ready: true, ...(details ?? {}) }] as const;
        } catch (err) {
          return [c.name, { ready: false, reason: (err as Error).message }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.ready);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
