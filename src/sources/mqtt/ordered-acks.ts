/**
 * PUBACKs sent in the order the PUBLISHes arrived, each only once its message is durable.
 *
 * MQTT requires QoS 1 acknowledgements in receive order ([MQTT-4.6.0-2]); our messages become
 * durable out of order (a rejected message is dead-lettered faster than a valid one is written),
 * so each entry waits until every earlier one is ready too. Entries belong to one connection:
 * after a reconnect the broker redelivers whatever we had not acknowledged, so `reset` drops
 * the old ones (their data may be written twice: writes are idempotent).
 */
export interface AckEntry {
  /** Undefined for QoS 0: nothing to acknowledge, but it holds memory until processed, so it counts. */
  readonly messageId: number | undefined;
  readonly generation: number;
  /** Payload bytes the message holds until it is released (the byte window, ack-window.ts). */
  readonly bytes: number;
  ready: boolean;
}

export class OrderedAcks {
  private queue: AckEntry[] = [];
  private head = 0;
  private generation = 0;

  constructor(private readonly sendAck: (messageId: number) => void) {}

  /** Messages received and not yet acknowledged. */
  get size(): number {
    return this.queue.length - this.head;
  }

  add(messageId: number | undefined, bytes = 0): AckEntry {
    const entry: AckEntry = { messageId, generation: this.generation, bytes, ready: false };
    this.queue.push(entry);
    return entry;
  }

  /**
   * The entry's message is durable: ack it and every ready entry after it, in order. False when
   * the entry was ready already or belongs to a dead connection (nothing of this one changed).
   */
  markReady(entry: AckEntry): boolean {
    if (entry.generation !== this.generation || entry.ready) return false; // a dead connection's, or twice
    entry.ready = true;
    while (this.head < this.queue.length && this.queue[this.head]!.ready) {
      const id = this.queue[this.head]!.messageId;
      if (id !== undefined) this.sendAck(id);
      this.head++;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /** The connection was lost: forget pending acks (the broker will redeliver). */
  reset(): void {
    this.generation++;
    this.queue = [];
    this.head = 0;
  }

  /** Resolves when nothing is pending (or `timeoutMs` passes); used by graceful shutdown. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.size === 0;
  }
}
