/**
 * Regulator API queries: `k6 run -e PP_TOKEN=<regulator token> load-tests/k6/regulator-queries.ts`.
 *
 * VUS (default 20) virtual users, each a regulator's report tool, loop for DURATION_S (default
 * 120) over the read API of the sites in PP_SITES, with the token from PP_TOKEN as
 * `Authorization: Bearer`: the open and recent alerts (`GET /api/v1/alerts`), the energy report of
 * the last day in hourly windows (`GET /api/v1/energy`), and a device's power over the last hour
 * (`GET /api/v1/series`), with a short think time between requests.
 *
 * Thresholds, per endpoint (tag `endpoint`):
 * - alerts p95 < 200 ms (served from the alert store), energy and series p95 < 1 s (InfluxQL
 *   queries over a day and an hour of data);
 * - http_req_failed < 1 %: 200s only; a 401/403 means the token is missing or outside its
 *   jurisdiction (set PP_TOKEN and PP_SITES to match);
 * - checks > 99 %: each answer is JSON of the expected shape.
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { authHeaders, BASE_URL, envInt, SITES } from './common.ts';

const VUS = envInt('VUS', 20);
const DURATION_S = envInt('DURATION_S', 120);
/** A device to chart: PP_SERIES_DEVICE=site/line/device (default the simulator's first machine). */
const SERIES_DEVICE = __ENV.PP_SERIES_DEVICE || `${SITES[0]}/line-01/m-001`;

export const options: Options = {
  scenarios: {
    regulators: { executor: 'constant-vus', vus: VUS, duration: `${DURATION_S}s` },
  },
  thresholds: {
    'http_req_duration{endpoint:alerts}': ['p(95)<200'],
    'http_req_duration{endpoint:energy}': ['p(95)<1000'],
    'http_req_duration{endpoint:series}': ['p(95)<1000'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

function get(path: string, endpoint: string) {
  return http.get(`${BASE_URL}${path}`, { headers: authHeaders(), tags: { endpoint } });
}

export default function (): void {
  const site = SITES[Math.floor(Math.random() * SITES.length)]!;
  const alerts = get(`/api/v1/alerts?site=${site}&from=now-7d&limit=200`, 'alerts');
  check(alerts, { 'alerts: 200 with a list': (r) => r.status === 200 && Array.isArray((r.json() as { alerts?: unknown }).alerts) });
  sleep(0.5);
  const energy = get(`/api/v1/energy?site=${site}&from=now-24h&window=1h`, 'energy');
  check(energy, { 'energy: 200 with a total': (r) => r.status === 200 && typeof (r.json() as { total?: unknown }).total === 'object' });
  sleep(0.5);
  const series = get(`/api/v1/series?device=${encodeURIComponent(SERIES_DEVICE)}&metric=power_kw&from=now-1h`, 'series');
  check(series, { 'series: 200': (r) => r.status === 200 });
  sleep(1);
}
