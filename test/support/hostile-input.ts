import fc from 'fast-check';
import { MAX_TIMESTAMP_MS, METRIC_CATALOGUE, METRIC_NAME_PATTERN, MIN_TIMESTAMP_MS, RESERVED_METRIC_NAMES } from '../../src/contract/index.js';

/**
 * Generators (fast-check arbitraries) for hostile input, shared by the fuzz tests of the decoder,
 * the line protocol code and the HTTP API. "Valid" generators produce only what the contract
 * accepts and "invalid" ones only what it must reject, so a property can say exactly which
 * samples must survive.
 */

/** Keys that reach for Object.prototype when a plain object is used as a map. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', '__lookupGetter__'];
/** Spellings of non-numbers and of numbers in forms JSON does not have. */
export const NUMBER_SPELLINGS = ['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e999', '-1e999', '1e-400', '0x10', '0b1', '1_000', ' 1', '1 ', '', '-0', '+1', '.5', '5.', '1,5', '١٢', 'null', 'true'];
/** Characters with a meaning somewhere: line protocol, InfluxQL, MQTT topics, JSON, URLs, shells. */
const SPECIAL_CHARS = [',', '=', ' ', '\\', '"', "'", '\n', '\r', '\t', '\0', '#', '/', '+', '$', '{', '}', '[', ']', '%', '&', '?', ';', '*', '\u2028', '\ufeff', '\ud800', 'é', '中', '😀', '_', '-', 'a', 'Z', '0'];

const special = fc.constantFrom(...SPECIAL_CHARS);

/** Any string: printable, binary, special characters, prototype keys, number spellings, very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: special, minLength: 1, maxLength: 12 }),
  fc.constantFrom(...PROTOTYPE_KEYS, ...NUMBER_SPELLINGS),
  // Just over the id (64) and name limits, and far over them.
  fc.integer({ min: 65, max: 70 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n)),
);

/** Ids as the contract accepts them. */
export const validId: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

/** Metric names the contract accepts, including ones that are also Object.prototype members. */
export const validMetricName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(METRIC_NAME_PATTERN).filter((n) => !RESERVED_METRIC_NAMES.has(n)),
  fc.constantFrom(...Object.keys(METRIC_CATALOGUE)),
  fc.constantFrom(...PROTOTYPE_KEYS.filter((k) => METRIC_NAME_PATTERN.test(k))),
);

/** Strings that are not valid metric names (hostile, reserved, too long). */
export const invalidMetricName: fc.Arbitrary<string> = fc.oneof(hostileString, fc.constantFrom('time', 'bad', '__proto__', '_x', '1x', 'a'.repeat(65))).filter((n) => !METRIC_NAME_PATTERN.test(n) || RESERVED_METRIC_NAMES.has(n));

/** Strings that are not valid ids. */
export const invalidId: fc.Arbitrary<string> = hostileString.filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s));

/** Every finite double, the extremes and subnormals included. */
export const finiteNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, 1, -1, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1e21, 1e-7),
);

/** Object from entries, keeping `__proto__` as an own key (as JSON.parse does). */
export function objectOf<V>(entries: [string, V][]): Record<string, V> {
  return Object.fromEntries(entries) as Record<string, V>;
}

export interface Limits {
  maxMetricsPerSample: number;
  maxFutureSkewMs: number;
}

/** A sample the decoder must accept unchanged, for a platform clock `now`. */
export function validSample(now: number, limits: Limits) {
  const metrics = fc.uniqueArray(fc.tuple(validMetricName, finiteNumber), { minLength: 1, maxLength: Math.min(8, limits.maxMetricsPerSample), selector: ([k]) => k });
  return fc.record(
    {
      ts: fc.integer({ min: MIN_TIMESTAMP_MS, max: now + limits.maxFutureSkewMs }),
      m: metrics.map(objectOf),
      bad: fc.uniqueArray(validMetricName, { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['ts', 'm'] },
  );
}

/** A JSON value of any shape (kept small; deep nesting is `deepJsonText`). */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(null, true, 'NaN', [], {}, [[[[[]]]]]));

/**
 * JSON text nested up to 100,000 levels (arrays or objects), with `hole` where the innermost
 * value goes. Kept as text: fast-check cannot print a value that deep when reporting a failure.
 */
export const deepJsonText: fc.Arbitrary<(hole: string) => string> = fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.boolean()).map(
  ([depth, objects]) =>
    (hole: string) =>
      objects ? '{"a":'.repeat(depth) + hole + '}'.repeat(depth) : '['.repeat(depth) + hole + ']'.repeat(depth),
);

/** A value that is not a finite number, in every disguise. */
const notANumber: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom(...NUMBER_SPELLINGS), fc.constantFrom(null, true, false, [], {}, [1], { value: 1 }), hostileString, anyJson.filter((v) => typeof v !== 'number'));

/**
 * A sample the decoder must reject (and only that sample), for a platform clock `now`. Each
 * variant breaks exactly one rule of the contract.
 */
export function invalidSample(now: number, limits: Limits): fc.Arbitrary<unknown> {
  const good = validSample(now, limits);
  const tooFar = now + limits.maxFutureSkewMs + 1;
  return fc.oneof(
    // The timestamp: not a number, not an integer, before 2000, after 2100, further than the skew.
    fc.tuple(good, fc.oneof(notANumber, fc.constantFrom(1.5, MIN_TIMESTAMP_MS - 1, MAX_TIMESTAMP_MS + 1, 9e15, -1, Math.floor(now / 1000), now * 1000), fc.integer({ min: tooFar, max: tooFar + 1e9 }).filter((t) => t <= MAX_TIMESTAMP_MS))).map(([s, ts]) => ({ ...s, ts })),
    fc.tuple(good).map(([s]) => ({ m: s.m })),
    // A value that is not a finite number.
    fc.tuple(good, validMetricName, notANumber).map(([s, k, v]) => ({ ...s, m: { ...s.m, ...objectOf([[k, v]]) } })),
    // A metric name outside the pattern, or reserved.
    fc.tuple(good, invalidMetricName, finiteNumber).map(([s, k, v]) => ({ ...s, m: { ...s.m, ...objectOf([[k, v]]) } })),
    // An empty sample, too many metrics, a key the contract does not know.
    fc.tuple(good).map(([s]) => ({ ts: s.ts, m: {} })),
    fc.tuple(good).map(([s]) => ({ ts: s.ts, m: objectOf(Array.from({ length: limits.maxMetricsPerSample + 1 }, (_, i): [string, number] => [`m${i}`, i])) })),
    fc.tuple(good, hostileString.filter((k) => !['ts', 'm', 'bad'].includes(k))).map(([s, k]) => ({ ...s, ...objectOf([[k, 1]]) })),
    // `bad` that is not a list of metric names (`time` and `bad` may be listed there: a string field, harmless).
    fc.tuple(good, fc.oneof(invalidMetricName.filter((n) => !METRIC_NAME_PATTERN.test(n)).map((n) => [n]), fc.constantFrom('power_kw', null, 1, {}))).map(([s, bad]) => ({ ...s, bad })),
    // Not an object at all.
    fc.oneof(fc.constantFrom(null, 1, 'sample', true), fc.array(finiteNumber, { maxLength: 3 })),
  );
}
