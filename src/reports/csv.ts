/**
 * CSV as RFC 4180 says (header row, CRLF line ends, a field holding `,` `"` CR or LF in double
 * quotes with its quotes doubled), safe to open in a spreadsheet:
 *
 * - **Formula injection.** A text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage
 *   return would be read by Excel / LibreOffice as a formula (`=HYPERLINK(...)`, `-2+3+cmd|...`):
 *   it gets a leading `'`, which spreadsheets show as text and hide. Alert notes, names and
 *   messages are text someone typed, so this matters. Numbers the platform computed are written
 *   as numbers (a negative value stays the number -5, which no spreadsheet runs as a formula).
 * - **Chinese in Excel.** Excel reads a CSV without a byte order mark in the system code page
 *   (GBK on Chinese Windows), garbling UTF-8: `bom: true` puts U+FEFF first (the zh reports do).
 */
export type CsvValue = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Decimal places kept for numbers: 1 Wh of a kWh, 1 g of a kgce; keeps 0.30000000000000004 out. */
const DECIMALS = 6;

/** A text value with a leading `'` when a spreadsheet would take it for a formula. */
export function neutralizeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  const rounded = Number(n.toFixed(DECIMALS));
  // -0 would print as "0" anyway; Number(...) drops trailing zeros ("1.500000" → 1.5).
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** One field: numbers as numbers, null/undefined empty, text neutralized then quoted if it must be. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = neutralizeFormula(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole CSV document: header, rows, each line ended by CRLF (the last one too). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[], opts: { bom?: boolean } = {}): string {
  const lines = [header.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))];
  return `${opts.bom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}
