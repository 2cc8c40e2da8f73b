import type { Point } from './point.js';

/**
 * InfluxDB line protocol, precision ms:
 *   <measurement>[,<tag key>=<tag value>...] <field key>=<field value>[,...] <timestamp>
 *
 * Escaping, per the line protocol reference ("Special characters"):
 *   measurement: `,` and space;  tag keys, tag values, field keys: `,` `=` and space;
 *   string field values: `"` and `\`.
 * Everything is refused loudly (an Error naming the point) rather than written in a form the
 * server would reject or read differently. The cases that are refused, and why:
 * - Newlines in names: a newline ends the line and cannot be escaped there.
 * - A backslash in a name followed by `\` `,` `=` space, or at its end: servers disagree on it.
 *   InfluxDB 1.x keeps `\\` as two backslashes and answers 400 to a trailing one; VictoriaMetrics
 *   (and InfluxDB 3) read `\\` as one backslash and silently skip the line with a trailing one.
 *   Any other backslash is written as is and reads back the same everywhere (checked against
 *   influxd 1.6 and VictoriaMetrics 1.79).
 * - A measurement starting with `#`: the whole line is a comment and the server drops it silently.
 * - Tag key or field key `time` (InfluxDB answers 400 and drops the point) and tag keys
 *   `_measurement` / `_field` (reserved by InfluxDB 2.x and 3.x). One bad point would otherwise
 *   make the server refuse the whole batch, other callers' points included.
 * - Empty names, non-finite numbers, non-integer timestamps, points without fields.
 * An empty tag value is left out: InfluxDB stores no tag for it either way.
 *
 * Numbers are always floats: no `i` suffix, so a field never changes type between points.
 * They are written as `String(n)` writes them (the shortest decimal that round-trips; see
 * formatNumber), and InfluxDB reads `1`, `1e+21` and `5e-324` as floats.
 */

// Validated ids and metric names never contain these: one regex test is the common cost.
const NAME_SPECIAL = /[,= \\\n\r]/;
const NEWLINE = /[\n\r]/;
const AMBIGUOUS_BACKSLASH = /\\(?=[\\,= ]|$)/;
const MEASUREMENT_ESCAPES = /[, ]/g;
const KEY_ESCAPES = /[,= ]/g;
const STRING_ESCAPES = /["\\]/g;
const RESERVED_TAG_KEYS = new Set(['time', '_measurement', '_field']);

export class LineProtocolError extends Error {
  constructor(message: string) {
    super(`line protocol: ${message}`);
    this.name = 'LineProtocolError';
  }
}

function checkName(s: string, what: string): void {
  if (s === '') throw new LineProtocolError(`${what} is empty`);
  if (NEWLINE.test(s)) throw new LineProtocolError(`${what} ${JSON.stringify(s)} contains a newline`);
  if (AMBIGUOUS_BACKSLASH.test(s)) throw new LineProtocolError(`${what} ${JSON.stringify(s)} has a backslash before \\ , = space or at its end, which InfluxDB versions read differently`);
}

function escapeMeasurement(s: string): string {
  if (s === '' || s.charCodeAt(0) === 0x23 /* # */) throw new LineProtocolError(`measurement ${JSON.stringify(s)} is empty or starts with # (a comment line)`);
  if (!NAME_SPECIAL.test(s)) return s;
  checkName(s, 'measurement');
  return s.replace(MEASUREMENT_ESCAPES, '\\$&');
}

/** Tag keys, tag values and field keys. */
function escapeKey(s: string, what: string): string {
  if (s !== '' && !NAME_SPECIAL.test(s)) return s;
  checkName(s, what);
  return s.replace(KEY_ESCAPES, '\\$&');
}

/**
 * Where a call's text is built: `text` adds a string, `int` a non-negative safe integer's digits.
 * Two forms, both reused by every call (the calls never overlap: nothing here awaits or calls
 * out), both giving one flat string.
 */
interface TextOut {
  text(s: string): void;
  int(n: number): void;
  /** A line's series key: the same text as the line before's, most of the time. */
  series(s: string): void;
  /** `v` (< 10^count) as `count` digits, zero-padded. */
  fraction(v: number, count: number): void;
}

/**
 * The common form: bytes in one reused buffer, read out once as a latin1 string (one byte per
 * character, which V8 stores as is). Numbers are written digit by digit, so no string is made for
 * a timestamp or a reading. Text with a character beyond U+00FF does not fit a byte: `wide` is set
 * and the call is built again as pieces (ids and metric names are ASCII, so that is never telemetry).
 * Joining the pieces of a 10-sample message (about 360 of them) cost more than building them, and
 * `Array.prototype.join` copied them into a work array of its own first.
 */
class Bytes implements TextOut {
  private buf = Buffer.allocUnsafe(BYTES_KEPT);
  private n = 0;
  wide = false;
  /** Where this call last wrote a series key, and which (end 0: none yet). */
  private seriesText = '';
  private seriesStart = 0;
  private seriesEnd = 0;

  text(s: string): void {
    const len = s.length;
    if (this.n + len > this.buf.length) this.grow(len);
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) {
        this.wide = true;
        return;
      }
      buf[n++] = c;
    }
    this.n = n;
  }

  /** A key written before in this call is copied from there, in one native copy. */
  series(s: string): void {
    if (this.seriesEnd > 0 && s === this.seriesText) {
      const len = this.seriesEnd - this.seriesStart;
      if (this.n + len > this.buf.length) this.grow(len);
      this.buf.copyWithin(this.n, this.seriesStart, this.seriesEnd);
      this.n += len;
      return;
    }
    this.seriesStart = this.n;
    this.text(s);
    this.seriesText = s;
    this.seriesEnd = this.n;
  }

  int(v: number): void {
    if (this.n + 16 > this.buf.length) this.grow(16);
    if (v >= 1e9) {
      // Beyond 32-bit arithmetic: the part above 10^9, then the last nine digits zero-padded.
      const high = Math.floor(v / 1e9);
      this.int(high);
      this.digits(v - high * 1e9, 9);
    } else this.digits(v, v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : 9);
  }

  fraction(v: number, count: number): void {
    if (this.n + count > this.buf.length) this.grow(count);
    this.digits(v, count);
  }

  /** `v` (< 10^9) as exactly `count` digits, zero-padded. */
  private digits(v: number, count: number): void {
    const buf = this.buf;
    let rest = v | 0;
    for (let i = this.n + count - 1; i >= this.n; i--) {
      const q = (rest / 10) | 0;
      buf[i] = 0x30 + rest - q * 10;
      rest = q;
    }
    this.n += count;
  }

  private grow(more: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + more));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  /** Start again (also after a refused point: what was added is dropped). */
  clear(): void {
    this.n = 0;
    this.wide = false;
    this.seriesEnd = 0;
  }

  /** The text added since `clear`; a buffer grown past BYTES_KEPT by a large call is let go. */
  take(): string {
    const out = this.buf.toString('latin1', 0, this.n);
    if (this.buf.length > BYTES_KEPT) this.buf = Buffer.allocUnsafe(BYTES_KEPT);
    this.n = 0;
    return out;
  }
}
const BYTES_KEPT = 256 * 1024;

