import { HOUR_MS } from './config.js';
import { DeltaBlocks, readDeltas, varintBytes, writeVarint } from './delta-blocks.js';

/** What every window's timestamps hold together, in bytes (timestamp-budget.ts keeps it under a limit). */
export interface ByteMeter {
  used: number;
}

/** Marks the compact form toBuffer writes ("PPT1"); a blob without it holds plain offsets, as saved before it. */
const MAGIC = 0x31545050;
const HEADER = 20;

/** Offsets judged together when choosing a grid: the first sealed block's worth. */
const SAMPLE = 256;
/** A grid is taken when at least this share of those offsets lie on it… */
const ON_GRID_SHARE = 0.9;
/** …and its bitmap costs at most this many bits per offset (delta blocks cost 8–20). */
const MAX_BITS_PER_OFFSET = 8;

/**
 * The distinct sample timestamps one device delivered within one hourly window, to tell a new
 * sample from one delivered before (same `ts` again: a duplicate, whatever its `seq`). Timestamps
 * are whole milliseconds, held as offsets from the window start.
 *
 * Devices sample on a clock, so most offsets lie on a grid (phase + k × step). Once the first 256
 * offsets show one (90 % on it, at most 8 bits of bitmap per offset), on-grid offsets are bits in
 * a bitmap over the window (1 bit per slot: 0.125 bytes per sample at any rate that keeps its
 * grid, against 1–2.5 as deltas), and only the off-grid ones stay in delta blocks
 * (delta-blocks.ts), exactly. A device whose timestamps fit no grid (jitter) stays in delta
 * blocks. And a window holds at most one hour of distinct milliseconds: when its delta blocks
 * would cost more than a bitmap of every millisecond (450 KB), it becomes that bitmap (step 1),
 * so one window never holds more than about 450 KB whatever the rate. Exact in every form.
 */
export class TimeSet {
  private loose = new DeltaBlocks();
  /** The grid: 0 while none (everything in `loose`). */
  private step = 0;
  private phase = 0;
  private bits = new Uint32Array(0);
  private onGrid = 0;
  /** Whether a grid was looked for already (once, at SAMPLE offsets). */
  private looked = false;
  /** Bytes this set last reported to its meter, and `loose.resized` then. */
  private counted = 0;
  private resized = -1;
  private meter: ByteMeter | null = null;
  /** Offsets covered by a bitmap: the window's length (timestamps beyond it stay in `loose`). */
  private readonly span: number;

  constructor(
    readonly windowStart: number,
    meter: ByteMeter | null = null,
    spanMs = HOUR_MS,
  ) {
    this.span = spanMs;
    if (meter) this.attach(meter);
  }

  get size(): number {
    return this.onGrid + this.loose.size;
  }

  /** Bytes held for the offsets (the arrays' capacity, block index included), for memory accounting. */
  get bytes(): number {
    return this.loose.bytes + this.bits.byteLength;
  }

  /** Add `ts` (inside the window); false when it was already there. */
  add(ts: number): boolean {
    const off = ts - this.windowStart;
    if (off < 0 || off > 0xffffffff || !Number.isInteger(off)) throw new RangeError(`ts ${ts} is outside the window starting ${this.windowStart}`);
    if (this.step !== 0) {
      const k = off - this.phase;
      if (k >= 0 && off < this.span && k % this.step === 0) return this.setBit(k / this.step);
    }
    const loose = this.loose;
    if (!loose.add(off)) return false;
    // Every 256 offsets in delta blocks: is a bitmap cheaper now?
    if ((loose.size & (SAMPLE - 1)) === 0) this.review();
    else if (loose.resized !== this.resized && this.meter !== null) this.report();
    return true;
  }

  has(ts: number): boolean {
    const off = ts - this.windowStart;
    if (this.step !== 0) {
      const k = off - this.phase;
      if (k >= 0 && off < this.span && k % this.step === 0) {
        const idx = k / this.step;
        const w = idx >>> 5;
        return w < this.bits.length && (this.bits[w]! & (1 << (idx & 31))) !== 0;
      }
    }
    return this.loose.has(off);
  }

  /** Count this set's bytes in `meter` from now on (and no longer in the one before). */
  attach(meter: ByteMeter): void {
    if (this.meter === meter) return;
    this.release();
    this.meter = meter;
    this.counted = this.bytes;
    this.resized = this.loose.resized;
    meter.used += this.counted;
  }

  /** Count this set's bytes in `meter` afresh, whatever it counted before: the meter's total is being recounted from zero. */
  countIn(meter: ByteMeter): void {
    this.meter = meter;
    this.counted = this.bytes;
    this.resized = this.loose.resized;
    meter.used += this.counted;
  }

  /** The set is let go: its bytes no longer count. */
  release(): void {
    if (this.meter !== null) this.meter.used -= this.counted;
    this.meter = null;
    this.counted = 0;
  }

  /**
   * The set as SQLite and a hand-over hold it, as compact as in memory: "PPT1", the grid (step,
   * phase), the bitmap's length in 32-bit words and the number of other offsets (little-endian
   * words), the bitmap, then the other offsets as LEB128 deltas from 0.
   */
  toBuffer(): Buffer {
    const loose = this.loose.values();
    let size = HEADER + this.bits.byteLength;
    let prev = 0;
    for (const v of loose) {
      size += varintBytes(v - prev);
      prev = v;
    }
    const out = Buffer.allocUnsafe(size);
    out.writeUInt32LE(MAGIC, 0);
    out.writeUInt32LE(this.step, 4);
    out.writeUInt32LE(this.phase, 8);
    out.writeUInt32LE(this.bits.length, 12);
    out.writeUInt32LE(loose.length, 16);
    let p = HEADER;
    for (const word of this.bits) p = out.writeUInt32LE(word, p);
    prev = 0;
    for (const v of loose) {
      p = writeVarint(out, p, v - prev);
      prev = v;
    }
    return out;
  }

