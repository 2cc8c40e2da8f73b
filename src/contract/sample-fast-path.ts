import { isKnownMetric } from './metrics.js';
import { MAX_TIMESTAMP_MS, METRIC_NAME_PATTERN, MIN_TIMESTAMP_MS, RESERVED_METRIC_NAMES, type Sample } from './payload.js';

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

/**
 * What each metric name already seen to match the pattern is: one Map lookup per name answers
 * the pattern, the reserved names and the catalogue, which were a regex (or a Set lookup), a
 * second Set and a property lookup, in three loops over the sample's metrics. Bounded, so hostile
 * traffic cannot grow it: past the bound, names are classified every time.
 */
const KNOWN = 1;
const UNKNOWN = 2; // matches the pattern, not in the catalogue: kept, but flagged
const RESERVED = 3; // matches the pattern, but storage's own (RESERVED_METRIC_NAMES)
const NAME_KINDS = new Map<string, number>();
const MAX_NAME_KINDS = 4096;
const MAX_BAD = 256;

/** The name's kind, or 0 when it does not match the pattern. */
function kindOf(name: string): number {
  const known = NAME_KINDS.get(name);
  if (known !== undefined) return known;
  if (!METRIC_NAME_PATTERN.test(name)) return 0;
  const kind = RESERVED_METRIC_NAMES.has(name) ? RESERVED : isKnownMetric(name) ? KNOWN : UNKNOWN;
  if (NAME_KINDS.size < MAX_NAME_KINDS) NAME_KINDS.set(name, kind);
  return kind;
}

/**
 * What validSampleOrNull learnt of the sample it last accepted, for the decoder to read at once:
 * its metric count, its first reserved name and whether any name is outside the catalogue (the
 * decoder's own checks, without looping over the metrics again; no object per sample).
 */
export const lastAccepted = { metrics: 0, reserved: undefined as string | undefined, unknown: false };

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
  let metrics = 0;
  let reserved: string | undefined;
  let unknown = false;
  for (const name in m) {
    const v = m[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    // A `__proto__` own key fails the pattern, so it goes to zod and gets its rejection there.
    const kind = kindOf(name);
    if (kind === 0) return null;
    metrics++;
    if (kind === UNKNOWN) unknown = true;
    else if (kind === RESERVED && reserved === undefined) reserved = name;
  }
  if (bad !== undefined) {
    if (!Array.isArray(bad) || bad.length > MAX_BAD) return null;
    for (const name of bad) if (typeof name !== 'string' || kindOf(name) === 0) return null;
  }
  lastAccepted.metrics = metrics;
  lastAccepted.reserved = reserved;
  lastAccepted.unknown = unknown;
  // The object JSON.parse made is the sample itself (only `ts`, `m` and `bad`, checked above): kept
  // as it is rather than copied, with one-sample messages a copy per message.
  return raw as unknown as Sample;
}
