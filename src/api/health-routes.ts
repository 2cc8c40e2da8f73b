import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { Metrics } from '../observability/index.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves with details when ready; rejects (with the reason) when not. */
  check(): Promise<Record<string, unknown> | void>;
}

/**
 * `/healthz`: the process is alive. `/readyz`: its dependencies answer. `/metrics`: Prometheus,
 * behind `metricsGuard` when given (PP_METRICS_AUTH=token: a monitor or admin token).
 */
export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[], metrics: Metrics, metricsGuard?: onRequestAsyncHookHandler): void {
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
  app.get('/metrics', metricsGuard ? { onRequest: metricsGuard } : {}, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
