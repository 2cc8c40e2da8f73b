import type { Cursor } from './cursor.js';
import type { LinePart } from './parsed-point.js';

/**
 * Measurement names, tag keys, tag values and field keys: unquoted text where a backslash escapes
 * the characters that would otherwise end the token. Per the line protocol reference ("Special
 * characters"):
 *   measurement: `\,` and `\ `;  tag keys, tag values, field keys: `\,` `\=` and `\ `.
 * "Escaping backslashes": two contiguous backslashes read as one (`\\` → `\`); a backslash before
 * any other character is kept as a literal backslash (`a\b` stays `a\b`).
 * Quotes are ordinary characters here (the reference: "interprets them as part of the name").
 * Control characters are refused: the reference parser refuses them, and no id or metric name
 * could contain one.
 */
export interface NameRules {
  part: LinePart;
  /** 0: ordinary, 1: ends the token (unescaped), 2: control character (error), 3: line end. */
  classes: Uint8Array;
  /** 1 where `\x` unescapes to `x`. */
  escapable: Uint8Array;
}

const ORDINARY = 0;
const CONTROL = 2;

function rules(part: LinePart, ends: string, escapes: string): NameRules {
  const classes = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) classes[c] = CONTROL;
  classes[0x7f] = CONTROL;
  classes[0x0a] = 3;
  classes[0x0d] = 3;
  for (const ch of ends) classes[ch.charCodeAt(0)] = 1;
  const escapable = new Uint8Array(128);
  for (const ch of escapes) escapable[ch.charCodeAt(0)] = 1;
  return { part, classes, escapable };
}

export const MEASUREMENT = rules('measurement', ', ', ', \\');
export const TAG_KEY = rules('tag key', ',= ', ',= \\');
// An unescaped `=` ends a tag value so that the caller can reject it by name.
export const TAG_VALUE = rules('tag value', ',= ', ',= \\');
export const FIELD_KEY = rules('field key', ',= ', ',= \\');

/**
 * Reads one name at `cur.pos` and leaves `cur.pos` on the character that ended it (or at the end
 * of the input). Returns the unescaped name ('' when the token is empty), or null on a control
 * character.
 */
export function readName(cur: Cursor, r: NameRules): string | null {
  const text = cur.text;
  const { classes, escapable } = r;
  let i = cur.pos;
  let segment = i;
  let out = '';
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) continue;
    if (c === 0x5c /* \ */) {
      const next = text.charCodeAt(i + 1);
      if (next < 128 && escapable[next] === 1) {
        out += text.slice(segment, i) + text[i + 1];
        i++;
        segment = i + 1;
      }
      continue;
    }
    const k = classes[c];
    if (k === ORDINARY) continue;
    if (k === CONTROL) return cur.fail(r.part, `${cur.describe(i)} is not allowed in a ${r.part}`, i);
    break;
  }
  cur.pos = i;
  return out + text.slice(segment, i);
}
