/**
 * HTTP ingest ramp: `k6 run load-tests/k6/ingest-ramp.ts`.
 *
 * Gateways that cannot speak MQTT post batches to `POST /api/v1/ingest`. The request rate ramps
 * up in stages to PEAK_RPS (default 200 requests/s of BATCH samples each, default 10: 2,000
 * samples/s), holds, and ramps down. Every request is one device's batch with fresh, increasing
 * timestamps and realistic metrics, so the platform does its full work (validation, analytics,
 * storage) and answers only once the batch is durable.
 *
 * Thresholds (k6 exits non-zero when one fails):
 * - http_req_failed < 1 %: the platform answers 200 (503 + Retry-After means storage could not
 *   keep up: intake was throttled, which counts as a failure of the target rate);
 * - http_req_duration p95 < 250 ms, p99 < 500 ms: a response means durable (written to
 *   InfluxDB or the spool), so this is the write path's latency under load;
 * - checks > 99 %: every sample of every batch accepted (none rejected).
 */
import { check } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { authHeaders, BASE_URL, envInt, SITES } from './common.ts';

const PEAK_RPS = envInt('PEAK_RPS', 200);
const BATCH = envInt('BATCH', 10);
const DEVICES = envInt('DEVICES', 500);
const STAGE_S = envInt('STAGE_S', 60);

const samplesAccepted = new Counter('pp_samples_accepted');

export const options: Options = {
  scenarios: {
    ingest: {
      executor: 'ramping-arrival-rate',
      startRate: Math.max(1, Math.floor(PEAK_RPS / 10)),
      timeUnit: '1s',
      preAllocatedVUs: Math.max(10, Math.floor(PEAK_RPS / 4)),
      maxVUs: PEAK_RPS * 2,
      stages: [
        { target: Math.floor(PEAK_RPS / 2), duration: `${STAGE_S}s` },
        { target: PEAK_RPS, duration: `${STAGE_S}s` },
        { target: PEAK_RPS, duration: `${STAGE_S}s` },
        { target: 0, duration: `${Math.max(10, Math.floor(STAGE_S / 3))}s` },
      ],
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<250', 'p(99)<500'],
    checks: ['rate>0.99'],
  },
};

/** Per device (of this VU): the last timestamp sent, so each batch follows on from the previous one. */
const lastTs: Record<string, number> = {};

function samples(key: string): { ts: number; m: Record<string, number> }[] {
  const now = Date.now();
  const from = Math.max((lastTs[key] ?? now - BATCH * 1000) + 1, now - (BATCH - 1) * 1000);
  const out = [];
  for (let k = 0; k < BATCH; k++) {
    const ts = Math.min(now, from + k * 1000);
    const kw = 40 + 10 * Math.sin(ts / 60_000) + Math.random();
    out.push({ ts, m: { power_kw: Number(kw.toFixed(2)), energy_kwh: Number((ts / 3.6e6).toFixed(3)), state: 2, temperature_c: Number((60 + Math.random()).toFixed(2)), vibration_mm_s: Number((1.5 + Math.random() * 0.2).toFixed(2)), power_factor: 0.9 } });
    lastTs[key] = ts;
  }
  return out;
}

export default function (): void {
  const n = Math.floor(Math.random() * DEVICES);
  const site = SITES[n % SITES.length]!;
  const device = { site, line: `line-${String((n % 10) + 1).padStart(2, '0')}`, device: `k6-${String(n).padStart(5, '0')}` };
  const key = `${device.site}/${device.line}/${device.device}`;
  const body = JSON.stringify({ ...device, samples: samples(key) });
  const res = http.post(`${BASE_URL}/api/v1/ingest`, body, { headers: authHeaders({ 'Content-Type': 'application/json' }), tags: { endpoint: 'ingest' } });
  const accepted = res.status === 200 ? Number((res.json() as { accepted?: number }).accepted ?? 0) : 0;
  samplesAccepted.add(accepted);
  check(res, {
    'status 200': (r) => r.status === 200,
    'every sample accepted': () => accepted === BATCH,
  });
}
