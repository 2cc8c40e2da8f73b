import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { formatScope, parseScope } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import { leaseSafetyMs, PartitionLeases } from '../sources/nats/partition-leases.js';
import { openSecret, sealSecret, type Subscription, type SubscriptionFleet, type Webhooks, type WebhookStore } from '../webhooks/index.js';
import { VIEW_ALERTS_STREAM } from './subjects.js';
import { OUTCOME_BUCKET, WebhookOutcomes } from './webhook-outcomes.js';

/** Every webhook subscription of the fleet, one entry per subscription id (with its secret). */
export const SUBSCRIPTION_BUCKET = 'pp_webhook_subscriptions';
/** Who delivers: one lease, held by one API node at a time; the bucket's TTL is the lease time. */
export const DELIVERY_LEASE_BUCKET = 'pp_webhook_lease';
const DELIVERY_UNIT = 'delivery';
/** Delivered reports are kept at least as long as a dead delivery's evidence. */
const MIN_OUTCOME_AGE_MS = 30 * 86_400_000;

/** One subscription in the bucket: its signing secret sealed (PP_WEBHOOK_SHARED_SECRET_KEY), or as given. */
interface SharedSubscription {
  subscription: Omit<Subscription, 'jurisdiction'> & { jurisdiction: string[] };
  secret?: string;
  sealedSecret?: string;
}

export interface WebhookSharingOptions {
  /** This API node's id (PP_NATS_WORKER_ID): its membership in the delivery lease. */
  nodeId: string;
  /** PP_VIEW_ALERT_RETENTION_DAYS: delivery reports outlive the transitions a new node may read again. */
  alertRetentionMs: number;
  leaseTtlMs: number;
  leaseRenewMs: number;
  replicas: number;
  /** PP_WEBHOOK_SHARED_SECRET_KEY: seals signing secrets in the bucket (null: stored as given). */
  secretKey: string | null;
}

/**
 * Webhook subscriptions and their delivery shared by the API nodes of a NATS fleet
 * (docs/webhooks.md, Several API nodes):
 *
 * - **Subscriptions** live in the key-value bucket `pp_webhook_subscriptions`. One made or deleted
 *   on any node is written there before the API answers; every node watches the bucket and keeps
 *   its `webhooks.sqlite` in step, so each node queues every transition for every subscription in
 *   its own outbox, as before. A subscription starts after the alert stream's last message when it
 *   was made (`fromSeq`): a node that reads the stream from its start queues no history for it.
 * - **One node delivers**: the one holding the lease in `pp_webhook_lease` (the partition leases of
 *   workers, with one unit; the first live node by id holds it). It takes the lease only once it
 *   has read the alert stream to its end, and delivers only while the lease is certainly valid.
 * - **Where it stopped**: it reports every delivery's outcome to `pp_webhook_deliveries`
 *   (webhook-outcomes.ts); the others apply the reports to their outboxes, so a node taking over
 *   (after a SIGKILL, the lease's TTL later) starts after the last delivery reported. A delivery
 *   answered 2xx whose report did not reach NATS is sent again, with the same `webhook-id`; a
 *   subscription's next delivery waits for the last one's report (WebhookOutcomes.changed), so
 *   that is at most the one in flight per subscription.
 */
