import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { ERRORS, type ErrorCode } from '../../src/contract/index.js';
import { fuzz } from '../support/fuzz.js';
import { hostileString } from '../support/hostile-input.js';
import { authHeaders, startTestPlatform, TEST_ADMIN_TOKEN } from '../support/platform.js';

/**
 * Hostile credentials against a platform with authentication on (the product default): whatever
 * a client puts in `Authorization` or in `?u=&p=`, it gets a coded 401/403/429 and never a 5xx or
 * a 2xx. (The rest of the fuzz suite runs with authentication off, to reach the routes.)
 */

let platform: Platform;

beforeAll(async () => {
  // A high failure limit, so the fuzzed tokens reach the token checks instead of the 429 limiter.
  platform = await startTestPlatform({ PP_AUTH: 'required', PP_AUTH_MAX_FAILURES: '1000000', PP_MQTT_EMBEDDED_PORT: '0' });
});
afterAll(async () => {
  await platform?.stop();
});

/** Printable header values (fetch refuses control characters in headers). */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '').slice(0, 4000);
const flipOne = (s: string, at: number) => s.slice(0, at % s.length) + (s[at % s.length] === 'a' ? 'b' : 'a') + s.slice((at % s.length) + 1);

const credentials = fc.oneof(
  hostileString.map((s) => ({ authorization: headerSafe(s) })),
  fc.tuple(fc.constantFrom('Bearer', 'Token', 'bearer', 'Basic', 'Digest', ''), fc.constantFrom(' ', '  ', '\t'), hostileString).map(([scheme, sp, t]) => ({ authorization: headerSafe(`${scheme}${sp}${t}`) })),
  // Shaped like a token: an unknown id, or the admin token with one character changed.
  fc.tuple(fc.stringMatching(/^[0-9a-f]{12}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([id, secret]) => ({ authorization: `Bearer ppt_${id}_${secret}` })),
  fc.nat().map((at) => ({ authorization: `Bearer ${flipOne(TEST_ADMIN_TOKEN, at)}` })),
  fc.tuple(hostileString, hostileString).map(([u, p]) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64').slice(0, 4000)}` })),
  fc.constant({}),
);
const ROUTES: [string, string, string?][] = [
  ['GET', '/api/v1/alerts'],
  ['POST', '/api/v1/ingest/s/l/d', '{"samples":[{"ts":1800000000000,"m":{"power_kw":1}}]}'],
  ['POST', '/write?db=x&u=admin&p=guess', 'telemetry,site=s,line=l,device=d power_kw=1'],
  ['POST', '/api/v2/write?bucket=x', 'telemetry,site=s,line=l,device=d power_kw=1'],
];

describe('fuzz: credentials', () => {
  it('the test admin token is accepted (the property below is not about a broken platform)', async () => {
    expect((await fetch(`${platform.httpUrl}/api/v1/alerts`, { headers: authHeaders() })).status).toBe(200);
  });

  it('any other credentials: a coded 401, 403 or 429, never a 2xx or a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(credentials, fc.constantFrom(...ROUTES), async (headers, [method, path, body]) => {
        const res = await fetch(`${platform.httpUrl}${path}`, { method, body, headers: { ...headers, ...(body?.startsWith('{') ? { 'content-type': 'application/json' } : {}) } });
        const text = await res.text();
        expect([401, 403, 429], `${res.status} ${text.slice(0, 200)}`).toContain(res.status);
        const json = JSON.parse(text) as { code?: string; ppCode?: string };
        const code = (path.startsWith('/api/v1/') ? json.code : json.ppCode) as ErrorCode;
        expect(Object.hasOwn(ERRORS, code), text.slice(0, 200)).toBe(true);
        expect(ERRORS[code].status).toBe(res.status);
      }),
      fuzz(150),
    );
  });
});
