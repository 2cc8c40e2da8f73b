/**
 * An alert as the evaluator sees it: which source raised it (a rule, or a baseline's column) and
 * the rows it spans. Rows, not times, because NAB scores rows and some files' times go backwards.
 * `openRow` is the row whose arrival opened it; the alert alarms rows openRow … closeRow − 1
 * (the row that cleared it is normal again). An alert still open at the end alarms the last row.
 */
export interface Alert {
  source: string;
  openRow: number;
  closeRow: number;
}

/**
 * Turns a stream of raise/clear decisions per source into alerts: the first raise opens, a clear
 * closes, repeats while open change nothing.
 */
export class AlertTracker {
  private readonly open = new Map<string, number>();
  readonly alerts: Alert[] = [];

  raise(source: string, row: number): void {
    if (!this.open.has(source)) this.open.set(source, row);
  }

  clear(source: string, row: number): void {
    const openRow = this.open.get(source);
    if (openRow === undefined) return;
    this.alerts.push({ source, openRow, closeRow: row });
    this.open.delete(source);
  }

  /** Closes what is still open after the last of `rows` rows; returns every alert in opening order. */
  finish(rows: number): Alert[] {
    for (const [source, openRow] of this.open) this.alerts.push({ source, openRow, closeRow: rows });
    this.open.clear();
    return this.alerts.sort((a, b) => a.openRow - b.openRow || a.source.localeCompare(b.source));
  }
}
