/**
 * Many live dashboards: `k6 run load-tests/k6/live-dashboards.ts`.
 *
 * CLIENTS (default 200) WebSocket clients of the live hub (`/api/v1/live`) ramp up, each
 * subscribes to one site of PP_SITES (or, with ALL=1, to everything it may see) and stays
 * connected HOLD_S seconds (default 60), as plant managers leave a dashboard open. Something must
 * be publishing telemetry meanwhile (the fleet of `npm run bench`, `npm start`'s simulator, or
 * the ingest ramp).
 *
 * Thresholds:
 * - ws_connecting p95 < 1 s: the upgrade (and the token check) is fast even with many clients;
 * - checks > 99 %: the connection is accepted (101), the hub says hello, the subscription is
 *   confirmed, and telemetry arrives;
 * - pp_live_update_age p95 < 3 s: how old the newest sample of a telemetry message is when it
 *   arrives (sample timestamp → on this client). It includes the gateway's own batching (the
 *   newest sample of a batch is the freshest) and the hub's per-device throttle
 *   (PP_LIVE_TELEMETRY_INTERVAL_MS, 500 ms by default), so it is a freshness figure, not the
 *   platform's latency (that is `npm run bench`'s). Clocks of k6 and the gateways must agree.
 */
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import ws from 'k6/ws';
import { BASE_URL, envInt, SITES, TOKEN } from './common.ts';

const CLIENTS = envInt('CLIENTS', 200);
const HOLD_S = envInt('HOLD_S', 60);

const updateAge = new Trend('pp_live_update_age', true);
const telemetryMessages = new Counter('pp_live_telemetry_messages');

export const options: Options = {
  scenarios: {
    dashboards: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { target: CLIENTS, duration: '30s' },
        { target: CLIENTS, duration: `${HOLD_S}s` },
        { target: 0, duration: '10s' },
      ],
      gracefulRampDown: `${HOLD_S + 10}s`,
    },
  },
  thresholds: {
    ws_connecting: ['p(95)<1000'],
    checks: ['rate>0.99'],
    pp_live_update_age: ['p(95)<3000'],
  },
};

interface ServerMessage {
  type: string;
  ts?: number;
}

export default function (): void {
  const url = `${BASE_URL.replace(/^http/, 'ws')}/api/v1/live${TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : ''}`;
  const site = SITES[(__VU - 1) % SITES.length]!;
  let hello = false;
  let subscribed = false;
  let telemetry = 0;
  const res = ws.connect(url, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify(__ENV.ALL === '1' ? { type: 'subscribe' } : { type: 'subscribe', sites: [site] })));
    socket.on('message', (data) => {
      const msg = JSON.parse(data) as ServerMessage;
      if (msg.type === 'hello') hello = true;
      else if (msg.type === 'subscribed') subscribed = true;
      else if (msg.type === 'telemetry' && msg.ts !== undefined) {
        // The first message after subscribing replays the latest values (possibly old): not timed.
        if (telemetry > 0) updateAge.add(Date.now() - msg.ts);
        telemetry++;
        telemetryMessages.add(1);
      }
    });
    socket.setTimeout(() => socket.close(), HOLD_S * 1000);
  });
  check(res, { 'upgraded (101)': (r) => r !== null && r.status === 101 });
  check(null, {
    'hello received': () => hello,
    'subscription confirmed': () => subscribed,
    'telemetry received': () => telemetry > 0,
  });
}
