/**
 * `npx tsx load-tests/bench/auth-failures.ts`: what one authentication costs the platform, in
 * this process (AccessControl.authenticate on a real SQLite token store): a valid token, a bad
 * token below the failure limit (401: looked up, counted, logged), and a bad token from a limited
 * address (429). Since a valid token must never be refused, a limited address's tokens are still
 * looked up; this shows what that costs against a guesser. Median of 7 rounds of 20,000 calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessControl, createAuthMetrics, parseScope, TokenStore } from '../../src/auth/index.js';
import { createLogger, createMetrics } from '../../src/observability/index.js';
import { median } from './stats.js';

const CALLS = 20_000;
const ROUNDS = 7;

const dir = mkdtempSync(join(tmpdir(), 'pp-bench-auth-'));
const store = new TokenStore(join(dir, 'auth.sqlite'));
const { token } = store.create({ role: 'manager', scope: parseScope('site-01'), name: 'bench', createdBy: 'bench' });
const access = new AccessControl(store, { mode: 'required', maxFailures: 20, failureWindowMs: 3_600_000 }, createAuthMetrics(createMetrics().registry), createLogger('silent'));
const bad = (i: number) => `ppt_${(i % 4096).toString(16).padStart(12, '0')}_${'x'.repeat(43)}`;

/** µs per call of `fn` over CALLS calls. */
function time(fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / CALLS;
}

const cases: Record<string, (round: number) => (i: number) => void> = {
  'valid token (200)': () => () => access.authenticate(token, '10.0.0.1'),
  // A fresh address per call: never limited, so every call is a counted, logged 401.
  'bad token, address below the limit (401)': (round) => (i) => access.authenticate(bad(i), `10.${round}.${i >> 8}.${i & 255}`),
  'bad token, limited address (429)': () => (i) => access.authenticate(bad(i), '10.255.255.255'),
  'valid token from the limited address (200)': () => () => access.authenticate(token, '10.255.255.255'),
};

for (let i = 0; i < 25; i++) access.authenticate(bad(i), '10.255.255.255'); // limit that address
const results: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) for (const [name, make] of Object.entries(cases)) results[name]!.push(time(make(round)));
for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(45)} ${median(xs).toFixed(1).padStart(6)} µs/call  (${Math.round(1e6 / median(xs)).toLocaleString('en')} calls/s)`);
store.close();
rmSync(dir, { recursive: true, force: true });
