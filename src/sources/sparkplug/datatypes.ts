/**
 * Sparkplug B datatypes (specification 3.0, "Datatype details") and how a metric value becomes
 * a PlantPulse number. Numbers and booleans are telemetry; everything else (strings, bytes,
 * datasets, templates, arrays, property sets) is skipped and counted by reason, because the
 * `telemetry` measurement holds one numeric field per metric.
 */
export const DataType = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
} as const;

/** The value oneof of a decoded metric. 64-bit integers stay exact (bigint) until interpreted. */
export type MetricValue =
  | { kind: 'int'; raw: number }
  | { kind: 'long'; raw: bigint }
  | { kind: 'float'; raw: number }
  | { kind: 'double'; raw: number }
  | { kind: 'boolean'; raw: boolean }
  | { kind: 'string'; raw: string }
  | { kind: 'bytes' }
  | { kind: 'dataset' }
  | { kind: 'template' }
  | { kind: 'extension' }
  | { kind: 'none' };

/** Why a metric was not turned into a number (the `reason` label of pp_sparkplug_metrics_skipped_total). */
export type SkipReason = 'string' | 'bytes' | 'dataset' | 'template' | 'array' | 'property_set' | 'unknown_type' | 'type_mismatch' | 'no_value' | 'transient' | 'control';

export const SKIP_REASONS: readonly SkipReason[] = ['string', 'bytes', 'dataset', 'template', 'array', 'property_set', 'unknown_type', 'type_mismatch', 'no_value', 'transient', 'control'];

export type NumericResult = { ok: true; value: number } | { ok: false; skip: SkipReason };

/** Which non-numeric datatypes are skipped for which reason; anything not listed and not numeric is `unknown_type`. */
function skipReasonOf(datatype: number): SkipReason | null {
  switch (datatype) {
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      return 'string';
    case DataType.Bytes:
    case DataType.File:
      return 'bytes';
    case DataType.DataSet:
      return 'dataset';
    case DataType.Template:
      return 'template';
    case DataType.PropertySet:
    case DataType.PropertySetList:
      return 'property_set';
    default:
      // 22..34: Int8Array .. DateTimeArray (Sparkplug 3.0), packed into bytes_value.
      return datatype >= 22 && datatype <= 34 ? 'array' : null;
  }
}

/** True when the datatype can become a number (integers, floats, booleans, DateTime). */
export function isNumericDatatype(datatype: number): boolean {
  return (datatype >= DataType.Int8 && datatype <= DataType.Boolean) || datatype === DataType.DateTime;
}

export function skipReasonForDatatype(datatype: number): SkipReason {
  return skipReasonOf(datatype) ?? 'unknown_type';
}

/**
 * A float arrives as float32, so 41.7 becomes 41.70000076293945 in a double. Store the shortest
 * decimal that is the same float32 (41.7): that is the number the gateway meant, and it is exact.
 */
export function float32ToShortest(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(x.toPrecision(precision));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

function integer(bits: 8 | 16 | 32 | 64, signed: boolean, value: MetricValue): NumericResult {
  let big: bigint;
  if (value.kind === 'int') big = BigInt(value.raw);
  else if (value.kind === 'long') big = value.raw;
  else return { ok: false, skip: value.kind === 'none' ? 'no_value' : 'type_mismatch' };
  // Signed types travel as two's complement in an unsigned field; implementations differ on
  // whether an Int8 -1 is sent as 255 or 4294967295, and reading the low `bits` covers both.
  // Values beyond 2^53 lose precision as JavaScript numbers (InfluxDB floats would anyway).
  return { ok: true, value: Number(signed ? BigInt.asIntN(bits, big) : BigInt.asUintN(bits, big)) };
}

/** The metric's value as a number, by its (birth) datatype, or why it is skipped. */
export function numericValue(datatype: number, value: MetricValue): NumericResult {
  switch (datatype) {
    case DataType.Int8:
      return integer(8, true, value);
    case DataType.Int16:
      return integer(16, true, value);
    case DataType.Int32:
      return integer(32, true, value);
    case DataType.Int64:
      return integer(64, true, value);
    case DataType.UInt8:
      return integer(8, false, value);
    case DataType.UInt16:
      return integer(16, false, value);
    case DataType.UInt32:
      return integer(32, false, value);
    case DataType.UInt64:
    case DataType.DateTime: // epoch milliseconds
      return integer(64, false, value);
    case DataType.Float:
    case DataType.Double:
      if (value.kind === 'float') return { ok: true, value: float32ToShortest(value.raw) };
      if (value.kind === 'double') return { ok: true, value: value.raw };
      return { ok: false, skip: value.kind === 'none' ? 'no_value' : 'type_mismatch' };
    case DataType.Boolean:
      if (value.kind === 'boolean') return { ok: true, value: value.raw ? 1 : 0 };
      return { ok: false, skip: value.kind === 'none' ? 'no_value' : 'type_mismatch' };
    default:
      return { ok: false, skip: skipReasonForDatatype(datatype) };
  }
}
