import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../src/alerts/index.js';
import { CLOSE, LiveHub, registerLiveRoute, type LiveAuthorizer } from '../../src/live/index.js';
import { createLogger, createMetrics, type Metrics } from '../../src/observability/index.js';
import { LiveTestClient } from '../support/live-client.js';
import { waitFor } from '../support/ports.js';

/**
 * The live hub's auth seam (src/live/authorize.ts) with a stand-in for the token system being
 * built in src/auth/: refusals close the socket with 4401/4403 and a JSON reason; granted sites
 * bound what a client can subscribe to and receive. Real HTTP server, real `ws` clients.
 */
const TOKENS: Record<string, { sites: 'all' | string[] } | 'gateway'> = { admin: { sites: 'all' }, 'manager-a': { sites: ['site-a'] }, 'gw-1': 'gateway' };
const seen: (string | null)[] = [];
/** Async like a real token lookup, so frames sent meanwhile must be held, not lost. */
const authorize: LiveAuthorizer = async (_request, token) => {
  seen.push(token);
  await new Promise((r) => setTimeout(r, 150));
  const grant = token === null ? undefined : TOKENS[token];
  if (grant === undefined) return { refuse: 4401, reason: token === null ? 'an API token is required' : 'unknown or revoked token' };
  if (grant === 'gateway') return { refuse: 4403, reason: 'gateway tokens may only write data' };
  return grant;
};

let app: FastifyInstance;
let hub: LiveHub;
let metrics: Metrics;
let url: string;
const clients: LiveTestClient[] = [];

beforeAll(async () => {
  metrics = createMetrics();
  hub = new LiveHub({ telemetryIntervalMs: 500, maxBufferedBytes: 1 << 20, maxMessageBytes: 16_384, maxSubscriptions: 100, maxClients: 100, pingIntervalMs: 30_000, plantUtcOffsetMinutes: 480 }, metrics, createLogger('silent'));
  app = Fastify();
  registerLiveRoute(app, hub, authorize);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/live`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await app?.close();
});

function client(query = '', headers?: Record<string, string>): LiveTestClient {
  const c = new LiveTestClient(`${url}${query}`, { headers });
  clients.push(c);
  return c;
}

const batch = (site: string, power: number) => ({ site, line: 'l1', device: 'd1', seq: null, samples: [{ ts: Date.now() + power, m: { power_kw: power } }] });
const refused = async (reason: string) => (await metrics.registry.getSingleMetric('pp_live_refused_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe('live hub auth seam', () => {
  it('without a token: a JSON reason, then close 4401', async () => {
    const c = client();
    const { code, reason } = await c.closed;
    expect(code).toBe(CLOSE.unauthorized);
    expect(reason).toBe('an API token is required');
    expect(c.received.map((r) => r.msg)).toEqual([{ type: 'error', code: 'unauthorized', message: 'an API token is required' }]);
    expect(await refused('unauthorized')).toBe(1);
  });

  it('a token without the right to watch: close 4403', async () => {
    const c = client('?token=gw-1');
    expect((await c.closed).code).toBe(CLOSE.forbidden);
    expect(c.of('error')[0]).toMatchObject({ code: 'forbidden', message: 'gateway tokens may only write data' });
    expect(await refused('forbidden')).toBe(1);
  });

  it('a manager sees only their sites: telemetry and alerts of others never arrive; subscribing to them is refused', async () => {
    const c = client('?token=manager-a');
    await c.opened();
    c.send({ type: 'subscribe' }); // sent before authorize answered: held, then applied
    await c.next('subscribed');
    expect(c.of('hello')[0]!.access).toEqual({ sites: ['site-a'] });
    hub.publish(batch('site-a', 1));
    hub.publish(batch('site-b', 2));
    const alert = (site: string) => ({ type: 'opened', ts: Date.now(), alert: { id: `x-${site}`, site, line: 'l1', device: 'd1' } }) as unknown as AlertTransition;
    hub.notify([alert('site-b'), alert('site-a')]);
    await c.next('alert');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.of('telemetry').map((t) => t.site)).toEqual(['site-a']);
    expect(c.of('alert').map((a) => a.alert.site)).toEqual(['site-a']);
    c.send({ type: 'subscribe', lines: ['site-b/l1'] });
    expect(await c.next('error')).toMatchObject({ code: 'forbidden', message: 'not allowed to watch site site-b' });
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('takes the token from Authorization: Bearer too', async () => {
    const c = client('', { authorization: 'Bearer admin' });
    await c.next('hello');
    expect(c.of('hello')[0]!.access).toEqual({ sites: 'all' });
    await waitFor(() => seen.includes('admin'), 1000, 'token seen');
  });
});
