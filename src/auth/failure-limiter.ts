/**
 * Counts failed authentications per client address in fixed windows. Once an address has
 * failed `maxFailures` times in a window, every authenticated request from it is refused (429)
 * until the window ends, valid tokens included: answering valid ones normally would let a
 * guesser keep testing at full speed (200 = hit, 429 = miss). Requests without any credentials
 * do not count; they are not guesses (a dashboard opened before its token was set).
 *
 * Memory is bounded: expired entries are dropped when the map grows, and past `maxEntries` the
 * oldest go first.
 */
export interface FailureLimiterOptions {
  maxFailures: number;
  windowMs: number;
  maxEntries?: number;
}

interface Entry {
  failures: number;
  resetAt: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(
    private readonly opts: FailureLimiterOptions,
    private readonly clock: () => number = Date.now,
  ) {
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Seconds until `address` may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number {
    const e = this.entries.get(address);
    const now = this.clock();
    if (!e || e.resetAt <= now || e.failures < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((e.resetAt - now) / 1000));
  }

  fail(address: string): void {
    const now = this.clock();
    const e = this.entries.get(address);
    if (e && e.resetAt > now) {
      e.failures++;
      return;
    }
    this.entries.delete(address);
    this.entries.set(address, { failures: 1, resetAt: now + this.opts.windowMs });
    if (this.entries.size > this.maxEntries) this.prune(now);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.resetAt <= now) this.entries.delete(k);
    // Map iteration follows insertion order: the first keys are the oldest windows.
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}
