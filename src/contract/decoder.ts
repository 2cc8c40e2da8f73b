import type { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors.js';
import { deviceKey, isValidId, type DeviceRef } from './ids.js';
import { isKnownMetric } from './metrics.js';
import { envelopeSchema, httpEnvelopeSchema, sampleSchema, MAX_TIMESTAMP_MS, METRIC_NAME_PATTERN, RESERVED_METRIC_NAMES, type Sample } from './payload.js';
import { parseTopic } from './topic.js';
import { lastAccepted, validSampleOrNull } from './sample-fast-path.js';

export interface DecodeLimits {
  /** Largest message or HTTP body, in bytes. */
  maxBytes: number;
  /** Most samples in one message; more rejects the whole message. */
  maxSamples: number;
  /** Most metrics in one sample. */
  maxMetricsPerSample: number;
  /** How far in the future (relative to the platform clock) a sample may be. */
  maxFutureSkewMs: number;
}

export const DEFAULT_LIMITS: DecodeLimits = {
  maxBytes: 1024 * 1024,
  maxSamples: 10_000,
  maxMetricsPerSample: 256,
  maxFutureSkewMs: 5 * 60_000,
};

/** One problem, precisely: which sample (index), which field (path), why. */
export interface Rejection {
  code: ErrorCode;
  /** JSON path of the offending part, e.g. `samples[3].m.temperature_c`, or `$` for the whole message. */
  path: string;
  /** Index of the rejected sample; absent when the whole message was rejected. */
  sample?: number;
  reason: string;
}

/** Validated samples of one device from one message: the internal form every source produces. */
export interface TelemetryBatch extends DeviceRef {
  /**
   * The device's key (`deviceKey`), set by the decoder: found once per message (with an MQTT
   * topic, once per topic), where each stage that keeps per-device state (analytics, completeness,
   * the live hub) looked it up again. Batches made elsewhere may lack it (deviceKey then finds it).
   */
  readonly deviceKey?: string;
  /** Gateway sequence number; null when the source has none (HTTP scripts, line protocol). */
  seq: number | null;
  samples: Sample[];
  /** History, not live data (e.g. Sparkplug `is_historical`): stored and accounted, kept out of live alerts. */
  historical?: boolean;
}

export interface DecodeResult {
  /** Null when the whole message was rejected (then `rejections` says why). */
  batch: TelemetryBatch | null;
  rejections: Rejection[];
  /** Metric names outside the catalogue: kept, but flagged. */
  unknownMetrics: string[];
}

function messageRejected(code: ErrorCode, reason?: string): DecodeResult {
  return { batch: null, rejections: [{ code, path: '$', reason: reason ?? ERRORS[code].message }], unknownMetrics: [] };
}

/** One decoder for every message (decode() without `stream` keeps no state between calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(raw: Buffer | string, limits: DecodeLimits): { ok: true; value: unknown } | { ok: false; result: DecodeResult } {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > limits.maxBytes) {
    return { ok: false, result: messageRejected('PP_ERR_BODY_TOO_LARGE', `body is ${size} bytes; the limit is ${limits.maxBytes}`) };
  }
  try {
    // `fatal` makes invalid UTF-8 an error instead of silently becoming U+FFFD.
    const text = typeof raw === 'string' ? raw : UTF8.decode(raw);
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, result: messageRejected('PP_ERR_INVALID_JSON', `body is not valid UTF-8 JSON: ${(err as Error).message}`) };
  }
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '$'}: ${i.message}`).join('; ');
}

/** The JSON path of a sample: built only for a rejection (nearly every sample is valid). */
const at = (pathPrefix: string, index: number) => `${pathPrefix}[${index}]`;

/** Add a rejection to `rejections` (made on the first one); returns the array. */
function reject(rejections: Rejection[] | null, index: number, code: ErrorCode, path: string, reason: string): Rejection[] {
  const out = rejections ?? [];
  out.push({ code, path, sample: index, reason });
  return out;
}

/** What a message with nothing to reject or flag carries (frozen: shared by every such result). */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/**
 * Validate samples one by one: bad ones become rejections, good ones are kept. Per sample the
 * valid case allocates only the sample the batch keeps (with one-sample messages this runs once
 * per message, so closures, a Set and arrays made per call or per sample showed as garbage:
 * hence `at` and `reject` outside, not closures made per call).
 *
 * `owned`: `rawSamples` is this decoder's own (from its JSON.parse), so when every sample is kept
 * as it was parsed (the fast path's usual answer) it is the batch's array itself, not a copy;
 * the rejection and unknown-metric arrays are made only when there is something to put in them.
 */
function decodeSamples(ref: DeviceRef, key: string, seq: number | null, rawSamples: unknown[], limits: DecodeLimits, now: number, pathPrefix: string, owned: boolean): DecodeResult {
  // null while the samples kept so far are rawSamples' first `kept`, as parsed.
  let samples: Sample[] | null = owned ? null : [];
  let kept = 0;
  let rejections: Rejection[] | null = null;
  let unknown: Set<string> | null = null;
  const latest = now + limits.maxFutureSkewMs;
  for (let index = 0; index < rawSamples.length; index++) {
    const raw = rawSamples[index];
    // Hot path: a valid sample is checked without zod (sample-fast-path.ts); anything else goes
    // through zod, which says precisely what is wrong.
    const fast = validSampleOrNull(raw);
    let sample = fast;
    if (sample === null) {
      const parsed = sampleSchema.safeParse(raw);
      // zod skips a `__proto__` key of a record unchecked (its prototype-pollution guard), so such a
      // metric would vanish without a reason: reject it like any other name outside the pattern.
      const protoKey = hasOwnProtoKey((raw as { m?: unknown } | null)?.m);
      if (protoKey) rejections = reject(rejections, index, 'PP_ERR_INVALID_METRIC_NAME', `${at(pathPrefix, index)}.m.__proto__`, `metric name "__proto__" must match ${METRIC_NAME_PATTERN.source}`);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const [head, key] = issue.path;
          const path = issue.path.length ? `${at(pathPrefix, index)}.${issue.path.map(String).join('.')}` : at(pathPrefix, index);
          if (head === 'ts') rejections = reject(rejections, index, 'PP_ERR_INVALID_TIMESTAMP', path, describeTs(raw));
          else if (head === 'm' && key !== undefined && issue.code === 'invalid_key') rejections = reject(rejections, index, 'PP_ERR_INVALID_METRIC_NAME', path, `metric name ${JSON.stringify(String(key)).slice(0, 80)} must match ${METRIC_NAME_PATTERN.source}`);
          else if (head === 'm' && key !== undefined) rejections = reject(rejections, index, 'PP_ERR_INVALID_VALUE', path, describeValue((raw as { m: Record<string, unknown> }).m[String(key)]));
          else rejections = reject(rejections, index, 'PP_ERR_INVALID_SAMPLE', path, describeIssues([issue]));
        }
        continue;
      }
      if (protoKey) continue;
      sample = parsed.data;
    }
    // The fast path counted the metrics and classified their names as it checked them.
    let count = lastAccepted.metrics;
    let reserved = lastAccepted.reserved;
    let unknownNames = lastAccepted.unknown;
    if (fast === null) {
      count = 0;
      reserved = undefined;
      unknownNames = false;
      for (const name in sample.m) {
        count++;
        if (reserved === undefined && RESERVED_METRIC_NAMES.has(name)) reserved = name;
        if (!isKnownMetric(name)) unknownNames = true;
      }
    }
    if (count === 0 && !sample.bad?.length) {
      rejections = reject(rejections, index, 'PP_ERR_EMPTY_SAMPLE', `${at(pathPrefix, index)}.m`, 'sample has no metrics');
      continue;
    }
    if (count > limits.maxMetricsPerSample) {
      rejections = reject(rejections, index, 'PP_ERR_TOO_MANY_METRICS', `${at(pathPrefix, index)}.m`, `sample has ${count} metrics; the limit is ${limits.maxMetricsPerSample}`);
      continue;
    }
    if (reserved !== undefined) {
      rejections = reject(rejections, index, 'PP_ERR_INVALID_METRIC_NAME', `${at(pathPrefix, index)}.m.${reserved}`, `metric name ${JSON.stringify(reserved)} is reserved (${[...RESERVED_METRIC_NAMES].join(', ')}): rename it`);
      continue;
    }
    if (sample.ts > latest) {
      rejections = reject(rejections, index, 'PP_ERR_FUTURE_TIMESTAMP', `${at(pathPrefix, index)}.ts`, `ts ${new Date(sample.ts).toISOString()} is ${sample.ts - now} ms ahead of the platform clock; the allowed skew is ${limits.maxFutureSkewMs} ms`);
      continue;
    }
    if (unknownNames) for (const name in sample.m) if (!isKnownMetric(name)) (unknown ??= new Set()).add(name);
    // The fast path's sample is already in the batch's form ({ts, m} or {ts, m, bad} with some
    // bad names); zod's, or an empty `bad`, is copied into it.
    const keep = fast !== null && (fast.bad === undefined || fast.bad.length > 0) ? fast : sample.bad?.length ? { ts: sample.ts, m: sample.m, bad: sample.bad } : { ts: sample.ts, m: sample.m };
    if (samples === null && keep === rawSamples[index] && index === kept) kept++;
    else (samples ??= rawSamples.slice(0, kept) as Sample[]).push(keep);
  }
  const batchSamples = samples ?? (kept === rawSamples.length ? (rawSamples as Sample[]) : (rawSamples.slice(0, kept) as Sample[]));
  return { batch: { site: ref.site, line: ref.line, device: ref.device, deviceKey: key, seq, samples: batchSamples }, rejections: rejections ?? NONE, unknownMetrics: unknown ? [...unknown] : NONE };
}

