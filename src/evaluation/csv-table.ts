import { readFileSync } from 'node:fs';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../contract/payload.js';
import { EvaluationInputError } from './errors.js';
import { parseTimestamp } from './timestamps.js';

/**
 * One data file: `timestamp,<column>,...`, one row per time, rows in file order (NAB scores rows,
 * so rows that go back in time stay where they are; the replay drops them as live data would be).
 * An empty cell is a reading that is missing at that time, not a zero; so are the words data tools
 * write for one (`NaN`, `NA`, `N/A`, `null`, `None`, any case). The delimiter is the header's: a
 * comma, else a semicolon or a tab (spreadsheets in many locales export `;`). A field may be
 * quoted, with `""` for a quote inside it.
 */
export interface CsvTable {
  path: string;
  columns: string[];
  timestamps: number[];
  /** Per column, per row; NaN where the cell was empty. */
  values: Float64Array[];
}

export function readCsvTable(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EvaluationInputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  // A byte-order mark (spreadsheet exports) is not part of the first column's name.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const delimiter = delimiterOf(lines[0] ?? '');
  const header = splitRow(lines[0] ?? '', delimiter);
  if (header[0]?.toLowerCase() !== 'timestamp' || header.length < 2) {
    throw new EvaluationInputError(`${path}:1: expected a header "timestamp,<column>,...", got ${JSON.stringify(lines[0] ?? '')}`);
  }
  const columns = header.slice(1);
  columns.forEach((c, i) => {
    if (c === '') throw new EvaluationInputError(`${path}:1: column ${i + 2} has no name`);
    if (columns.indexOf(c) !== i) throw new EvaluationInputError(`${path}:1: column ${JSON.stringify(c)} appears twice`);
  });
  const body = lines.slice(1);
  while (body.length > 0 && body.at(-1)!.trim() === '') body.pop();
  const timestamps: number[] = new Array<number>(body.length);
  const values = columns.map(() => new Float64Array(body.length));
  body.forEach((line, r) => {
    const where = `${path}:${r + 2}`;
    const cells = splitRow(line, delimiter);
    if (cells.length !== header.length) throw new EvaluationInputError(`${where}: expected ${header.length} fields, got ${cells.length}`);
    const ts = parseTimestamp(cells[0]!);
    if (ts === null) throw new EvaluationInputError(`${where}: unreadable timestamp ${JSON.stringify(cells[0])} (expected YYYY-MM-DD HH:MM:SS or ISO 8601)`);
    if (ts < MIN_TIMESTAMP_MS || ts > MAX_TIMESTAMP_MS) throw new EvaluationInputError(`${where}: timestamp ${cells[0]} outside 2000–2100, which the platform rejects`);
    timestamps[r] = ts;
    for (let c = 0; c < columns.length; c++) {
      const cell = cells[c + 1]!;
      const missing = cell === '' || MISSING.has(cell.toLowerCase());
      const v = missing ? NaN : Number(cell);
      if (!missing && !Number.isFinite(v)) throw new EvaluationInputError(`${where}: ${columns[c]} ${JSON.stringify(cell)} is not a number`);
      values[c]![r] = v;
    }
  });
  if (body.length === 0) throw new EvaluationInputError(`${path}: no data rows`);
  return { path, columns, timestamps, values };
}

/** Cells that say a reading is missing (compared lower-cased). */
const MISSING = new Set(['nan', 'na', 'n/a', 'null', 'none']);

/** The header's delimiter: a comma when it has one, else a semicolon or a tab. */
function delimiterOf(header: string): string {
  if (header.includes(',')) return ',';
  if (header.includes(';')) return ';';
  if (header.includes('\t')) return '\t';
  return ',';
}

/**
 * Fields of a row; surrounding spaces are not part of a value, and a field in double quotes may hold
 * the delimiter and `""` for a quote.
 */
function splitRow(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter).map((f) => f.trim());
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === delimiter) {
      fields.push(field.trim());
      field = '';
    } else field += ch;
  }
  fields.push(field.trim());
  return fields;
}
