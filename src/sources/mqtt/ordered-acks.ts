import { Fifo } from '../../queue/fifo.js';

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
  private readonly queue = new Fifo<AckEntry>();
  private generation = 0;

  constructor(private readonly sendAck: (messageId: number) => void) {}

  /** Messages received and not yet acknowledged. */
  get size(): number {
    return this.queue.size;
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
    for (let first = this.queue.peek(); first?.ready; first = this.queue.peek()) {
      this.queue.shift();
      if (first.messageId !== undefined) this.sendAck(first.messageId);
    }
    return true;
  }

  /** The connection was lost: forget pending acks (the broker will redeliver). */
  reset(): void {
    this.generation++;
    this.queue.clear();
  }

  /** Resolves when nothing is pending (or `timeoutMs` passes); used by graceful shutdown. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.size === 0;
  }
}