/** The other form, for text beyond U+00FF: pieces in one reused array, joined once. */
class Pieces implements TextOut {
  private readonly parts: string[] = [];
  private n = 0;

  text(s: string): void {
    this.parts[this.n++] = s;
  }

  int(v: number): void {
    this.parts[this.n++] = String(v);
  }

  series(s: string): void {
    this.parts[this.n++] = s;
  }

  fraction(v: number, count: number): void {
    this.parts[this.n++] = String(v).padStart(count, '0');
  }

  clear(): void {
    this.n = 0;
  }

  take(): string {
    this.parts.length = this.n;
    this.n = 0;
    return this.parts.join('');
  }
}
const BYTES = new Bytes();
const PIECES = new Pieces();

/**
 * Adds `String(v)`, faster for what telemetry mostly holds: integers and readings with one to
 * three decimals. If n / 10^d is exactly v (n an integer, d the fewest decimals for which it is),
 * the decimal n·10^-d reads back as v, and for |v| < 1e9 no shorter decimal can (two decimals that
 * differ by at least 10^-d cannot both be within half a unit in the last place of v, which is
 * below 10^-7 there): so it is the shortest round-trip decimal that `String` prints. One test at
 * d = 3 finds every such v (one with fewer decimals is n·10^-3 for an n ending in zeros, which are
 * dropped). A safe integer is its digits (`String(-0)` is `0`); the rest goes through `String`.
 */
function addNumber(out: TextOut, v: number): void {
  if (Number.isSafeInteger(v)) {
    if (v < 0) out.text('-');
    return out.int(v < 0 ? -v : v);
  }
  if (v > -1e9 && v < 1e9) {
    const n = Math.round(v * 1000);
    if (n / 1000 === v) {
      const abs = n < 0 ? -n : n;
      const whole = Math.floor(abs / 1000);
      const fraction = abs - whole * 1000; // not 0: v is not an integer
      if (n < 0) out.text('-');
      out.int(whole);
      out.text('.');
      if (fraction % 100 === 0) out.int(fraction / 100);
      else if (fraction % 10 === 0) out.fraction(fraction / 10, 2);
      else out.fraction(fraction, 3);
      return;
    }
  }
  out.text(String(v));
}

function addFieldValue(out: TextOut, key: string, v: number | string | boolean): void {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new LineProtocolError(`field ${JSON.stringify(key)} is not finite (${v})`);
      return addNumber(out, v);
    case 'boolean':
      return out.text(v ? 'true' : 'false');
    case 'string':
      // A newline inside a quoted string is part of the value (influxd 1.6 stores it as is).
      out.text('"');
      out.text(v.replace(STRING_ESCAPES, '\\$&'));
      return out.text('"');
    default:
      throw new LineProtocolError(`field ${JSON.stringify(key)} has unsupported type ${typeof v}`);
  }
}

