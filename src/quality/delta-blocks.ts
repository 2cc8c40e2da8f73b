/**
 * A sorted set of millisecond offsets (from a window's start) kept as blocks of up to 256: the
 * newest block plain (a Uint32Array, where in-order arrivals, the normal case, append), older ones
 * sealed as the first offset and LEB128 deltas in one shared byte array. Offsets 10 ms to 16 s
 * apart cost 1–2 bytes each that way, against 4 as plain offsets (and up to 8 with the room a
 * doubling array keeps). A late offset into a sealed block rewrites that block (at most a few
 * hundred bytes, plus moving the blocks after it). TimeSet (time-set.ts) holds its timestamps
 * here when they fit no grid, and its off-grid ones when they do.
 */
const BLOCK = 256;

export class DeltaBlocks {
  /** Sealed blocks: first offset, start in `data`, number of offsets. */
  private readonly firsts: number[] = [];
  private readonly starts: number[] = [];
  private readonly counts: number[] = [];
  private data = new Uint8Array(0);
  private dataLen = 0;
  /** The largest sealed offset; -1 while nothing is sealed. Offsets above it live in `tail`. */
  private sealedLast = -1;
  private tail = new Uint32Array(16);
  private tailN = 0;
  private n = 0;
  /** Changes each time `bytes` may have changed (an array grown, a block added): a cheap test per offset for the owner's accounting. */
  resized = 0;

  constructor(initial?: ArrayLike<number>) {
    if (initial) for (let i = 0; i < initial.length; i++) this.add(initial[i]!);
  }

  get size(): number {
    return this.n;
  }

  /** Bytes held for the offsets (the arrays' capacity, block index included), for memory accounting. */
  get bytes(): number {
    return this.data.byteLength + this.tail.byteLength + this.firsts.length * 3 * 8;
  }

  has(off: number): boolean {
    if (off > this.sealedLast) {
      const at = this.tailBound(off);
      return at < this.tailN && this.tail[at] === off;
    }
    const b = this.blockOf(off);
    let v = this.firsts[b]!;
    let p = this.starts[b]!;
    for (let i = 1; i < this.counts[b]! && v < off; i++) {
      v += readVarint(this.data, p);
      p = varintEnd;
    }
    return v === off;
  }

  /** The offsets, sorted. */
  values(): Uint32Array {
    const out = new Uint32Array(this.n);
    let k = 0;
    for (let b = 0; b < this.firsts.length; b++) {
      for (const v of this.decode(b)) out[k++] = v;
    }
    out.set(this.tail.subarray(0, this.tailN), k);
    return out;
  }

  /** Add an offset (an integer from 0 to 2^32 − 1); false when it was already there. */
  add(off: number): boolean {
    if (off <= this.sealedLast) return this.addSealed(off);
    const at = this.tailBound(off);
    if (at < this.tailN && this.tail[at] === off) return false;
    if (this.tailN === this.tail.length) {
      const grown = new Uint32Array(Math.min(BLOCK, this.tail.length * 2));
      grown.set(this.tail);
      this.tail = grown;
      this.resized++;
    }
    if (at < this.tailN) this.tail.copyWithin(at + 1, at, this.tailN);
    this.tail[at] = off;
    this.tailN++;
    this.n++;
    if (this.tailN === BLOCK) this.seal();
    return true;
  }

  /**
   * A late offset, at or below the sealed blocks' last: into the block it belongs in. The block's
   * deltas are read up to where it goes and the one delta it falls inside is written again as two
   * (or a new first offset's delta put in front): the same bytes as the block encoded afresh, with
   * no array of its offsets made. Samples of a device arrive late this way whenever stored writes
   * complete out of order (two writes in flight), a few % of the thread with 10-sample messages
   * when each one decoded, grew and encoded its block whole.
   */
  private addSealed(off: number): boolean {
    const b = this.blockOf(off);
    if (this.counts[b]! >= 2 * BLOCK) return this.addSplitting(b, off);
    const first = this.firsts[b]!;
    if (off === first) return false;
    const start = this.starts[b]!;
    if (off < first) {
      // Only the first block holds offsets below its first: the new first, its delta in front.
      this.replace(b, start, 0, first - off, -1);
      this.firsts[b] = off;
    } else {
      let prev = first;
      let p = start;
      const count = this.counts[b]!;
      for (let i = 1; i < count; i++) {
        const next = prev + readVarint(this.data, p);
        if (next === off) return false;
        if (next > off) {
          // Inside the delta prev → next at p: it becomes prev → off → next.
          this.replace(b, p, varintEnd - p, off - prev, next - off);
          return this.added(b);
        }
        prev = next;
        p = varintEnd;
      }
      this.replace(b, p, 0, off - prev, -1); // after the block's last offset: at its end
    }
    return this.added(b);
  }

  private added(b: number): true {
    this.counts[b]!++;
    this.n++;
    return true;
  }

  /** In block `b`, the `oldBytes` bytes at `at` become the varints `d1` and `d2` (-1: none); the blocks after move by the difference. */
  private replace(b: number, at: number, oldBytes: number, d1: number, d2: number): void {
    const newBytes = varintBytes(d1) + (d2 >= 0 ? varintBytes(d2) : 0);
    const delta = newBytes - oldBytes;
    this.reserve(delta);
    this.data.copyWithin(at + newBytes, at + oldBytes, this.dataLen);
    const p = writeVarint(this.data, at, d1);
    if (d2 >= 0) writeVarint(this.data, p, d2);
    this.dataLen += delta;
    for (let j = b + 1; j < this.starts.length; j++) this.starts[j]! += delta;
  }

