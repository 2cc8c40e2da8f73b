import type { KV, KvEntry, QueuedIterator } from 'nats';
import type { Logger } from '../observability/index.js';
import type { DeliveryOutcome, WebhookStore } from '../webhooks/index.js';

/** What became of each delivery, as the delivering API node reports it; one entry per delivery. */
export const OUTCOME_BUCKET = 'pp_webhook_deliveries';

/** An outcome as shared: `by` is the outbox that wrote it, which skips its own reports when they come back. */
interface SharedOutcome extends DeliveryOutcome {
  by: string;
}

const RETRY_MS = 1000;
/** How long a node handing delivery over (or stopping) waits for its last reports to be shared. */
const FLUSH_WAIT_MS = 5000;
/** How long a node that takes delivery over waits to have read every report before it sends. */
const CATCH_UP_MS = 5000;
/**
 * How long the delivering node waits for a delivery's report to be in the bucket before it sends
 * that subscription's next one (NATS away: it goes on, and a node taking over may repeat more).
 */
const REPORT_WAIT_MS = 5000;

/**
 * Delivery outcomes shared between API nodes through the key-value bucket `pp_webhook_deliveries`
 * (key `{subscription}.{idempotency key}`). The delivering node writes each change of a delivery
 * (attempted, delivered, dead; a redelivery asked for on any node too) after its own outbox
 * recorded it; every node takes the others' reports into its outbox, so a subscription's
 * delivery state and history read the same on every API node, and a node that takes delivery
 * over does not send again what was delivered. Reports about deliveries a node has not queued
 * yet (it is catching up) are kept and applied when it queues them.
 */
export class WebhookOutcomes {
  private readonly pending = new Set<string>();
  /** Who waits for a pending report to be in the bucket, by idempotency key. */
  private readonly waiting = new Map<string, (() => void)[]>();
  private pumping: Promise<void> | null = null;
  private stopped = false;
  /** The newest bucket revision applied here. */
  private lastRevision = 0;
  private batch: KvEntry[] = [];
  private watch: QueuedIterator<KvEntry> | null = null;
  private watching: Promise<void> | null = null;

  private constructor(
    private readonly kv: KV,
    private readonly store: WebhookStore,
    private readonly identity: string,
    /** Told when another node's report changed this outbox (a redelivery asked for elsewhere). */
    private readonly changedHere: () => void,
    private readonly log: Logger,
  ) {}

  /** Opens the bucket and reads every report in it before resolving. */
  static async start(kv: KV, store: WebhookStore, changedHere: () => void, log: Logger): Promise<WebhookOutcomes> {
    const outcomes = new WebhookOutcomes(kv, store, store.identity(), changedHere, log);
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    outcomes.watch = await kv.watch({ initializedFn: () => initialized() });
    const watch = outcomes.watch;
    outcomes.watching = (async () => {
      for await (const e of watch) outcomes.take(e);
    })().catch((err: Error) => log.error({ err: err.message }, 'webhook delivery reports: watch stopped'));
    await ready;
    outcomes.applyBatch(); // everything the bucket held, before this node queues anything
    return outcomes;
  }

  /**
   * Reports are applied in batches (what the watch delivered at once: at start, the whole bucket),
   * one outbox transaction each, instead of one fsync per report.
   */
  private take(e: KvEntry): void {
    if (this.batch.push(e) === 1) setImmediate(() => this.applyBatch());
  }

  private applyBatch(): void {
    const entries = this.batch;
    this.batch = [];
    const outcomes: DeliveryOutcome[] = [];
    for (const e of entries) {
      if (e.operation !== 'PUT') continue;
      try {
        const { by, ...outcome } = e.json<SharedOutcome>();
        if (by !== this.identity) outcomes.push(outcome); // this outbox wrote it: it holds as new or newer
      } catch (err) {
        this.log.error({ err: (err as Error).message, key: e.key }, 'webhook delivery report not taken');
      }
    }
    try {
      if (outcomes.length > 0) this.store.applyOutcomes(outcomes, Date.now());
    } catch (err) {
      // The outbox could not take them (disk): a node taking delivery over may send them again (same webhook-id).
      this.log.error({ err: (err as Error).message, reports: outcomes.length }, 'webhook delivery reports not applied');
    }
    this.lastRevision = entries.reduce((max, e) => Math.max(max, e.revision), this.lastRevision);
    if (outcomes.length > 0) this.changedHere();
  }

  /** These deliveries changed here: report them (in the background, retried until NATS takes them). */
  changed(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const k of keys) this.pending.add(k);
    this.pumping ??= this.pump().finally(() => (this.pumping = null));
  }

  /**
   * Resolves once this delivery's latest report is in the bucket, or after REPORT_WAIT_MS: the
   * delivering node waits for it before a subscription's next delivery, so a node that takes
   * over after a crash sends again at most the one delivery per subscription that was in flight.
   */
  shared(key: string): Promise<void> {
    if (this.stopped || !this.pending.has(key)) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, REPORT_WAIT_MS)));
    const reported = new Promise<void>((resolve) => {
      const list = this.waiting.get(key);
      if (list) list.push(resolve);
      else this.waiting.set(key, [resolve]);
    });
    return Promise.race([reported, late]).finally(() => clearTimeout(timer));
  }

  private reported(key: string): void {
    this.pending.delete(key);
    const list = this.waiting.get(key);
    if (!list) return;
    this.waiting.delete(key);
    for (const resolve of list) resolve();
  }

  private async pump(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const key = this.pending.values().next().value as string;
      const o = this.store.outcome(key);
      if (!o) {
        this.reported(key); // its subscription was deleted meanwhile
        continue;
      }
      try {
        await this.kv.put(`${o.subscriptionId}.${key}`, JSON.stringify({ ...o, by: this.identity } satisfies SharedOutcome));
        // A change made while the put was on its way is reported in the next pass.
        if (JSON.stringify(this.store.outcome(key)) === JSON.stringify(o)) this.reported(key);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, pending: this.pending.size }, 'webhook delivery report not shared yet; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /**
   * Resolves once every report written so far is in the bucket (a node handing delivery over), or
   * after `waitMs`: a report not shared then makes the next node send that delivery again.
   */
  async flushed(waitMs = FLUSH_WAIT_MS): Promise<void> {
    const until = Date.now() + waitMs;
    while (this.pumping && Date.now() < until) await Promise.race([this.pumping, new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))]);
  }

  /**
   * Resolves once this node has read every report the bucket held when called (at most
   * CATCH_UP_MS), so a node taking delivery over knows what its predecessor delivered.
   */
  async caughtUp(): Promise<void> {
    const last = (await this.kv.status()).streamInfo.state.last_seq;
    const until = Date.now() + CATCH_UP_MS;
    while (this.lastRevision < last && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (this.lastRevision < last) this.log.warn({ read: this.lastRevision, last }, 'webhook delivery reports not all read in time; delivering anyway (a repeat has the same webhook-id)');
  }

  async stop(): Promise<void> {
    await this.flushed();
    this.stopped = true;
    for (const list of this.waiting.values()) for (const resolve of list) resolve();
    this.waiting.clear();
    this.watch?.stop();
    await this.watching;
  }
}
