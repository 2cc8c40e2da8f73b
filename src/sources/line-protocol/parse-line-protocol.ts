import { Cursor } from './cursor.js';
import { readField } from './field-value.js';
import { FIELD_KEY, MEASUREMENT, TAG_KEY, TAG_VALUE, readName } from './name-token.js';
import type { LineSyntaxError, ParsedField, ParsedPoint } from './parsed-point.js';
import { readTimestamp } from './timestamp.js';

export interface ParseResult {
  points: ParsedPoint[];
  /** One per bad entry, in body order; each costs only its own line. */
  errors: LineSyntaxError[];
  /** Entries seen (points + errors); blank lines and comments are not entries. */
  entries: number;
}

/**
 * Strict InfluxDB line protocol (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
 *   <measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] [<timestamp>]
 * Lines end with `\n` or `\r\n`. A `#` that starts a line makes it a comment; blank lines are
 * skipped. Like InfluxDB's reference parser (influxdata/line-protocol), runs of spaces between the
 * sections and before a line are accepted, and a bad line is reported and skipped while the lines
 * around it are still read.
 */
export function parseLineProtocol(text: string): ParseResult {
  const cur = new Cursor(text);
  const points: ParsedPoint[] = [];
  const errors: LineSyntaxError[] = [];
  let entries = 0;
  while (cur.pos < text.length) {
    cur.skipSpaces();
    const c = text.charCodeAt(cur.pos);
    if (Number.isNaN(c)) break;
    if (c === 0x23 /* # */) {
      cur.skipToNextLine(); // "Comments": ignored up to the next newline
      continue;
    }
    if (cur.takeLineEnd()) continue; // blank line
    entries++;
    const point = readEntry(cur);
    if (point) {
      points.push(point);
    } else {
      errors.push(cur.error!);
      cur.error = null;
      cur.skipToNextLine();
    }
  }
  return { points, errors, entries };
}

function readEntry(cur: Cursor): ParsedPoint | null {
  const text = cur.text;
  const line = cur.line;
  const start = cur.pos;
  const measurement = readName(cur, MEASUREMENT);
  if (measurement === null) return null;
  if (measurement === '') return cur.fail('measurement', `expected a measurement name, found ${cur.describe()}`);
  // "Naming restrictions": the `_` namespace is reserved for InfluxDB.
  if (measurement.charCodeAt(0) === 0x5f) return cur.fail('measurement', `measurement ${JSON.stringify(measurement)} begins with "_", which is reserved`, start);

  const tags: ParsedPoint['tags'] = [];
  while (text.charCodeAt(cur.pos) === 0x2c /* , */) {
    cur.pos++;
    const keyAt = cur.pos;
    const key = readName(cur, TAG_KEY);
    if (key === null) return null;
    if (key === '') return cur.fail('tag key', `expected a tag key after ",", found ${cur.describe()}`);
    if (key.charCodeAt(0) === 0x5f) return cur.fail('tag key', `tag key ${JSON.stringify(key)} begins with "_", which is reserved`, keyAt);
    if (text.charCodeAt(cur.pos) !== 0x3d /* = */) return cur.fail('tag key', `tag key ${JSON.stringify(key)} must be followed by "=" and a value, found ${cur.describe()}`);
    cur.pos++;
    const value = readName(cur, TAG_VALUE);
    if (value === null) return null;
    if (value === '') return cur.fail('tag value', `tag ${JSON.stringify(key)} has no value (leave an empty tag out)`);
    if (text.charCodeAt(cur.pos) === 0x3d) return cur.fail('tag value', `tag ${JSON.stringify(key)}: an "=" in a tag value must be escaped as \\=`);
    if (hasKey(tags, key)) return cur.fail('tag key', `tag key ${JSON.stringify(key)} appears twice`, keyAt);
    tags.push({ key, value });
  }
  // "Whitespace": the first unescaped space separates the measurement and tags from the fields.
  if (text.charCodeAt(cur.pos) !== 0x20) return cur.fail('line', `expected a space and the field set, found ${cur.describe()} (a line needs at least one field)`);
  cur.skipSpaces();

  const fields: ParsedField[] = [];
  for (;;) {
    const keyAt = cur.pos;
    const column = cur.column();
    const key = readName(cur, FIELD_KEY);
    if (key === null) return null;
    if (key === '') return cur.fail('field key', `expected a field key, found ${cur.describe()}${fields.length === 0 ? ' (a line needs at least one field)' : ''}`);
    if (key.charCodeAt(0) === 0x5f) return cur.fail('field key', `field key ${JSON.stringify(key)} begins with "_", which is reserved`, keyAt);
    if (text.charCodeAt(cur.pos) !== 0x3d) return cur.fail('field key', `field key ${JSON.stringify(key)} must be followed by "=" and a value, found ${cur.describe()}`);
    cur.pos++;
    const field = readField(cur, key, column);
    if (field === null) return null;
    if (hasKey(fields, key)) return cur.fail('field key', `field key ${JSON.stringify(key)} appears twice`, keyAt);
    fields.push(field);
    if (text.charCodeAt(cur.pos) !== 0x2c) break;
    cur.pos++;
  }

  if (cur.takeLineEnd()) return { line, measurement, tags, fields, timestamp: null };
  const last = fields[fields.length - 1]!.key;
  if (text.charCodeAt(cur.pos) !== 0x20) return cur.fail('field value', `found ${cur.describe()} after the value of field ${JSON.stringify(last)}; expected ",", a space or the end of the line`);
  cur.skipSpaces();
  if (cur.takeLineEnd()) return { line, measurement, tags, fields, timestamp: null };
  const timestamp = readTimestamp(cur);
  if (timestamp === null) return null;
  cur.skipSpaces();
  if (!cur.takeLineEnd()) return cur.fail('timestamp', `found ${cur.describe()} after the timestamp; expected the end of the line`);
  return { line, measurement, tags, fields, timestamp };
}

/** A plain loop: this runs for every tag and field of every line. */
function hasKey(items: readonly { key: string }[], key: string): boolean {
  for (let i = 0; i < items.length; i++) if (items[i]!.key === key) return true;
  return false;
}