export class WebhookSharing implements SubscriptionFleet {
  private leases: PartitionLeases | null = null;
  private validUntil: () => number = () => 0;
  private active = false;
  private stopped = false;
  private waitForCatchUp: NodeJS.Timeout | null = null;
  private watch: QueuedIterator<KvEntry> | null = null;
  private watching: Promise<void> | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subscriptions: KV,
    private readonly outcomes: WebhookOutcomes,
    private readonly webhooks: Webhooks,
    private readonly store: WebhookStore,
    private readonly opts: WebhookSharingOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the buckets, takes in every shared subscription and delivery report (before this
   * node's alert view starts queueing), shares the subscriptions only this node had, and attaches
   * to `webhooks`. Delivery waits for `deliverOnceCaughtUp`.
   */
  static async start(nc: NatsConnection, webhooks: Webhooks, store: WebhookStore, opts: WebhookSharingOptions, log: Logger): Promise<WebhookSharing> {
    const js = nc.jetstream();
    const subscriptions = await js.views.kv(SUBSCRIPTION_BUCKET, { history: 1, replicas: opts.replicas });
    const outcomeKv = await js.views.kv(OUTCOME_BUCKET, { history: 1, replicas: opts.replicas, ttl: Math.max(MIN_OUTCOME_AGE_MS, opts.alertRetentionMs + 86_400_000) });
    const outcomes = await WebhookOutcomes.start(outcomeKv, store, () => webhooks.kick(), log);
    const sharing = new WebhookSharing(nc, subscriptions, outcomes, webhooks, store, opts, log);
    if (opts.secretKey === null) log.warn('PP_WEBHOOK_SHARED_SECRET_KEY is not set: webhook signing secrets are stored in the NATS bucket pp_webhook_subscriptions as given (docs/webhooks.md)');
    await sharing.watchSubscriptions();
    webhooks.share(sharing, { mayDeliver: () => sharing.delivering, changed: (keys) => outcomes.changed(keys), shared: (key) => outcomes.shared(key) });
    return sharing;
  }

  /** Whether this node delivers now (it holds the lease, certainly still valid). */
  get delivering(): boolean {
    return this.active && Date.now() < this.validUntil();
  }

  private async watchSubscriptions(): Promise<void> {
    const seen = new Set<string>();
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    this.watch = await this.subscriptions.watch({ initializedFn: () => initialized() });
    const watch = this.watch;
    this.watching = (async () => {
      for await (const e of watch) {
        seen.add(e.key);
        this.take(e);
      }
    })().catch((err: Error) => this.log.error({ err: err.message }, 'webhook subscription bucket: watch stopped'));
    await ready;
    // Made here before subscriptions were shared (or while NATS was away): share them now. A
    // subscription deleted elsewhere left a marker, so it is in `seen` and was deleted here.
    for (const s of this.store.subscriptions()) {
      if (seen.has(s.id)) continue;
      const secret = this.store.target(s.id)?.secret;
      if (secret === undefined) continue;
      const shared = await this.publish(s, secret);
      this.store.createSubscription(shared, secret);
      this.log.info({ subscription: s.id }, 'webhook subscription made here shared with the other API nodes');
    }
    this.webhooks.reload();
  }

  private take(e: KvEntry): void {
    try {
      if (e.operation === 'PUT') {
        const { subscription, secret, sealedSecret } = e.json<SharedSubscription>();
        this.store.createSubscription({ ...subscription, jurisdiction: parseScope(subscription.jurisdiction) }, this.secretOf(secret, sealedSecret));
      } else {
        this.store.deleteSubscription(e.key);
      }
      this.webhooks.reload();
    } catch (err) {
      this.log.error({ err: (err as Error).message, key: e.key }, 'shared webhook subscription not taken');
    }
  }

  private secretOf(secret: string | undefined, sealed: string | undefined): string {
    if (sealed === undefined) {
      if (secret === undefined) throw new Error('no signing secret');
      return secret;
    }
    if (this.opts.secretKey === null) throw new Error('its signing secret is sealed and PP_WEBHOOK_SHARED_SECRET_KEY is not set on this node');
    return openSecret(sealed, this.opts.secretKey);
  }

  /** SubscriptionFleet: stored in NATS before the API answers; starts after the alert stream's last message. */
  async publish(s: Subscription, secret: string): Promise<Subscription> {
    const fromSeq = s.fromSeq ?? (await (await this.nc.jetstreamManager()).streams.info(VIEW_ALERTS_STREAM)).state.last_seq;
    const shared: Subscription = { ...s, fromSeq };
    const key = this.opts.secretKey;
    const value: SharedSubscription = { subscription: { ...shared, jurisdiction: formatScope(s.jurisdiction) }, ...(key === null ? { secret } : { sealedSecret: sealSecret(secret, key) }) };
    await this.subscriptions.create(s.id, JSON.stringify(value));
    return shared;
  }

  async remove(id: string): Promise<void> {
    await this.subscriptions.delete(id);
  }

  /** Join the delivery lease once this node has read the alert stream to its end (its outbox is complete). */
  deliverOnceCaughtUp(caughtUp: () => boolean): void {
    const check = () => {
      this.waitForCatchUp = null;
      if (this.stopped) return;
      if (!caughtUp()) {
        this.waitForCatchUp = setTimeout(check, 250);
        return;
      }
      void this.startLeases().catch((err: Error) => this.log.error({ err: err.message }, 'webhook delivery lease not started; this node will not deliver'));
    };
    check();
  }

  private async startLeases(): Promise<void> {
    const kv = await this.nc.jetstream().views.kv(DELIVERY_LEASE_BUCKET, { ttl: this.opts.leaseTtlMs, history: 1, replicas: this.opts.replicas });
    // The bucket keeps the TTL it was made with (as the workers' lease bucket does).
    const ttlMs = (await kv.status()).ttl;
    if (this.stopped) return;
    this.leases = new PartitionLeases(
      kv,
      { workerId: this.opts.nodeId, units: [DELIVERY_UNIT], ttlMs, renewMs: this.opts.leaseRenewMs, safetyMs: leaseSafetyMs(ttlMs), noun: 'webhook delivery lease' },
      {
        acquired: async (_unit, validUntil) => {
          // What the previous delivering node reported must be in the outbox before sending.
          await this.outcomes.caughtUp();
          this.validUntil = validUntil;
          this.active = true;
          this.log.info({ node: this.opts.nodeId }, 'this API node delivers webhooks now');
          this.webhooks.kick();
        },
        releasing: async () => {
          this.active = false;
          await this.webhooks.settled();
          await this.outcomes.flushed();
        },
        lost: () => {
          if (this.active) this.log.info({ node: this.opts.nodeId }, 'this API node no longer delivers webhooks');
          this.active = false;
        },
      },
      this.log,
    );
    await this.leases.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.waitForCatchUp) clearTimeout(this.waitForCatchUp);
    await this.leases?.stop();
    await this.outcomes.stop();
    this.watch?.stop();
    await this.watching;
  }
}
