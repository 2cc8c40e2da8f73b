import type { Counter } from 'prom-client';

/** One label value's count since the last drain. */
interface Cell {
  n: number;
}

/**
 * Counts by the value of one label, kept as plain numbers and added to their prom-client counter
 * when it is read (a scrape of /metrics, or `get()`: the counter's `collect` drains the tally).
 * Every message and every stored sample is counted, and prom-client's `inc` with labels hashes
 * and validates the label object each time, several % of the thread with one-sample messages,
 * where one addition to a number will do until someone looks.
 *
 * Each value's count is a cell that stays in the map (drained to zero, not deleted), and the cell
 * added to last is kept at hand: nearly every call counts the same value as the one before (one
 * source, the `next` message), which then costs a comparison rather than a map lookup and store.
 */
export class Tally<V extends string> {
  private readonly counts = new Map<V, Cell>();
  private lastValue: V | null = null;
  private lastCell: Cell = { n: 0 };

  constructor(private readonly label: string) {}

  add(value: V, by = 1): void {
    if (value !== this.lastValue) {
      let cell = this.counts.get(value);
      if (cell === undefined) this.counts.set(value, (cell = { n: 0 }));
      this.lastValue = value;
      this.lastCell = cell;
    }
    this.lastCell.n += by;
  }

  /** Hand what was counted since the last call to `counter`, and start again. */
  drainInto(counter: Counter<string>): void {
    for (const [value, cell] of this.counts) {
      if (cell.n === 0) continue;
      counter.inc({ [this.label]: value }, cell.n);
      cell.n = 0;
    }
  }
}