  /** A set toBuffer wrote, or the plain sorted offsets (32-bit words, native byte order) saved before that form. */
  static fromBuffer(windowStart: number, buf: Buffer, meter: ByteMeter | null = null, spanMs = HOUR_MS): TimeSet {
    const set = new TimeSet(windowStart, null, spanMs);
    if (buf.length >= HEADER && buf.readUInt32LE(0) === MAGIC) {
      set.step = buf.readUInt32LE(4);
      set.phase = buf.readUInt32LE(8);
      const words = buf.readUInt32LE(12);
      const loose = buf.readUInt32LE(16);
      if (HEADER + 4 * words > buf.length) throw new RangeError('timestamps truncated');
      if ((set.step === 0 && words > 0) || words > Math.ceil(spanMs / 32)) throw new RangeError('timestamps damaged: their bitmap does not fit their grid');
      set.bits = new Uint32Array(words);
      for (let w = 0; w < words; w++) {
        const word = buf.readUInt32LE(HEADER + 4 * w);
        set.bits[w] = word;
        set.onGrid += popcount(word);
      }
      set.loose = new DeltaBlocks(readDeltas(buf, HEADER + 4 * words, loose));
      set.looked = set.step !== 0 || loose >= SAMPLE;
    } else {
      const copy = new Uint8Array(buf); // aligned copy
      for (const off of new Uint32Array(copy.buffer, 0, Math.floor(copy.length / 4))) set.add(windowStart + off);
    }
    if (meter) set.attach(meter);
    return set;
  }

  /** Every offset, sorted: the bitmap's merged with the delta blocks'. */
  values(): Uint32Array {
    const loose = this.loose.values();
    if (this.step === 0) return loose;
    const out = new Uint32Array(this.size);
    let k = 0;
    let j = 0;
    for (let w = 0; w < this.bits.length; w++) {
      let word = this.bits[w]!;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        word &= word - 1;
        const off = this.phase + (w * 32 + bit) * this.step;
        while (j < loose.length && loose[j]! < off) out[k++] = loose[j++]!;
        out[k++] = off;
      }
    }
    while (j < loose.length) out[k++] = loose[j++]!;
    return out;
  }

  private setBit(idx: number): boolean {
    const w = idx >>> 5;
    if (w >= this.bits.length) this.growBits(w);
    const m = 1 << (idx & 31);
    if ((this.bits[w]! & m) !== 0) return false;
    this.bits[w]! |= m;
    this.onGrid++;
    return true;
  }

  /** Room up to word `w`, by half again (the whole window's words at most). */
  private growBits(w: number): void {
    const most = Math.ceil((this.span - this.phase) / this.step / 32);
    const grown = new Uint32Array(Math.min(most, Math.max(w + 1, Math.ceil(this.bits.length * 1.5), 8)));
    grown.set(this.bits);
    this.bits = grown;
    if (this.meter !== null) this.report();
  }

  /**
   * At every 256 offsets in delta blocks: the first time, look for a grid in them; and when the
   * delta blocks cost more than a bitmap of every millisecond of the window, become that bitmap.
   */
  private review(): void {
    if (!this.looked) {
      this.looked = true;
      const grid = gridOf(this.loose.values(), this.span);
      if (grid) this.regrid(grid.step, grid.phase);
    }
    if (this.step !== 1 && this.loose.bytes > this.span / 8) this.regrid(1, 0);
    if (this.meter !== null) this.report();
  }

  /** Hold the offsets on the grid `step`, `phase` as bits, the others in delta blocks. */
  private regrid(step: number, phase: number): void {
    const all = this.values();
    this.step = step;
    this.phase = phase;
    this.bits = new Uint32Array(0);
    this.onGrid = 0;
    const loose: number[] = [];
    for (const off of all) {
      const k = off - phase;
      if (k >= 0 && off < this.span && k % step === 0) this.setBit(k / step);
      else loose.push(off);
    }
    this.loose = new DeltaBlocks(loose);
  }

  private report(): void {
    this.resized = this.loose.resized;
    const b = this.bytes;
    if (b === this.counted) return;
    this.meter!.used += b - this.counted;
    this.counted = b;
  }
}

/**
 * The grid sorted offsets keep, if a bitmap on it is worth it: the commonest spacing between
 * neighbours as the step, the phase of the offsets spaced so; null when under 90 % of the offsets
 * lie on it, or when its bitmap would cost more than 8 bits per offset (sparse samples on a fine
 * grid: delta blocks are cheaper).
 */
function gridOf(offsets: Uint32Array, span: number): { step: number; phase: number } | null {
  const counts = new Map<number, number>();
  let step = 0;
  let best = 0;
  let phase = 0;
  for (let i = 1; i < offsets.length; i++) {
    const d = offsets[i]! - offsets[i - 1]!;
    const c = (counts.get(d) ?? 0) + 1;
    counts.set(d, c);
    if (c > best) {
      best = c;
      step = d;
      phase = offsets[i]! % d;
    }
  }
  if (step === 0) return null;
  let on = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const off of offsets) {
    if (off >= span || (off - phase) % step !== 0) continue;
    on++;
    lo = Math.min(lo, off);
    hi = Math.max(hi, off);
  }
  if (on < ON_GRID_SHARE * offsets.length) return null;
  const slots = (hi - lo) / step + 1;
  return slots <= MAX_BITS_PER_OFFSET * on ? { step, phase } : null;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
