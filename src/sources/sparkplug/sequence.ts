/**
 * Sparkplug `seq`: 0–255 per edge node, one more on every message after NBIRTH (NDEATH, the
 * pre-registered will, has none), wrapping 255 → 0. Brokers may deliver out of order (clusters,
 * bridges), so a message that skips ahead is held for the Reorder Timeout in case the missing ones
 * turn up; if they do not, the gap is real (the caller then asks for a rebirth) and the held
 * messages are released in order. Pure: no timers here, the caller owns them.
 */
export const SEQ_MODULO = 256;
/** Ahead by less than this: a gap; by more: a late or repeated message (half the ring). */
const AHEAD_WINDOW = SEQ_MODULO / 2;
/** Most messages held while waiting; beyond this the wait is given up at once. */
export const MAX_HELD = 64;

export type Offer<T> =
  /** In order: process `ready` (this item, then any held items it unblocked) now. */
  | { kind: 'in-order'; ready: T[]; gapClosed: boolean }
  /** Ahead of a missing seq: held; `gapOpened` when this is the first held item. */
  | { kind: 'held'; gapOpened: boolean; overflow: boolean }
  /** Behind the expected seq (late after a gap was given up, or a repeat): process it alone. */
  | { kind: 'late'; ready: T[] };

export class ReorderBuffer<T> {
  private readonly held = new Map<number, T>();

  constructor(private expectedSeq: number) {}

  get expected(): number {
    return this.expectedSeq;
  }

  get heldCount(): number {
    return this.held.size;
  }

  offer(seq: number, item: T): Offer<T> {
    const ahead = (seq - this.expectedSeq + SEQ_MODULO) % SEQ_MODULO;
    if (ahead === 0) {
      const ready = [item];
      this.expectedSeq = (this.expectedSeq + 1) % SEQ_MODULO;
      const hadHeld = this.held.size > 0;
      for (let next = this.held.get(this.expectedSeq); next !== undefined; next = this.held.get(this.expectedSeq)) {
        ready.push(next);
        this.held.delete(this.expectedSeq);
        this.expectedSeq = (this.expectedSeq + 1) % SEQ_MODULO;
      }
      return { kind: 'in-order', ready, gapClosed: hadHeld && this.held.size === 0 };
    }
    if (ahead < AHEAD_WINDOW && !this.held.has(seq)) {
      const gapOpened = this.held.size === 0;
      this.held.set(seq, item);
      return { kind: 'held', gapOpened, overflow: this.held.size > MAX_HELD };
    }
    return { kind: 'late', ready: [item] };
  }

  /**
   * The wait is over (Reorder Timeout, or overflow): the missing messages are lost. Returns the
   * held items in seq order and continues after the last of them.
   */
  giveUp(): { ready: T[]; missing: number } {
    const order = [...this.held.keys()].sort((a, b) => this.distance(a) - this.distance(b));
    if (order.length === 0) return { ready: [], missing: 0 };
    const last = order[order.length - 1]!;
    const missing = this.distance(last) + 1 - order.length;
    const ready = order.map((s) => this.held.get(s)!);
    this.held.clear();
    this.expectedSeq = (last + 1) % SEQ_MODULO;
    return { ready, missing };
  }

  /** Items still held (on a new birth or a death, so nothing waits forever). */
  drain(): T[] {
    const ready = [...this.held.keys()].sort((a, b) => this.distance(a) - this.distance(b)).map((s) => this.held.get(s)!);
    this.held.clear();
    return ready;
  }

  private distance(seq: number): number {
    return (seq - this.expectedSeq + SEQ_MODULO) % SEQ_MODULO;
  }
}