/**
 * Tag keys in code-unit order, sorted in place by insertion. With one-sample messages this runs
 * once per message on three keys (`site`, `line`, `device`, never in order): `Array.prototype.sort`
 * allocated a work area of nearly 900 bytes each time, more than the rest of the line.
 * JS compares by UTF-16 code unit, Go's bytes.Compare by UTF-8 byte: they agree on the ASCII ids
 * we store. The order is what spares influxd its own sort of every line's tags (it sorts them when
 * they are not in order; load-tests/bench/influx-shapes.ts, shape `tags unsorted`); a key order
 * it would read differently costs it time, never data.
 */
function sortKeys(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

/** `measurement,k=v,...` with tags sorted by key, as InfluxDB recommends for write performance. */
function seriesKey(measurement: string, tags: Record<string, string>): string {
  let out = escapeMeasurement(measurement);
  const keys = Object.keys(tags);
  sortKeys(keys);
  for (const k of keys) {
    const v = tags[k]!;
    if (v === '') continue;
    if (RESERVED_TAG_KEYS.has(k)) throw new LineProtocolError(`tag key ${JSON.stringify(k)} is reserved`);
    out += `,${escapeKey(k, 'tag key')}=${escapeKey(v, 'tag value')}`;
  }
  return out;
}

/**
 * ` <escaped field key>=` (the first field, after the series key) and `,<escaped field key>=` (the
 * others), by field key: the same few metric names come in every line, so each is checked and
 * escaped once, not once per field of every line. Bounded: past the bound a key is escaped each
 * time, as before.
 */
interface FieldPrefix {
  first: string;
  next: string;
}
const FIELD_PREFIXES = new Map<string, FieldPrefix>();
const MAX_FIELD_PREFIXES = 4096;

/**
 * The field keys of the line before, by position, with their prefixes: a device's samples name
 * the same metrics in the same order, so a key is found by one comparison, not a look-up.
 */
const LAST_KEYS: string[] = [];
const LAST_PREFIXES: FieldPrefix[] = [];
const MAX_LAST_KEYS = 256;

function fieldPrefix(k: string): FieldPrefix {
  let prefix = FIELD_PREFIXES.get(k);
  if (prefix !== undefined) return prefix;
  const escaped = escapeKey(k, 'field key');
  prefix = { first: ` ${escaped}=`, next: `,${escaped}=` };
  if (FIELD_PREFIXES.size < MAX_FIELD_PREFIXES) FIELD_PREFIXES.set(k, prefix);
  return prefix;
}

/** Adds one point's fields and timestamp (the line after its series key). */
function addFieldsAndTime(out: TextOut, p: Point): void {
  if (!Number.isSafeInteger(p.ts)) throw new LineProtocolError(`timestamp ${p.ts} of ${p.measurement} is not an integer (epoch ms)`);
  let at = 0;
  for (const k in p.fields) {
    let prefix: FieldPrefix;
    if (LAST_KEYS[at] === k) prefix = LAST_PREFIXES[at]!;
    else {
      if (k === 'time') throw new LineProtocolError(`field key "time" is reserved (${p.measurement} at ${p.ts})`);
      prefix = fieldPrefix(k);
      if (at < MAX_LAST_KEYS) {
        LAST_KEYS[at] = k;
        LAST_PREFIXES[at] = prefix;
      }
    }
    out.text(at === 0 ? prefix.first : prefix.next);
    addFieldValue(out, k, p.fields[k]!);
    at++;
  }
  if (at === 0) throw new LineProtocolError(`point ${p.measurement} at ${p.ts} has no fields`);
  out.text(' ');
  if (p.ts < 0) out.text('-');
  out.int(p.ts < 0 ? -p.ts : p.ts);
}

export function toLineProtocol(point: Point): string {
  return pointsToLineProtocol([point]);
}

/**
 * Points joined by `\n`. Hot path: points of one batch usually share their tags object (one
 * device, many samples), so the series key is built once per run of such points.
 *
 * The result is one flat string. Built with `+=`, a line is a tree of concatenations (a V8 cons
 * string per `+`, some twenty per line). A message's text waits in the write queue until its
 * batch is written (about a second at the closed-loop maximum), so the garbage collector copied
 * each tree from young to old space piece by piece, and the batch's join walked it once more:
 * with one-sample messages, building and joining a line cost twice as much that way
 * (load-tests/bench/line-protocol-cost.ts). Held as trees, 20,000 lines in flight also took about
 * seven times their length in memory (load-tests/bench/heap-at-max.ts).
 */
export function pointsToLineProtocol(points: readonly Point[]): string {
  BYTES.clear();
  addPoints(BYTES, points);
  if (!BYTES.wide) return BYTES.take();
  BYTES.clear();
  PIECES.clear();
  addPoints(PIECES, points);
  return PIECES.take();
}

function addPoints(out: TextOut, points: readonly Point[]): void {
  let lastTags: Record<string, string> | undefined;
  let lastMeasurement = '';
  let key = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.tags !== lastTags || p.measurement !== lastMeasurement) {
      key = seriesKey(p.measurement, p.tags);
      lastTags = p.tags;
      lastMeasurement = p.measurement;
    }
    if (i > 0) out.text('\n');
    out.series(key);
    addFieldsAndTime(out, p);
  }
}
