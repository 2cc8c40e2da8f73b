/** Bounds concurrent work (here: unacknowledged publishes), so memory never grows with load. */
export class Semaphore {
  private waiters: (() => void)[] = [];
  private used = 0;
  constructor(private readonly max: number) {}
  get inUse(): number {
    return this.used;
  }
  async acquire(): Promise<void> {
    if (this.used < this.max) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next(); // hand the slot over directly
    else this.used--;
  }
}
