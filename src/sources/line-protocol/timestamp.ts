import type { Cursor } from './cursor.js';
import { TIMESTAMP_MAX_MAGNITUDE, signedWithin } from './int-range.js';

/**
 * Timestamps: an integer in the request's precision (line protocol reference, "Unix timestamp":
 * default nanoseconds, range ±9223372036854775806), converted to PlantPulse's epoch milliseconds.
 */

/** `precision` values of the 1.x `/write` API (`u` is microseconds there). */
export const V1_PRECISIONS = ['ns', 'u', 'ms', 's', 'm', 'h'] as const;
/** `precision` values of the 2.x `/api/v2/write` API. */
export const V2_PRECISIONS = ['ns', 'us', 'ms', 's'] as const;
export type Precision = (typeof V1_PRECISIONS)[number] | (typeof V2_PRECISIONS)[number];

const TIMESTAMP = /^-?\d+$/;

/** Reads the timestamp token at `cur.pos` (up to a space or the line end): its digits, or null. */
export function readTimestamp(cur: Cursor): string | null {
  const text = cur.text;
  const start = cur.pos;
  let end = start;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === 0x20 || c === 0x0a || c === 0x0d) break;
    end++;
  }
  const token = text.slice(start, end);
  if (!TIMESTAMP.test(token)) return cur.fail('timestamp', `timestamp ${JSON.stringify(token.slice(0, 40))} must be an integer (digits, optionally with a leading -; no quotes, no decimal point)`, start);
  if (!signedWithin(token, TIMESTAMP_MAX_MAGNITUDE, TIMESTAMP_MAX_MAGNITUDE)) return cur.fail('timestamp', `timestamp ${token} is out of range (±${TIMESTAMP_MAX_MAGNITUDE})`, start);
  cur.pos = end;
  return token;
}

/** Milliseconds per unit for the coarse precisions; digits to drop for the fine ones. */
const MS_PER_UNIT: Partial<Record<Precision, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DIGITS_BELOW_MS: Partial<Record<Precision, number>> = { ns: 6, u: 3, us: 3 };
/** The range of a JS Date: anything beyond cannot be a real sample time (and breaks Date). */
const MAX_DATE_MS = 8.64e15;

/**
 * Epoch milliseconds of a timestamp read by `readTimestamp`, or null when it is beyond what a
 * date can be. Finer precisions are floored to the millisecond: PlantPulse stores milliseconds,
 * so two points of one series within the same millisecond overwrite each other.
 */
export function timestampToMs(digits: string, precision: Precision): number | null {
  let ms: number;
  const drop = DIGITS_BELOW_MS[precision];
  if (drop === undefined) {
    ms = Number(digits) * MS_PER_UNIT[precision]!;
  } else if (digits.charCodeAt(0) !== 0x2d) {
    // Positive: dropping the last digits is an exact floor, without BigInt.
    ms = digits.length > drop ? Number(digits.slice(0, -drop)) : 0;
  } else {
    // Negative (before 1970, rare): floor division, exact with BigInt.
    const unit = 10n ** BigInt(drop);
    const n = BigInt(digits);
    ms = Number(n / unit - (n % unit === 0n ? 0n : 1n));
  }
  return Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}
