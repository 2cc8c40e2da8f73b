/**
 * Detector, energy and quality states as plain JSON, for handing a device over to another
 * process (docs/scale-out.md). States are mostly plain objects, but some hold what JSON cannot
 * say: maps (one state per metric), typed arrays (covariances), and non-finite numbers (a
 * "never" timestamp of -Infinity). Those are written as one-key tagged objects and read back
 * as what they were, so a state restored from JSON behaves exactly as the one exported.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const TAGS = ['$map', '$set', '$f64', '$num', '$undef'] as const;

export function toJsonValue(value: unknown): JsonValue {
  if (value === null) return null;
  if (value === undefined) return { $undef: 1 };
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : { $num: String(value) };
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw new Error(`cannot hand over a ${typeof value} in a device state`);
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [toJsonValue(k), toJsonValue(v)]) };
  if (value instanceof Set) return { $set: [...value].map(toJsonValue) };
  if (value instanceof Float64Array) return { $f64: [...value].map(toJsonValue) };
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new Error(`cannot hand over an instance of ${(value as object).constructor?.name ?? 'a class'} in a device state`);
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue; // as JSON.stringify: an absent optional field
    out[k] = toJsonValue(v);
  }
  return out;
}

export function fromJsonValue(value: JsonValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromJsonValue);
  const keys = Object.keys(value);
  if (keys.length === 1 && (TAGS as readonly string[]).includes(keys[0]!)) {
    const [tag] = keys as [(typeof TAGS)[number]];
    switch (tag) {
      case '$map':
        return new Map((value.$map as [JsonValue, JsonValue][]).map(([k, v]) => [fromJsonValue(k), fromJsonValue(v)]));
      case '$set':
        return new Set((value.$set as JsonValue[]).map(fromJsonValue));
      case '$f64':
        return Float64Array.from((value.$f64 as JsonValue[]).map((x) => fromJsonValue(x) as number));
      case '$num':
        return Number(value.$num);
      case '$undef':
        return undefined;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromJsonValue(v);
  return out;
}
