/**
 * What the line protocol parser produces: the syntax of one entry, before any PlantPulse meaning
 * (ids, metric names, milliseconds) is given to it. Names are unescaped; numbers are parsed and
 * range-checked as InfluxDB would; the timestamp stays as its digits because its unit depends on
 * the request's `precision`.
 */
export type FieldValue =
  | { type: 'float' | 'integer' | 'unsigned'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string };

export type ParsedField = FieldValue & {
  key: string;
  /** 1-based column of the field key on its line (for rejections that name one field). */
  column: number;
};

export interface ParsedPoint {
  /** 1-based number of the line the entry starts on. */
  line: number;
  measurement: string;
  /** In the order written; keys are unique (a repeated key is a syntax error). */
  tags: { key: string; value: string }[];
  /** At least one; keys are unique. */
  fields: ParsedField[];
  /** Decimal digits (optionally `-`), within the int64 range; null when the line has none. */
  timestamp: string | null;
}

/** The part of a line a rejection is about. */
export type LinePart = 'line' | 'measurement' | 'tag key' | 'tag value' | 'field key' | 'field value' | 'timestamp';

export interface LineSyntaxError {
  /** 1-based line of the offending character. */
  line: number;
  /** 1-based column (UTF-16 code units, i.e. characters for most text) of the offending character. */
  column: number;
  part: LinePart;
  reason: string;
}
