import type { LinePart, LineSyntaxError } from './parsed-point.js';

/**
 * Read position in a line protocol body, with the line bookkeeping that rejections need. Parsing
 * functions advance `pos`; on a syntax error they call `fail` (which records the first error and
 * returns null) and the entry loop skips to the next line.
 */
export class Cursor {
  pos = 0;
  /** 1-based number of the line `pos` is on. */
  line = 1;
  /** Index of the first character of that line (for columns). */
  lineStart = 0;
  error: LineSyntaxError | null = null;

  constructor(readonly text: string) {}

  column(at = this.pos): number {
    return at - this.lineStart + 1;
  }

  fail(part: LinePart, reason: string, at = this.pos): null {
    this.error ??= { line: this.line, column: this.column(at), part, reason };
    return null;
  }

  /** A newline at index `at` was consumed (inside a string value, or at the end of an entry). */
  newlineAt(at: number): void {
    this.line++;
    this.lineStart = at + 1;
  }

  skipSpaces(): void {
    while (this.text.charCodeAt(this.pos) === 0x20) this.pos++;
  }

  /**
   * At the end of an entry: end of input, `\n` or `\r\n` (consumed). A carriage return without a
   * newline is not a line end unless it ends the input (as in the reference parser).
   */
  takeLineEnd(): boolean {
    const c = this.text.charCodeAt(this.pos);
    if (Number.isNaN(c)) return true;
    if (c === 0x0a) {
      this.newlineAt(this.pos++);
      return true;
    }
    if (c === 0x0d) {
      const next = this.text.charCodeAt(this.pos + 1);
      if (next === 0x0a) {
        this.pos += 2;
        this.newlineAt(this.pos - 1);
        return true;
      }
      if (Number.isNaN(next)) {
        this.pos++; // a CR that ends the input ends the line (as in the reference parser)
        return true;
      }
    }
    return false;
  }

  /** Error recovery: continue after the next newline. */
  skipToNextLine(): void {
    const nl = this.text.indexOf('\n', this.pos);
    if (nl < 0) {
      this.pos = this.text.length;
      return;
    }
    this.pos = nl + 1;
    this.newlineAt(nl);
  }

  /** The character at `at`, named for an error message. */
  describe(at = this.pos): string {
    const cp = this.text.codePointAt(at);
    if (cp === undefined) return 'the end of the input';
    if (cp === 0x20) return 'a space';
    if (cp === 0x0a) return 'the end of the line';
    if (cp === 0x0d) return this.text.charCodeAt(at + 1) === 0x0a || at + 1 === this.text.length ? 'the end of the line' : 'a carriage return without a newline';
    if (cp < 0x20 || cp === 0x7f) return `control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    return JSON.stringify(String.fromCodePoint(cp));
  }
}
