import type { KV } from 'nats';
import type { Logger } from '../../observability/index.js';
import { consumerKeyLister, type KeyLister } from './bucket-keys.js';

export interface LeaseOptions {
  workerId: string;
  /** Everything that can be owned (partitions and the unmapped unit). */
  units: string[];
  /** The bucket's TTL: a lease (and a worker's membership) not renewed for this long is gone. */
  ttlMs: number;
  /** How often leases and membership are renewed and ownership reconsidered. */
  renewMs: number;
  /** An owner stops this long before its lease could expire at the server (clock rate, scheduling). */
  safetyMs: number;
  /** What a unit is, for the log ("partition acquired"): another user of these leases names its own. Default `partition`. */
  noun?: string;
}

export interface LeaseHandlers {
  /** We own `unit` now: start consuming it. */
  acquired(unit: string, validUntil: () => number): Promise<void>;
  /** Hand `unit` over: stop consuming, settle what is in flight as far as possible; the lease is deleted after. */
  releasing(unit: string): Promise<void>;
  /** The lease is gone or may be (renewal failed or came too late): stop acking now, synchronously. */
  lost(unit: string): void;
}

interface Held {
  revision: number;
  /** Local time before which the lease is certainly still ours at the server. */
  validUntil: number;
  /** Being handed over: its consumer drains in the background while the lease is still renewed. */
  releasing: Promise<void> | null;
}

/**
 * How long before its lease could expire at the server an owner stops: a fifth of the TTL, at
 * most a second (room for clock-rate differences and a busy event loop).
 */
export function leaseSafetyMs(ttlMs: number): number {
  return Math.min(1000, Math.floor(ttlMs / 5));
}

const MEMBER = 'member.';
const UNIT = 'unit.';

/**
 * Partition ownership with leases in a JetStream key-value bucket whose TTL is the lease time.
 *
 * Every tick a worker renews its membership key, lists the live members, and takes the units
 * that fall to it by position (unit i belongs to member i mod n, members sorted by id), so every
 * worker computes the same assignment and the load is even. A unit is claimed with a create
 * (refused while another worker's lease exists) and kept with compare-and-set updates on the
 * revision it holds; a worker that sees a unit is no longer its own stops it, then deletes the
 * lease, so the next owner can claim it on its next tick.
 *
 * Safety (a unit is never consumed by two workers at once): the server removes a lease no sooner
 * than ttl after the renewal arrived; the owner counts its validity from before it sent the
 * renewal, less safetyMs, and stops (no more acks) when that passes without a newer renewal. A
 * SIGKILLed worker's leases expire after the TTL and the others take its units on their next tick.
 */
export class PartitionLeases {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private members: string[] = [];
  private judging = false;
  private readonly noun: string;

  constructor(
    private readonly kv: KV,
    private readonly opts: LeaseOptions,
    private readonly handlers: LeaseHandlers,
    private readonly log: Logger,
    private readonly listKeys: KeyLister = consumerKeyLister(kv),
  ) {
    if (opts.renewMs * 2 + opts.safetyMs >= opts.ttlMs) throw new Error(`lease TTL (${opts.ttlMs} ms) must exceed twice the renew interval (${opts.renewMs} ms) plus the safety margin (${opts.safetyMs} ms)`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(opts.workerId)) throw new Error(`worker id must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(opts.workerId)}`);
    this.noun = opts.noun ?? 'partition';
  }

  /** Units this worker owns now. */
  get owned(): string[] {
    return [...this.held.keys()];
  }

