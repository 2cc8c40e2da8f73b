import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUTH_OFF_PRINCIPAL, type Principal } from '../auth/index.js';
import { describeSubscription, newSubscriptionSchema, standardSecret, type Webhooks } from '../webhooks/index.js';
import { parseJsonBody } from './json-body.js';
import { parseQuery } from './query-params.js';

export const deliveriesQuery = z.strictObject({
  state: z.enum(['pending', 'delivered', 'dead']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A server without the auth hook (unit tests of routes) acts as an admin, as every route does there. */
function principalOf(req: FastifyRequest): Principal {
  return req.principal ?? AUTH_OFF_PRINCIPAL;
}

/**
 * Webhook subscriptions (docs/webhooks.md). `POST` answers 201 with the subscription, its full
 * URL, the secret in its Standard Webhooks form (`signingSecret`), and the secret itself when the
 * platform generated it: once, never again (later answers mask the URL's query values); `GET` shows each subscription's delivery state
 * (pending, delivered, dead, the head's attempts and last error); `DELETE` removes it with
 * whatever it had left to deliver; `POST .../redeliver` (admin) revives its dead deliveries.
 */
export function registerSubscriptionRoutes(app: FastifyInstance, webhooks: Webhooks): void {
  const view = (id: string, req: FastifyRequest) => {
    const s = webhooks.get(id, principalOf(req));
    return { ...describeSubscription(s), delivery: webhooks.status(s.id) };
  };

  // A subscription is a few hundred bytes; nothing near the ingest body limit.
  app.post('/api/v1/subscriptions', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    const input = parseJsonBody(newSubscriptionSchema, req.body);
    const { subscription, secret, generated } = await webhooks.create(input, principalOf(req));
    // `signingSecret`: the secret in the form Standard Webhooks libraries take (`new Webhook(signingSecret)`), shown only here.
    return reply.code(201).send({ ...describeSubscription(subscription), url: subscription.url, ...(generated ? { secret } : {}), signingSecret: standardSecret(secret) });
  });

  app.get('/api/v1/subscriptions', async (req) => {
    const list = webhooks.list(principalOf(req)).map((s) => ({ ...describeSubscription(s), delivery: webhooks.status(s.id) }));
    return { subscriptions: list, count: list.length };
  });

  app.get<{ Params: { id: string } }>('/api/v1/subscriptions/:id', async (req) => view(req.params.id, req));

  app.get<{ Params: { id: string } }>('/api/v1/subscriptions/:id/deliveries', async (req) => {
    const q = parseQuery(deliveriesQuery, req.query);
    const s = webhooks.get(req.params.id, principalOf(req));
    return { subscription: s.id, deliveries: webhooks.deliveries(s.id, q.state, q.limit) };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/subscriptions/:id', async (req, reply) => {
    await webhooks.delete(req.params.id, principalOf(req));
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/v1/subscriptions/:id/redeliver', async (req) => ({ redelivered: webhooks.redeliver(req.params.id, principalOf(req)) }));
}
