import type { ErrorCode } from '../../contract/index.js';
import type { LinePart } from './parsed-point.js';

/**
 * One problem in a line protocol body, precisely: which line (1-based), where on it, which part,
 * and why, with a stable code (docs/errors.md). `field` names the field when only that field was
 * dropped and the rest of the line may have been stored.
 */
export interface LineRejection {
  code: ErrorCode;
  line: number;
  column?: number;
  part: LinePart;
  field?: string;
  reason: string;
}

export function byLine(a: LineRejection, b: LineRejection): number {
  return a.line - b.line || (a.column ?? 0) - (b.column ?? 0);
}
