/**
 * The distinct sample timestamps one device delivered within one hourly window, to tell a new
 * sample from one delivered before (same `ts` again: a duplicate, whatever its `seq`).
 *
 * Stored as sorted millisecond offsets from the window start in a Uint32Array: 4 bytes per
 * sample (a `Set<number>` of epoch milliseconds costs ~10 times that), and in-order arrivals
 * (the normal case) append without moving anything.
 */
export class TimeSet {
  private offsets: Uint32Array;
  private n = 0;

  constructor(
    readonly windowStart: number,
    initial?: Uint32Array,
  ) {
    this.offsets = initial ? Uint32Array.from(initial) : new Uint32Array(16);
    this.n = initial ? initial.length : 0;
  }

  get size(): number {
    return this.n;
  }

  /** Add `ts` (inside the window); false when it was already there. */
  add(ts: number): boolean {
    const off = ts - this.windowStart;
    if (off < 0 || off > 0xffffffff || !Number.isInteger(off)) throw new RangeError(`ts ${ts} is outside the window starting ${this.windowStart}`);
    const at = this.lowerBound(off);
    if (at < this.n && this.offsets[at] === off) return false;
    if (this.n === this.offsets.length) {
      const grown = new Uint32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    if (at < this.n) this.offsets.copyWithin(at + 1, at, this.n);
    this.offsets[at] = off;
    this.n++;
    return true;
  }

  has(ts: number): boolean {
    const off = ts - this.windowStart;
    const at = this.lowerBound(off);
    return at < this.n && this.offsets[at] === off;
  }

  /** A copy of the offsets in use, for SQLite. */
  toBuffer(): Buffer {
    return Buffer.from(this.offsets.buffer.slice(0, this.n * 4));
  }

  static fromBuffer(windowStart: number, buf: Buffer): TimeSet {
    const copy = new Uint8Array(buf); // aligned copy
    return new TimeSet(windowStart, new Uint32Array(copy.buffer, 0, Math.floor(copy.length / 4)));
  }

  private lowerBound(off: number): number {
    // Fast path: appending after the last offset.
    if (this.n === 0 || this.offsets[this.n - 1]! < off) return this.n;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! < off) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
