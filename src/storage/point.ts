/** One InfluxDB point, in the platform's internal form. Timestamps are epoch milliseconds. */
export interface Point {
  measurement: string;
  /** Tag values come only from validated ids (bounded cardinality: docs/architecture.md, "The contract"). */
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  ts: number;
}
