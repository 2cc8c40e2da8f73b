/**
 * Range checks on decimal digit strings, so that 64-bit limits are exact without BigInt on the
 * hot path (a JS number cannot tell 9223372036854775807 from 9223372036854775808).
 */

/** `digits` (no sign, at least one digit) ≤ `limit` (no sign, no leading zeros). */
export function digitsAtMost(digits: string, limit: string): boolean {
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 0x30) start++;
  const n = digits.length - start;
  if (n !== limit.length) return n < limit.length;
  return digits.slice(start) <= limit;
}

export const INT64_MAX = '9223372036854775807';
/** Magnitude of the most negative int64. */
export const INT64_MIN_MAGNITUDE = '9223372036854775808';
export const UINT64_MAX = '18446744073709551615';
/** The line protocol reference's timestamp range is ±9223372036854775806. */
export const TIMESTAMP_MAX_MAGNITUDE = '9223372036854775806';

/** A signed decimal (`-?\d+`) within [-`negativeMax`, `positiveMax`]. */
export function signedWithin(text: string, positiveMax: string, negativeMax: string): boolean {
  return text.charCodeAt(0) === 0x2d ? digitsAtMost(text.slice(1), negativeMax) : digitsAtMost(text, positiveMax);
}
