/**
 * A device's sampling interval, learned from the spacing of its samples: the median of the last
 * 32 spacings between consecutive samples (within one message, or across messages whose seqs
 * are consecutive, so a lost message or an outage never counts as one long interval). The
 * median shrugs off the odd late reading or jittered timestamp; after a real change of the
 * gateway's sampling rate it follows within 16 samples.
 */
const KEEP = 32;

export class IntervalLearner {
  private readonly spacings: number[];
  /** The median, until the next spacing (a flush asks every device for it once per hour it rolls up). */
  private median: number | null | undefined;

  constructor(initial: readonly number[] = []) {
    this.spacings = initial.slice(-KEEP);
  }

  add(spacingMs: number): void {
    if (!(spacingMs > 0)) return;
    this.spacings.push(spacingMs);
    if (this.spacings.length > KEEP) this.spacings.shift();
    this.median = undefined;
  }

  /** The lower median of the spacings kept (a spacing that occurred); null before any. */
  get intervalMs(): number | null {
    if (this.median !== undefined) return this.median;
    if (this.spacings.length === 0) return (this.median = null);
    const sorted = [...this.spacings].sort((a, b) => a - b);
    return (this.median = sorted[Math.floor((sorted.length - 1) / 2)]!);
  }

  /** The spacings kept, live (the device state holds this array: see DeviceTracker). */
  get spacingsArray(): number[] {
    return this.spacings;
  }

  toJSON(): number[] {
    return [...this.spacings];
  }
}
