/**
 * Counts failed authentications per key (a client address, a presented token id) in fixed
 * windows; once a key has failed `maxFailures` times in a window it is blocked until the window
 * ends. What a block refuses is the caller's business: access-control.ts refuses only failing
 * credentials, never a valid token.
 *
 * Memory is bounded: past `maxEntries`, expired entries and then the oldest windows are dropped.
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

  /** Seconds until `key` may try again, or 0 when it is not blocked. */
  blockedFor(key: string): number {
    const e = this.entries.get(key);
    const now = this.clock();
    if (!e || e.resetAt <= now || e.failures < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((e.resetAt - now) / 1000));
  }

  fail(key: string): void {
    const now = this.clock();
    const e = this.entries.get(key);
    if (e && e.resetAt > now) {
      e.failures++;
      return;
    }
    this.entries.delete(key);
    this.entries.set(key, { failures: 1, resetAt: now + this.opts.windowMs });
    if (this.entries.size > this.maxEntries) this.prune(now);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    // Map iteration follows insertion order, and a renewed window is deleted and added again, so
    // the first keys are the oldest windows: expired ones, then the oldest live ones past the cap.
    // Stopping at the first key to keep makes a flood of failures cost O(1) each, not a full scan.
    for (const [k, e] of this.entries) {
      if (e.resetAt > now && this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}
