/**
 * A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF inside quotes), to read back
 * what the platform exported. `rest` is what followed the last CRLF ('' when every line ended with one).
 */
export function readCsv(text: string): { rows: string[][]; rest: string } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return { rows, rest: field };
}
