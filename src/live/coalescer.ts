/**
 * Per-key rate limit that coalesces instead of queueing: at most one delivery per key every
 * `intervalMs`; what arrives in between replaces (or merges into) the one pending value, which is
 * delivered as soon as the interval has passed. Memory is one pending value per key, however
 * fast updates come, and the latest value is never lost: it is always the one delivered.
 *
 * One timer per coalescer (per client), set for the earliest pending key.
 */
export class Coalescer<T> {
  private readonly lastSent = new Map<string, number>();
  private readonly pending = new Map<string, T>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly deliver: (key: string, value: T) => void,
    private readonly merge: (older: T, newer: T) => T = (_older, newer) => newer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Deliver now if the key's interval has passed, else hold (merged with what is held). Returns false when it was merged into a held value. */
  offer(key: string, value: T): boolean {
    if (this.closed) return false;
    const held = this.pending.get(key);
    if (held !== undefined) {
      this.pending.set(key, this.merge(held, value));
      return false;
    }
    const t = this.now();
    const last = this.lastSent.get(key);
    if (last === undefined || t - last >= this.intervalMs) {
      this.lastSent.set(key, t);
      this.deliver(key, value);
      return true;
    }
    this.pending.set(key, value);
    this.schedule(last + this.intervalMs);
    return true;
  }

  /** Forget a held value (e.g. an alert `updated` overtaken by its `resolved`). */
  cancel(key: string): void {
    this.pending.delete(key);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Drop send times older than the interval: they no longer hold anything back (bounds the map by keys active recently). */
  prune(): void {
    const t = this.now();
    for (const [key, last] of this.lastSent) if (t - last >= this.intervalMs && !this.pending.has(key)) this.lastSent.delete(key);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
    this.lastSent.clear();
  }

  private schedule(due: number): void {
    if (this.closed) return;
    if (this.timer && due >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.flush(), Math.max(0, due - this.now()));
    this.timer.unref();
  }

  private flush(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const t = this.now();
    let next = Infinity;
    for (const [key, value] of this.pending) {
      const due = (this.lastSent.get(key) ?? 0) + this.intervalMs;
      if (due <= t) {
        this.pending.delete(key);
        this.lastSent.set(key, t);
        this.deliver(key, value);
      } else next = Math.min(next, due);
    }
    if (next < Infinity) this.schedule(next);
  }
}
