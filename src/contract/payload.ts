import { z } from 'zod';
import { idSchema } from './ids.js';

/**
 * The telemetry payload (docs/contract.md): `{ "seq": <uint>, "samples": [ { "ts": <epoch ms>, "m": { "<metric>": <number> } } ] }`.
 * The envelope is checked as a whole; samples one by one so that one bad sample costs only itself.
 */
export const METRIC_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** 2000-01-01T00:00:00Z: anything older is a unit mistake (seconds instead of ms) or a dead RTC. */
export const MIN_TIMESTAMP_MS = 946_684_800_000;
/** 2100-01-01T00:00:00Z: anything later is a unit mistake (micro- or nanoseconds), not a clock. */
export const MAX_TIMESTAMP_MS = 4_102_444_800_000;
/**
 * Names a metric cannot have: storage uses them itself (`time` is InfluxDB's timestamp column,
 * `bad` the list of failed readings), so a sample carrying them would break its whole batch.
 */
export const RESERVED_METRIC_NAMES: ReadonlySet<string> = new Set(['time', 'bad']);

export const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const envelopeSchema = z.object({
  seq: seqSchema,
  samples: z.array(z.unknown()),
});

/** HTTP body: the same envelope, ids in the body (or in the path), seq optional for scripts. */
export const httpEnvelopeSchema = z.object({
  site: idSchema.optional(),
  line: idSchema.optional(),
  device: idSchema.optional(),
  seq: seqSchema.optional(),
  samples: z.array(z.unknown()),
});

// z.number() rejects NaN and ±Infinity (zod 4), and strings are never coerced.
export const sampleSchema = z.strictObject({
  ts: z.number().int().min(MIN_TIMESTAMP_MS).max(MAX_TIMESTAMP_MS),
  m: z.record(z.string().regex(METRIC_NAME_PATTERN), z.number()),
  // Metrics the gateway tried and failed to read at `ts` (bad quality): reported, never as zero.
  bad: z.array(z.string().regex(METRIC_NAME_PATTERN)).max(256).optional(),
});

export interface Sample {
  ts: number;
  m: Record<string, number>;
  /** Metrics whose reading failed at `ts` (bad quality). They are absent from `m`. */
  bad?: string[];
}

export interface TelemetryPayload {
  seq: number;
  samples: Sample[];
}
