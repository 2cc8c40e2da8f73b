import { readFile, rename, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Spool, SpoolFullError, type SpoolRecord } from '../../src/storage/spool.js';

/** What the gateway queues: one MQTT message, ready to publish. */
export interface QueuedMessage {
  topic: string;
  payload: string;
  samples: number;
}

export interface QueueStats {
  records: number;
  bytes: number;
  oldestAgeSeconds: number;
  droppedMessages: number;
  droppedSamples: number;
}

/**
 * The gateway's store-and-forward queue: every message is fsynced here before it is published,
 * and removed only after the broker's PUBACK. Built on the platform's spool (same record format,
 * CRC and fsync policy). Bounded: when full, the OLDEST messages are dropped, counted and
 * reported, so a gateway offline for too long keeps the most recent data.
 *
 * Per-device `seq` numbers are kept in `seq.json`, written (atomically, fsynced) before the
 * message is queued: a crash between the two leaves a gap in seq, never a reused number.
 */
export class DiskQueue {
  private seq: Record<string, number> = {};
  private dropped = { messages: 0, samples: 0 };
  private waiters: (() => void)[] = [];
  private closed = false;
  /** The message the forwarder is publishing now, and whether a full queue evicted it meanwhile. */
  private inflight: SpoolRecord | null = null;
  private inflightEvicted = false;

  private constructor(
    private readonly spool: Spool,
    private readonly dir: string,
    private readonly log?: Logger,
  ) {}

  static async open(dir: string, maxBytes: number, log?: Logger): Promise<DiskQueue> {
    const spool = await Spool.open({ dir, maxBytes, segmentBytes: Math.min(4 * 1024 * 1024, Math.max(4096, Math.floor(maxBytes / 8))), logger: log });
    const q = new DiskQueue(spool, dir, log);
    try {
      q.seq = JSON.parse(await readFile(join(dir, 'seq.json'), 'utf8')) as Record<string, number>;
    } catch {
      q.seq = {};
    }
    return q;
  }

  /** Reserve the next seq for a device, durably. */
  async nextSeq(deviceKey: string): Promise<number> {
    const seq = this.seq[deviceKey] ?? 0;
    this.seq[deviceKey] = seq + 1;
    const tmp = join(this.dir, 'seq.json.tmp');
    await writeFile(tmp, JSON.stringify(this.seq));
    const fh = await open(tmp, 'r');
    await fh.sync().finally(() => fh.close());
    await rename(tmp, join(this.dir, 'seq.json'));
    return seq;
  }

  async enqueue(msg: QueuedMessage): Promise<void> {
    const body = JSON.stringify({ t: msg.topic, p: msg.payload });
    for (;;) {
      try {
        await this.spool.append(body, msg.samples);
        break;
      } catch (err) {
        if (!(err instanceof SpoolFullError) || !this.spool.pending) throw err;
        // Full: drop the oldest message to make room (counted, reported on the status topic).
        const oldest = await this.spool.peek();
        if (!oldest) throw err;
        await this.spool.commit(oldest);
        if (oldest === this.inflight) {
          // Being published right now: it may still arrive. It counts as dropped only if it does not.
          this.inflightEvicted = true;
          continue;
        }
        this.dropped.messages++;
        this.dropped.samples += oldest.lines;
        if (this.dropped.messages === 1 || this.dropped.messages % 100 === 0) this.log?.warn({ dropped: this.dropped }, 'queue full: dropping the oldest messages');
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** The oldest message, waiting until there is one; null once the queue is closed. */
  async head(): Promise<{ msg: QueuedMessage; record: SpoolRecord } | null> {
    for (;;) {
      if (this.closed) return null;
      const record = await this.spool.peek();
      if (record) {
        this.inflight = record;
        this.inflightEvicted = false;
        const { t, p } = JSON.parse(record.body) as { t: string; p: string };
        return { msg: { topic: t, payload: p, samples: record.lines }, record };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The broker acknowledged it: remove it (unless it was dropped meanwhile). */
  async done(record: SpoolRecord): Promise<void> {
    if (!(record === this.inflight && this.inflightEvicted)) await this.spool.commit(record);
    this.inflight = null;
    this.inflightEvicted = false;
  }

  /** Wake anyone waiting in head() (used on stop). */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  stats(): QueueStats {
    const s = this.spool.stats();
    return { records: s.records, bytes: s.bytes, oldestAgeSeconds: s.oldestAt ? Math.round((Date.now() - s.oldestAt) / 1000) : 0, droppedMessages: this.dropped.messages, droppedSamples: this.dropped.samples };
  }

  get pending(): boolean {
    return this.spool.pending;
  }

  close(): Promise<void> {
    if (this.inflight && this.inflightEvicted) {
      this.dropped.messages++;
      this.dropped.samples += this.inflight.lines;
    }
    this.inflight = null;
    this.closed = true;
    this.wake();
    return this.spool.close();
  }
}
