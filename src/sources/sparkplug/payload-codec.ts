import { DataType, type MetricValue } from './datatypes.js';
import { PAYLOAD_TYPE } from './sparkplug-b-proto.js';

/** A property value reduced to what PlantPulse reads from it (units); nested sets become null. */
export type PropertyScalar = string | number | boolean | null;

/** One decoded metric: only what was on the wire (proto2 optional fields stay absent). */
export interface SparkplugMetric {
  name?: string;
  /** uint64 on the wire: kept exact. */
  alias?: bigint;
  /** Epoch milliseconds. */
  timestamp?: number;
  datatype?: number;
  isHistorical: boolean;
  isTransient: boolean;
  isNull: boolean;
  properties: Record<string, PropertyScalar>;
  value: MetricValue;
}

export interface SparkplugPayload {
  /** Epoch milliseconds when the message was sent. */
  timestamp?: number;
  seq?: number;
  metrics: SparkplugMetric[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** uint64 fields come back as decimal strings (`longs: String`), so nothing is rounded here. */
const u64 = (v: unknown): bigint | undefined => (typeof v === 'string' || typeof v === 'number' ? BigInt(v) : undefined);
const u64Number = (v: unknown): number | undefined => (typeof v === 'string' || typeof v === 'number' ? Number(v) : undefined);

function metricValue(m: Obj): MetricValue {
  switch (m.value) {
    case 'intValue':
      return { kind: 'int', raw: Number(m.intValue) };
    case 'longValue':
      return { kind: 'long', raw: BigInt(m.longValue as string) };
    case 'floatValue':
      return { kind: 'float', raw: Number(m.floatValue) };
    case 'doubleValue':
      return { kind: 'double', raw: Number(m.doubleValue) };
    case 'booleanValue':
      return { kind: 'boolean', raw: m.booleanValue === true };
    case 'stringValue':
      return { kind: 'string', raw: String(m.stringValue) };
    case 'bytesValue':
      return { kind: 'bytes' };
    case 'datasetValue':
      return { kind: 'dataset' };
    case 'templateValue':
      return { kind: 'template' };
    case 'extensionValue':
      return { kind: 'extension' };
    default:
      return { kind: 'none' };
  }
}

function propertyScalar(p: unknown): PropertyScalar {
  if (!isObj(p) || p.isNull === true) return null;
  const v = metricValue(p);
  if (v.kind === 'int' || v.kind === 'float' || v.kind === 'double') return v.raw;
  if (v.kind === 'long') return Number(v.raw);
  if (v.kind === 'boolean' || v.kind === 'string') return v.raw;
  return null;
}

function properties(set: unknown): Record<string, PropertyScalar> {
  const out: Record<string, PropertyScalar> = {};
  if (!isObj(set) || !Array.isArray(set.keys)) return out;
  const values = Array.isArray(set.values) ? set.values : [];
  set.keys.forEach((key, i) => {
    if (typeof key === 'string') out[key] = propertyScalar(values[i]);
  });
  return out;
}

function metric(m: unknown): SparkplugMetric {
  const o = isObj(m) ? m : {};
  const out: SparkplugMetric = {
    isHistorical: o.isHistorical === true,
    isTransient: o.isTransient === true,
    isNull: o.isNull === true,
    properties: properties(o.properties),
    value: metricValue(o),
  };
  const name = str(o.name);
  if (name !== undefined) out.name = name;
  const alias = u64(o.alias);
  if (alias !== undefined) out.alias = alias;
  const ts = u64Number(o.timestamp);
  if (ts !== undefined) out.timestamp = ts;
  if (typeof o.datatype === 'number') out.datatype = o.datatype;
  return out;
}

/** Decode a Sparkplug B payload; throws on anything that is not one (the caller rejects it). */
export function decodeSparkplugPayload(buf: Uint8Array): SparkplugPayload {
  const obj = PAYLOAD_TYPE.toObject(PAYLOAD_TYPE.decode(buf), { longs: String, oneofs: true, defaults: false });
  const out: SparkplugPayload = { metrics: Array.isArray(obj.metrics) ? obj.metrics.map(metric) : [] };
  const ts = u64Number(obj.timestamp);
  if (ts !== undefined) out.timestamp = ts;
  const seq = u64Number(obj.seq);
  if (seq !== undefined) out.seq = seq;
  return out;
}

/** A metric to encode (NCMD rebirth requests; test edge nodes). */
export interface OutgoingMetric {
  name?: string;
  alias?: number | bigint;
  timestamp?: number;
  datatype: number;
  value?: number | bigint | boolean | string | null;
  isHistorical?: boolean;
  isTransient?: boolean;
  isNull?: boolean;
  /** String or number properties, e.g. `{ engUnit: 'kW' }`. */
  properties?: Record<string, string | number>;
}

export interface OutgoingPayload {
  timestamp?: number;
  seq?: number;
  metrics: OutgoingMetric[];
}

/** Put a value in the oneof field the specification names for its datatype. */
function valueFields(datatype: number, value: number | bigint | boolean | string): Obj {
  switch (datatype) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16:
    case DataType.UInt32:
      return { intValue: Number(value) >>> 0 }; // two's complement in a uint32
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime:
      return { longValue: BigInt.asUintN(64, BigInt(value)).toString() };
    case DataType.Float:
      return { floatValue: Number(value) };
    case DataType.Double:
      return { doubleValue: Number(value) };
    case DataType.Boolean:
      return { booleanValue: Boolean(value) };
    case DataType.Bytes:
    case DataType.File:
      return { bytesValue: Buffer.from(String(value)) };
    default:
      return { stringValue: String(value) };
  }
}

function encodeProperties(props: Record<string, string | number>): Obj {
  const keys = Object.keys(props);
  return {
    keys,
    values: keys.map((k) => {
      const v = props[k]!;
      return typeof v === 'string' ? { type: DataType.String, stringValue: v } : { type: DataType.Double, doubleValue: v };
    }),
  };
}

export function encodeSparkplugPayload(payload: OutgoingPayload): Buffer {
  const obj: Obj = {
    metrics: payload.metrics.map((m) => {
      const o: Obj = { datatype: m.datatype };
      if (m.name !== undefined) o.name = m.name;
      if (m.alias !== undefined) o.alias = m.alias.toString();
      if (m.timestamp !== undefined) o.timestamp = String(m.timestamp);
      if (m.isHistorical) o.isHistorical = true;
      if (m.isTransient) o.isTransient = true;
      if (m.isNull || m.value === null) o.isNull = true;
      else if (m.value !== undefined) Object.assign(o, valueFields(m.datatype, m.value));
      if (m.properties) o.properties = encodeProperties(m.properties);
      return o;
    }),
  };
  if (payload.timestamp !== undefined) obj.timestamp = String(payload.timestamp);
  if (payload.seq !== undefined) obj.seq = String(payload.seq);
  return Buffer.from(PAYLOAD_TYPE.encode(PAYLOAD_TYPE.fromObject(obj)).finish());
}
