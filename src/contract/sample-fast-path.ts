import { MAX_TIMESTAMP_MS, METRIC_NAME_PATTERN, MIN_TIMESTAMP_MS, type Sample } from './payload.js';

/**
 * The decoder's hot path: accepts exactly the samples `sampleSchema` accepts, without zod, and
 * answers null for anything it is not sure of, which then goes through zod as before (so every
 * rejection keeps its precise reason). Profiling the platform at its maximum rate showed zod's
 * per-sample parse as the largest single cost; valid samples are nearly all of the traffic.
 *
 * The same checks as the schema: a plain object with only `ts`, `m` and optionally `bad`; `ts` an
 * integer from 2000 to 2100 (ms); `m` a plain object whose names match METRIC_NAME_PATTERN and
 * whose values are finite numbers; `bad` an array of at most 256 such names.
 */

/** Metric names already seen to match the pattern: a Set lookup instead of a regex per name. Bounded, so hostile traffic cannot grow it. */
const KNOWN_GOOD_NAMES = new Set<string>();
const MAX_KNOWN_GOOD_NAMES = 4096;
const MAX_BAD = 256;

function goodName(name: string): boolean {
  if (KNOWN_GOOD_NAMES.has(name)) return true;
  if (!METRIC_NAME_PATTERN.test(name)) return false;
  if (KNOWN_GOOD_NAMES.size < MAX_KNOWN_GOOD_NAMES) KNOWN_GOOD_NAMES.add(name);
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** The sample as the schema would return it (the object given, not a copy), or null: "ask zod". */
export function validSampleOrNull(raw: unknown): Sample | null {
  if (!isPlainObject(raw)) return null;
  for (const k in raw) if (k !== 'ts' && k !== 'm' && k !== 'bad') return null;
  const { ts, m, bad } = raw;
  if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < MIN_TIMESTAMP_MS || ts > MAX_TIMESTAMP_MS) return null;
  if (!isPlainObject(m)) return null;
  for (const name in m) {
    const v = m[name];
    // A `__proto__` own key fails the pattern, so it goes to zod and gets its rejection there.
    if (typeof v !== 'number' || !Number.isFinite(v) || !goodName(name)) return null;
  }
  // The object JSON.parse made is the sample itself (only `ts`, `m` and `bad`, checked above): kept
  // as it is rather than copied, with one-sample messages a copy per message.
  if (bad === undefined) return raw as unknown as Sample;
  if (!Array.isArray(bad) || bad.length > MAX_BAD) return null;
  for (const name of bad) if (typeof name !== 'string' || !goodName(name)) return null;
  return raw as unknown as Sample;
}
