import type { Counter } from 'prom-client';

/**
 * Counts by the value of one label, kept as plain numbers and added to their prom-client counter
 * when it is read (a scrape of /metrics, or `get()`: the counter's `collect` drains the tally).
 * Every message and every stored sample is counted, and prom-client's `inc` with labels hashes
 * and validates the label object each time, several % of the thread with one-sample messages,
 * where one addition to a number will do until someone looks.
 */
export class Tally<V extends string> {
  private readonly counts = new Map<V, number>();

  constructor(private readonly label: string) {}

  add(value: V, by = 1): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + by);
  }

  /** Hand what was counted since the last call to `counter`, and start again. */
  drainInto(counter: Counter<string>): void {
    for (const [value, n] of this.counts) counter.inc({ [this.label]: value }, n);
    this.counts.clear();
  }
}