function hasOwnProtoKey(m: unknown): boolean {
  return typeof m === 'object' && m !== null && Object.prototype.hasOwnProperty.call(m, '__proto__');
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return `value ${value} is not a finite number`;
  if (typeof value === 'string') return `expected a number, got the string ${JSON.stringify(value).slice(0, 40)}`;
  return `expected a number, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
}

function describeTs(sample: unknown): string {
  const ts = (sample as { ts?: unknown } | null)?.ts;
  if (ts === undefined) return 'ts is missing';
  if (typeof ts !== 'number') return `ts must be a number of milliseconds, got ${typeof ts}`;
  if (!Number.isInteger(ts)) return `ts ${ts} must be an integer number of milliseconds`;
  if (ts > MAX_TIMESTAMP_MS) return `ts ${ts} is after 2100-01-01 (microseconds or nanoseconds instead of milliseconds?)`;
  return `ts ${ts} is before 2000-01-01 (seconds instead of milliseconds?)`;
}

function finish(ref: DeviceRef, key: string, seq: number | null, rawSamples: unknown[], limits: DecodeLimits, now: number, owned: boolean): DecodeResult {
  if (rawSamples.length > limits.maxSamples) {
    return messageRejected('PP_ERR_TOO_MANY_SAMPLES', `message has ${rawSamples.length} samples; the limit is ${limits.maxSamples}`);
  }
  return decodeSamples(ref, key, seq, rawSamples, limits, now, 'samples', owned);
}

/** Decode an MQTT `pp/v1/{site}/{line}/{device}/metrics` message. */
export function decodeMqttMessage(topic: string, payload: Buffer, limits: DecodeLimits = DEFAULT_LIMITS, now = Date.now()): DecodeResult {
  const parsedTopic = parseTopic(topic);
  if (!parsedTopic.ok) return messageRejected('PP_ERR_INVALID_TOPIC', parsedTopic.reason);
  if (parsedTopic.kind !== 'metrics') return messageRejected('PP_ERR_INVALID_TOPIC', `telemetry must be published on .../metrics, not .../${parsedTopic.kind}`);
  const json = parseJson(payload, limits);
  if (!json.ok) return json.result;
  const fast = validEnvelopeOrNull(json.value);
  if (fast) return finish(parsedTopic.ref, parsedTopic.key, fast.seq, fast.samples, limits, now, true);
  const envelope = envelopeSchema.safeParse(json.value);
  if (!envelope.success) return messageRejected('PP_ERR_INVALID_ENVELOPE', describeIssues(envelope.error.issues));
  return finish(parsedTopic.ref, parsedTopic.key, envelope.data.seq, envelope.data.samples, limits, now, false);
}

/**
 * The MQTT envelope as `envelopeSchema` would return it, without zod (which copies the object and
 * its sample array for every message: with 1-sample messages a per-message cost as large as a
 * sample's), or null: then zod decides and says precisely what is wrong. The schema's checks: an
 * object (other keys ignored), `seq` an integer from 0 to MAX_SAFE_INTEGER, `samples` an array.
 */
function validEnvelopeOrNull(v: unknown): { seq: number; samples: unknown[] } | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { seq, samples } = v as { seq?: unknown; samples?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || !Array.isArray(samples)) return null;
  return v as { seq: number; samples: unknown[] }; // read as it is, not copied
}

/**
 * Decode an HTTP ingest body. Ids come from the path (`pathRef`) or the body; when both are
 * given they must agree.
 */
export function decodeHttpBody(raw: Buffer | string, pathRef: Partial<DeviceRef> = {}, limits: DecodeLimits = DEFAULT_LIMITS, now = Date.now()): DecodeResult {
  const json = parseJson(raw, limits);
  if (!json.ok) return json.result;
  return decodeHttpValue(json.value, pathRef, limits, now);
}

/** Also for values parsed elsewhere (line protocol, Sparkplug): the batch never shares their sample array. */
export function decodeHttpValue(value: unknown, pathRef: Partial<DeviceRef> = {}, limits: DecodeLimits = DEFAULT_LIMITS, now = Date.now()): DecodeResult {
  const ref: Partial<DeviceRef> = {};
  for (const key of ['site', 'line', 'device'] as const) {
    const fromPath = pathRef[key];
    if (fromPath !== undefined && !isValidId(fromPath)) return messageRejected('PP_ERR_INVALID_ID', `${key} id in the path must match [A-Za-z0-9_-]{1,64}`);
    const fromBody = (value as Record<string, unknown> | null)?.[key];
    if (fromBody !== undefined && !isValidId(fromBody)) return messageRejected('PP_ERR_INVALID_ID', `${key} in the body must match [A-Za-z0-9_-]{1,64}`);
    if (fromPath !== undefined && fromBody !== undefined && fromPath !== fromBody) {
      return messageRejected('PP_ERR_INVALID_ID', `${key} in the body (${fromBody}) differs from the path (${fromPath})`);
    }
    const id = fromPath ?? (fromBody as string | undefined);
    if (id === undefined) return messageRejected('PP_ERR_INVALID_ID', `${key} is required (in the path or the body)`);
    ref[key] = id;
  }
  const envelope = httpEnvelopeSchema.safeParse(value);
  if (!envelope.success) return messageRejected('PP_ERR_INVALID_ENVELOPE', describeIssues(envelope.error.issues));
  return finish(ref as DeviceRef, deviceKey(ref as DeviceRef), envelope.data.seq ?? null, envelope.data.samples, limits, now, false);
}
