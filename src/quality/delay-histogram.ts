/**
 * Upload delays (arrival − sample time) of many samples, as counts per delay value, with delays
 * kept to 3 significant figures (1234 ms → 1230 ms; below 1 s: whole milliseconds).
 *
 * Why not the raw list: a day of 1-s samples is 86,400 delays per device. Counts per rounded
 * value stay small (a few hundred distinct values in practice, at most ~900 per decade), can be
 * merged across devices, lines, sites and gateways, and can be saved and restored after a restart.
 * The price is at most 0.5 % on a percentile, far below what anyone acts on.
 *
 * Percentiles are nearest-rank: p95 is the smallest kept delay such that at least 95 % of the
 * samples are at or below it (the ⌈0.95·n⌉-th smallest). Always a delay that occurred.
 */
export function quantiseDelay(ms: number): number {
  const abs = Math.abs(ms);
  if (abs < 1000) return Math.round(ms);
  // The decades of every delay a platform sees, by comparison: two of these per stored sample,
  // and log10 with a power cost twice as much. The same factors as the general case below
  // (log10 of a power of ten is exact).
  if (abs < 10_000) return Math.round(ms / 10) * 10;
  if (abs < 100_000) return Math.round(ms / 100) * 100;
  if (abs < 1_000_000) return Math.round(ms / 1000) * 1000;
  const factor = 10 ** (Math.floor(Math.log10(abs)) - 2);
  return Math.round(ms / factor) * factor;
}

export class DelayHistogram {
  private readonly counts = new Map<number, number>();
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(delayMs: number, times = 1): void {
    const v = quantiseDelay(delayMs);
    this.counts.set(v, (this.counts.get(v) ?? 0) + times);
    this.n += times;
  }

  merge(other: DelayHistogram): void {
    for (const [v, c] of other.counts) this.add(v, c);
  }

  /** Nearest-rank percentile (0 < p ≤ 1); null when empty. */
  percentile(p: number): number | null {
    if (this.n === 0) return null;
    // The epsilon keeps float noise (p·n a hair above a whole number) from skipping a rank.
    const rank = Math.max(1, Math.ceil(p * this.n - 1e-9));
    let seen = 0;
    for (const v of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(v)!;
      if (seen >= rank) return v;
    }
    return null; // unreachable: seen reaches n
  }

  /** `[[delayMs, count], ...]`, for SQLite. */
  toJSON(): [number, number][] {
    return [...this.counts.entries()];
  }

  static fromJSON(entries: readonly (readonly [number, number])[]): DelayHistogram {
    const h = new DelayHistogram();
    for (const [v, c] of entries) h.add(v, c);
    return h;
  }
}
