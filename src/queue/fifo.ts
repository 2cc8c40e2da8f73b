/**
 * A first-in first-out queue on one array whose head moves, for the queues that hold messages
 * until they are durable (the MQTT window's acknowledgements, the batch writer's accepted writes).
 *
 * Why not `Array.prototype.shift`: an array of more than about 16,000 elements (128 KiB) lives in
 * V8's large-object space, where `shift()` moves every element left, so a queue of one-sample
 * messages tens of thousands long cost time quadratic in its length
 * (load-tests/bench/batch-writer-cost.ts). Here a taken slot is cleared (not kept alive by the
 * queue) and the array is cut once the taken part is most of it: each item is copied at most once
 * more, amortised.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in the queue; undefined when it is empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Take the oldest item; undefined when the queue is empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
