/**
 * Bounds concurrent work (here: publishes waiting for their PUBACK), so memory never grows with
 * load. FIFO, with a priority lane (status messages go before queued telemetry). The limit can
 * change at run time (the broker's MQTT 5 Receive Maximum arrives with every CONNACK).
 */
export class Semaphore {
  private readonly waiters: (() => void)[] = [];
  private readonly onAvailable: (() => void)[] = [];
  private readonly onIdle: (() => void)[] = [];
  private used = 0;

  constructor(private max: number) {
    Semaphore.check(max);
  }

  private static check(max: number): void {
    if (!Number.isInteger(max) || max < 1) throw new Error(`semaphore limit must be an integer ≥ 1, got ${max}`);
  }

  get limit(): number {
    return this.max;
  }
  get inUse(): number {
    return this.used;
  }
  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  setLimit(max: number): void {
    Semaphore.check(max);
    this.max = max;
    this.drain();
  }

  /** Take a slot; waits while all are in use. The slot is taken synchronously when one is free. */
  acquire(priority = false): Promise<void> {
    if (this.used < this.max && this.waiters.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (priority ? this.waiters.unshift(resolve) : this.waiters.push(resolve)));
  }

  release(): void {
    if (this.used === 0) throw new Error('semaphore released more often than acquired');
    this.used--;
    this.drain();
  }

  /** Resolves when an `acquire()` would not wait. */
  whenAvailable(): Promise<void> {
    if (this.available()) return Promise.resolve();
    return new Promise<void>((resolve) => this.onAvailable.push(resolve));
  }

  /** Resolves when nothing is in use and nobody waits. */
  whenIdle(): Promise<void> {
    if (this.used === 0 && this.waiters.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.onIdle.push(resolve));
  }

  private available(): boolean {
    return this.used < this.max && this.waiters.length === 0;
  }

  private drain(): void {
    while (this.used < this.max && this.waiters.length > 0) {
      this.used++;
      this.waiters.shift()!();
    }
    if (this.available()) for (const resolve of this.onAvailable.splice(0)) resolve();
    if (this.used === 0 && this.waiters.length === 0) for (const resolve of this.onIdle.splice(0)) resolve();
  }
}