  /** Live members at the last tick (worker ids). */
  get liveMembers(): string[] {
    return this.members;
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.renewMs);
    // Checked more often than renewals, so an owner cut off from NATS stops in time.
    this.watchdog = setInterval(() => this.expireOverdue(), Math.max(50, Math.floor(this.opts.safetyMs / 4)));
  }

  /** One round; never runs twice at once (a slow round delays the next). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.round()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'lease round failed; retrying at the next tick'))
      .finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async round(): Promise<void> {
    const sentAt = Date.now();
    // Leases first: a slow listing (a cluster electing leaders) must not make them lapse.
    // All at once, each timed from its own sending: one after the other, the last of 13 waited
    // for 12 round trips, which a busy worker (a burst being delivered) stretched past the lease.
    // Renewed while it drains, so a slow hand-over cannot let this or another lease lapse;
    // the hand-over runs beside the rounds, which keep renewing every other lease on time.
    await Promise.all([...this.held].map(([unit, lease]) => (this.stopped ? undefined : this.renew(unit, lease))));
    await this.kv.put(`${MEMBER}${this.opts.workerId}`, new TextEncoder().encode(String(sentAt)));
    const members = (await this.listKeys(`${MEMBER}*`)).map((key) => key.slice(MEMBER.length));
    // Our own key was just written; a listing that raced it still counts us.
    if (!members.includes(this.opts.workerId)) members.push(this.opts.workerId);
    members.sort();
    this.members = members;
    const mine = new Set(this.opts.units.filter((_, i) => members[i % members.length] === this.opts.workerId));

    for (const [unit, lease] of [...this.held]) {
      if (this.stopped) return;
      if (!mine.has(unit) && this.held.get(unit) === lease) lease.releasing ??= this.release(unit, lease);
    }
    // Claimed at once too: a first round claiming every unit one by one took a second under
    // load, while the units claimed first were already due for renewal.
    await Promise.all([...mine].map((unit) => (this.stopped || this.held.has(unit) ? undefined : this.claim(unit))));
  }

  private async renew(unit: string, lease: Held): Promise<void> {
    const sentAt = Date.now();
    try {
      lease.revision = await this.kv.update(`${UNIT}${unit}`, new TextEncoder().encode(this.opts.workerId), lease.revision);
      lease.validUntil = sentAt + this.opts.ttlMs - this.opts.safetyMs;
      // Handed over while this renewal was on its way: delete what it wrote, or the next owner waits for the TTL.
      if (this.held.get(unit) !== lease) await this.kv.delete(`${UNIT}${unit}`, { previousSeq: lease.revision }).catch(() => undefined);
    } catch (err) {
      // Wrong revision: the lease expired and someone else (or nobody yet) holds it. Transient
      // errors: the watchdog stops the unit if no renewal succeeds in time.
      if (/wrong last sequence/i.test((err as Error).message)) this.lose(unit, 'lease taken over');
      else this.log.warn({ unit, err: (err as Error).message }, 'lease renewal failed');
    }
  }

  private async claim(unit: string): Promise<void> {
    const sentAt = Date.now();
    let revision: number;
    try {
      revision = await this.kv.create(`${UNIT}${unit}`, new TextEncoder().encode(this.opts.workerId));
    } catch {
      return; // still held by its previous owner: it releases it, or its lease expires
    }
    const lease: Held = { revision, validUntil: sentAt + this.opts.ttlMs - this.opts.safetyMs, releasing: null };
    this.held.set(unit, lease);
    this.log.info({ unit, worker: this.opts.workerId }, `${this.noun} acquired`);
    // Started beside the rounds, like a release: on a cluster electing leaders, starting a
    // consumer can take seconds, and the rounds must go on renewing the other leases meanwhile.
    void this.handlers.acquired(unit, () => (this.held.get(unit) === lease ? lease.validUntil : 0)).catch(async (err: Error) => {
      if (this.held.get(unit) !== lease) return; // lost meanwhile
      this.log.error({ unit, err: err.message }, `could not start on an acquired ${this.noun}; releasing it`);
      await (lease.releasing ??= this.release(unit, lease));
    });
  }

  private async release(unit: string, lease: Held): Promise<void> {
    await this.handlers.releasing(unit).catch((err: Error) => this.log.warn({ unit, err: err.message }, 'hand-over did not finish cleanly'));
    if (this.held.get(unit) !== lease) return; // lost meanwhile
    this.held.delete(unit);
    this.handlers.lost(unit);
    await this.kv.delete(`${UNIT}${unit}`, { previousSeq: lease.revision }).catch(() => undefined); // gone or taken: nothing to hand over
    this.log.info({ unit, worker: this.opts.workerId }, `${this.noun} released`);
  }

  /** Stop owning `unit` now and free its lease (its consumer failed); the next round may claim it again. */
  giveUp(unit: string, reason: string): void {
    const lease = this.held.get(unit);
    if (!lease) return;
    this.lose(unit, reason);
    void this.kv.delete(`${UNIT}${unit}`, { previousSeq: lease.revision }).catch(() => undefined);
  }

  private lose(unit: string, reason: string): void {
    if (!this.held.delete(unit)) return;
    this.handlers.lost(unit);
    this.log.warn({ unit, worker: this.opts.workerId, reason }, `${this.noun} lost`);
  }

  /**
   * Judged after the I/O that is waiting (setImmediate): a watchdog tick that fires late, after
   * the event loop was busy (a burst of deliveries), runs before the socket reads of that turn,
   * and would stop a lease whose renewal answer is already there. Waiting for it is safe: acks
   * check the validity themselves (partition-consumer.ts), and it is counted from before the renewal was sent.
   */
  private expireOverdue(): void {
    if (this.judging) return;
    this.judging = true;
    setImmediate(() => {
      this.judging = false;
      const now = Date.now();
      for (const [unit, lease] of this.held) if (now >= lease.validUntil) this.lose(unit, 'lease not renewed in time');
    });
  }

  /** Release every unit (in-flight messages settled by the handlers) and leave the membership. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    this.stopped = true;
    await Promise.all([...this.held].map(([unit, lease]) => (lease.releasing ??= this.release(unit, lease)).catch((err: Error) => this.log.warn({ unit, err: err.message }, 'release failed'))));
    if (this.watchdog) clearInterval(this.watchdog);
    await this.kv.delete(`${MEMBER}${this.opts.workerId}`).catch(() => undefined);
  }
}
