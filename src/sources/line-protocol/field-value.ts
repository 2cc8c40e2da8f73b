import type { Cursor } from './cursor.js';
import { INT64_MAX, INT64_MIN_MAGNITUDE, UINT64_MAX, digitsAtMost, signedWithin } from './int-range.js';
import type { ParsedField } from './parsed-point.js';

/**
 * Field values, per the line protocol reference ("Data types and format"):
 * - float: IEEE-754 64-bit, decimal with optional exponent (`1`, `-1.5`, `.5`, `1e+78`); the
 *   default type. NaN and infinities cannot be written, and `1e999` is out of range.
 * - integer: signed 64-bit with a trailing `i` (`-9223372036854775808i` … `9223372036854775807i`).
 * - unsigned: 64-bit with a trailing `u` (`0u` … `18446744073709551615u`).
 * - string: double-quoted; `\"` and `\\` are the escapes, any other backslash is literal. A newline
 *   inside the quotes belongs to the value (InfluxDB's parsers read it so; the reference page says
 *   newlines are unsupported in values, so the line count simply continues inside the string).
 * - boolean: `t T true True TRUE` / `f F false False FALSE`, never quoted.
 * Numbers become JS numbers: integers beyond 2^53 are rounded to the nearest double, which is
 * also how PlantPulse stores every metric.
 */
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DIGITS = /^\d+$/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);

/** Index of the end of an unquoted value: the next `,`, space, line end, or the end of input. */
function valueEnd(text: string, i: number): number {
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d) break;
  }
  return i;
}

/** Reads the value at `cur.pos` of the field `key` (whose key starts at `column`). */
export function readField(cur: Cursor, key: string, column: number): ParsedField | null {
  const c = cur.text.charCodeAt(cur.pos);
  if (c === 0x22 /* " */) return readString(cur, key, column);
  if (c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46 /* t T f F */) return readBoolean(cur, key, column);
  if (c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39) /* - . 0-9 */) return readNumber(cur, key, column);
  if (c === 0x27 /* ' */) return cur.fail('field value', `field ${JSON.stringify(key)}: string values must be in double quotes, not single quotes`);
  const end = valueEnd(cur.text, cur.pos);
  if (end === cur.pos) return cur.fail('field value', `field ${JSON.stringify(key)} has no value (found ${cur.describe()})`);
  return cur.fail('field value', `field ${JSON.stringify(key)} has value ${JSON.stringify(cur.text.slice(cur.pos, end).slice(0, 40))} of no known type: expected a number (1.5, 2i, 3u), a boolean (true, f, ...) or a string in double quotes`);
}

function badNumber(cur: Cursor, key: string, token: string, why: string, at: number): null {
  return cur.fail('field value', `field ${JSON.stringify(key)} value ${JSON.stringify(token.slice(0, 40))} ${why}`, at);
}

function readNumber(cur: Cursor, key: string, column: number): ParsedField | null {
  const start = cur.pos;
  const end = valueEnd(cur.text, start);
  const token = cur.text.slice(start, end);
  const last = token.charCodeAt(token.length - 1);
  if (last === 0x69 /* i */) {
    const digits = token.slice(0, -1);
    if (!DIGITS.test(digits.charCodeAt(0) === 0x2d ? digits.slice(1) : digits)) return badNumber(cur, key, token, 'is not an integer (digits with a trailing i)', start);
    if (!signedWithin(digits, INT64_MAX, INT64_MIN_MAGNITUDE)) return badNumber(cur, key, token, 'is out of the signed 64-bit integer range', start);
    cur.pos = end;
    return { key, column, type: 'integer', value: Number(digits) };
  }
  if (last === 0x75 /* u */) {
    const digits = token.slice(0, -1);
    if (!DIGITS.test(digits)) return badNumber(cur, key, token, 'is not an unsigned integer (digits with a trailing u)', start);
    if (!digitsAtMost(digits, UINT64_MAX)) return badNumber(cur, key, token, 'is out of the unsigned 64-bit integer range', start);
    cur.pos = end;
    return { key, column, type: 'unsigned', value: Number(digits) };
  }
  if (!FLOAT.test(token)) return badNumber(cur, key, token, 'is not a number (a float like -1.5e3, an integer like 2i, or an unsigned like 3u)', start);
  const value = Number(token);
  if (!Number.isFinite(value)) return badNumber(cur, key, token, 'is out of the 64-bit float range', start);
  cur.pos = end;
  return { key, column, type: 'float', value };
}

function readBoolean(cur: Cursor, key: string, column: number): ParsedField | null {
  const end = valueEnd(cur.text, cur.pos);
  const token = cur.text.slice(cur.pos, end);
  const value = TRUE.has(token) ? true : FALSE.has(token) ? false : null;
  if (value === null) return cur.fail('field value', `field ${JSON.stringify(key)} value ${JSON.stringify(token.slice(0, 40))} is not a boolean (t, T, true, True, TRUE, f, F, false, False, FALSE) and strings need double quotes`);
  cur.pos = end;
  return { key, column, type: 'boolean', value };
}

function readString(cur: Cursor, key: string, column: number): ParsedField | null {
  const text = cur.text;
  const open = cur.pos;
  const openLine = cur.line;
  const openLineStart = cur.lineStart;
  let segment = open + 1;
  let out = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x22 || next === 0x5c) {
        out += text.slice(segment, i) + text[i + 1];
        i++;
        segment = i + 1;
      }
    } else if (c === 0x22) {
      cur.pos = i + 1;
      return { key, column, type: 'string', value: out + text.slice(segment, i) };
    } else if (c === 0x0a) {
      cur.newlineAt(i);
    }
  }
  // Unterminated: report it where it opened and resume on the next line, so one stray quote
  // costs its own line rather than the rest of the body.
  cur.line = openLine;
  cur.lineStart = openLineStart;
  cur.pos = open;
  return cur.fail('field value', 'string value has no closing double quote', open);
}