  /** A late offset into a block that late offsets grew to twice the size: the block is decoded, grown and split in two. */
  private addSplitting(b: number, off: number): boolean {
    const values = this.decode(b);
    const lo = lowerBound(values, values.length, off);
    if (values[lo] === off) return false;
    values.splice(lo, 0, off);
    // A block that late offsets grew to twice the size is split: every late offset decodes its
    // whole block, which must not grow with the window (a backlog replayed out of order).
    const parts = values.length > 2 * BLOCK ? [values.slice(0, BLOCK), values.slice(BLOCK)] : [values];
    const encoded = parts.map(encodeDeltas);
    const start = this.starts[b]!;
    const end = b + 1 < this.starts.length ? this.starts[b + 1]! : this.dataLen;
    let size = 0;
    for (const e of encoded) size += e.length;
    const delta = size - (end - start);
    this.reserve(delta);
    this.data.copyWithin(start + size, end, this.dataLen);
    let p = start;
    for (const e of encoded) {
      this.data.set(e, p);
      p += e.length;
    }
    this.dataLen += delta;
    for (let j = b + 1; j < this.starts.length; j++) this.starts[j]! += delta;
    if (parts.length === 1) {
      this.firsts[b] = values[0]!;
      this.counts[b]!++;
    } else {
      this.firsts.splice(b, 1, parts[0]![0]!, parts[1]![0]!);
      this.resized++;
      this.starts.splice(b, 1, start, start + encoded[0]!.length);
      this.counts.splice(b, 1, parts[0]!.length, parts[1]!.length);
    }
    this.n++;
    return true;
  }

  /** The plain block is full: append it to the sealed ones. */
  private seal(): void {
    const tail = this.tail;
    const n = this.tailN;
    let size = 0;
    for (let i = 1; i < n; i++) size += varintBytes(tail[i]! - tail[i - 1]!);
    this.reserve(size);
    this.firsts.push(tail[0]!);
    this.resized++;
    this.starts.push(this.dataLen);
    this.counts.push(n);
    const data = this.data;
    let p = this.dataLen;
    for (let i = 1; i < n; i++) {
      let d = tail[i]! - tail[i - 1]!;
      while (d >= 0x80) {
        data[p++] = (d & 0x7f) | 0x80;
        d = Math.floor(d / 128);
      }
      data[p++] = d;
    }
    this.dataLen = p;
    this.sealedLast = tail[n - 1]!;
    this.tailN = 0;
  }

  /** Room for `extra` more bytes; grows by half, so the spare room stays under a third. */
  private reserve(extra: number): void {
    const need = this.dataLen + extra;
    if (need <= this.data.length) return;
    const grown = new Uint8Array(Math.max(need, Math.ceil(this.data.length * 1.5), 64));
    grown.set(this.data.subarray(0, this.dataLen));
    this.data = grown;
    this.resized++;
  }

  /** The sealed block `off` belongs in: the last one starting at or below it (the first, below all). */
  private blockOf(off: number): number {
    return Math.max(0, lowerBound(this.firsts, this.firsts.length, off + 1) - 1);
  }

  private decode(b: number): number[] {
    const values = [this.firsts[b]!];
    let v = values[0]!;
    let p = this.starts[b]!;
    for (let i = 1; i < this.counts[b]!; i++) {
      v += readVarint(this.data, p);
      p = varintEnd;
      values.push(v);
    }
    return values;
  }

  /** Where `off` is or would go in the plain block. */
  private tailBound(off: number): number {
    // Fast path: appending after the last offset.
    if (this.tailN === 0 || this.tail[this.tailN - 1]! < off) return this.tailN;
    return lowerBound(this.tail, this.tailN, off);
  }
}

/** The first index below `n` whose value is not below `x` (`n` when none): `values` is sorted. */
function lowerBound(values: ArrayLike<number>, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted distinct offsets → LEB128 deltas from the first (the first itself is kept apart). */
function encodeDeltas(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(5 * Math.max(0, values.length - 1));
  let p = 0;
  for (let i = 1; i < values.length; i++) {
    let d = values[i]! - values[i - 1]!;
    while (d >= 0x80) {
      out[p++] = (d & 0x7f) | 0x80;
      d = Math.floor(d / 128);
    }
    out[p++] = d;
  }
  return out.subarray(0, p);
}

/** Bytes `d` takes as a LEB128 varint. */
export function varintBytes(d: number): number {
  return d < 0x80 ? 1 : d < 0x4000 ? 2 : d < 0x200000 ? 3 : d < 0x10000000 ? 4 : 5;
}

/** Write `d` as a LEB128 varint at `p` of `out`; where it ends. */
export function writeVarint(out: Uint8Array, p: number, d: number): number {
  while (d >= 0x80) {
    out[p++] = (d & 0x7f) | 0x80;
    d = Math.floor(d / 128);
  }
  out[p++] = d;
  return p;
}

/** `count` LEB128 deltas from `at`, summed from 0: the sorted values writeVarint wrote as differences. */
export function readDeltas(data: Uint8Array, at: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  let v = 0;
  let p = at;
  for (let i = 0; i < count; i++) {
    // Read here with a bound (readVarint has none: it reads this module's own arrays).
    let d = 0;
    let scale = 1;
    for (;;) {
      if (p >= data.length) throw new RangeError('timestamps truncated');
      const byte = data[p++]!;
      d += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    v += d;
    out[i] = v;
  }
  return out;
}

/** Where the varint readVarint read last ended (a module variable: no object per value read). */
let varintEnd = 0;

function readVarint(data: Uint8Array, at: number): number {
  let value = 0;
  let scale = 1;
  let p = at;
  for (;;) {
    const byte = data[p++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = p;
      return value;
    }
    scale *= 128;
  }
}
