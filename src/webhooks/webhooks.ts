import { randomBytes } from 'node:crypto';
import { alertMessage, type AlertNotifier, type AlertTransition } from '../alerts/index.js';
import { CATEGORIES } from '../alerts/types.js';
import { parseScope, scopeWithin, type Principal } from '../auth/index.js';
import { PlantPulseError } from '../contract/index.js';
import { maskUrlQuery, type Logger } from '../observability/index.js';
import { DeliveryWorker, type DeliveryGate, type DeliveryOptions } from './delivery-worker.js';
import { idempotencyKey, matches, WEBHOOK_EVENTS, type NewSubscription, type Subscription } from './subscription.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { NewOutboxEntry, WebhookStore } from './webhook-store.js';

/**
 * Subscriptions as the API nodes of a NATS fleet share them (src/view/webhook-sharing.ts): made
 * or deleted on any node, known to all; the change is stored in NATS before the API answers.
 */
export interface SubscriptionFleet {
  /** Makes a new subscription known to every API node; resolves with it as shared (with `fromSeq`). */
  publish(s: Subscription, secret: string): Promise<Subscription>;
  /** Removes it from every API node. */
  remove(id: string): Promise<void>;
}

/**
 * Regulator webhooks (docs/webhooks.md): the alert notifier that fills the outbox, the delivery
 * worker that empties it, and the subscription operations behind `/api/v1/subscriptions`.
 *
 * Who may do what: an admin manages every subscription; a regulator creates, sees and deletes
 * its own, with a jurisdiction inside its token's scope. A regulator's subscription matches only
 * while its token is active, so revoking a regulator also stops its webhooks.
 */
export class Webhooks implements AlertNotifier {
  readonly name = 'webhooks';
  private readonly worker: DeliveryWorker;
  /** Subscriptions, read once and refreshed on every change made through this object. */
  private cache: Subscription[];
  private fleet: SubscriptionFleet | null = null;
  private gate: DeliveryGate | null = null;

  constructor(
    private readonly store: WebhookStore,
    private readonly opts: DeliveryOptions,
    private readonly metrics: WebhookMetrics,
    private readonly log: Logger,
    /** Whether a token is still active (a revoked regulator's subscriptions stop matching). */
    private readonly tokenActive: (tokenId: string) => boolean,
    private readonly clock: () => number = Date.now,
  ) {
    this.worker = new DeliveryWorker(store, opts, metrics, log, clock);
    this.cache = store.subscriptions();
  }

  /** PP_ROLE=api: subscriptions shared with the other API nodes, delivered by one of them at a time. Call before `start`. */
  share(fleet: SubscriptionFleet, gate: DeliveryGate): void {
    this.fleet = fleet;
    this.gate = gate;
    this.worker.setGate(gate);
  }

  start(): void {
    this.worker.start();
  }

  /** The store's subscriptions changed from outside (another API node): read them again. */
  reload(): void {
    this.cache = this.store.subscriptions();
  }

  /** Look at the outbox now (delivery came to this node, or another node's report changed it). */
  kick(): void {
    this.worker.kick();
  }

  /** Resolves once the deliveries in flight now have finished. */
  settled(): Promise<void> {
    return this.worker.settled();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /**
   * Queue every matching transition, durably, before returning (one SQLite transaction: the
   * alert pipeline waits for one fsync). Must not throw (AlertNotifier): a failure is logged and
   * counted.
   */
  notify(transitions: readonly AlertTransition[]): void {
    const entries: NewOutboxEntry[] = [];
    for (const t of transitions) {
      for (const s of this.cache) {
        if (!matches(s, t)) continue;
        if (s.ownerRole === 'regulator' && (s.ownerTokenId === null || !this.tokenActive(s.ownerTokenId))) continue;
        entries.push({ subscriptionId: s.id, idempotencyKey: idempotencyKey(s.id, t), event: `alert.${t.type}`, alertId: t.alert.id, body: JSON.stringify(alertMessage(t)) });
      }
    }
    if (entries.length === 0) return;
    try {
      this.metrics.enqueued.inc(this.store.enqueue(entries, this.clock(), this.opts.deadAfterMs));
      this.worker.kick();
    } catch (err) {
      this.metrics.enqueueErrors.inc(entries.length);
      this.log.error({ err, deliveries: entries.length }, 'webhook outbox write failed: these transitions will not be delivered');
    }
  }

  /** Returns the subscription and its secret (shown once when generated here). */
  async create(input: NewSubscription, by: Principal): Promise<{ subscription: Subscription; secret: string; generated: boolean }> {
    let jurisdiction;
    try {
      jurisdiction = input.jurisdiction ? parseScope(input.jurisdiction) : by.scope;
    } catch (err) {
      throw new PlantPulseError('PP_ERR_INVALID_BODY', `jurisdiction: ${(err as Error).message}`);
    }
    if (!scopeWithin(jurisdiction, by.scope)) throw new PlantPulseError('PP_ERR_SITE_FORBIDDEN', `the jurisdiction reaches beyond this token's scope`);
    let subscription: Subscription = {
      id: `sub_${randomBytes(8).toString('hex')}`,
      name: input.name ?? null,
      url: input.url,
      jurisdiction,
      categories: input.categories ? [...new Set(input.categories)] : [...CATEGORIES],
      minSeverity: input.minSeverity,
      events: input.events ? [...new Set(input.events)] : [...WEBHOOK_EVENTS],
      ownerTokenId: by.tokenId,
      ownerRole: by.role,
      createdAt: this.clock(),
    };
    const secret = input.secret ?? randomBytes(32).toString('base64url');
    if (this.fleet) subscription = await this.shared(() => this.fleet!.publish(subscription, secret));
    this.store.createSubscription(subscription, secret);
    this.cache = this.store.subscriptions();
    this.log.info({ subscription: subscription.id, by: by.tokenId, url: maskUrlQuery(subscription.url) }, 'webhook subscription created');
    return { subscription, secret, generated: input.secret === undefined };
  }

  /** Admins see all; a regulator its own. */
  list(by: Principal): Subscription[] {
    return this.cache.filter((s) => this.visible(s, by));
  }

  /** The subscription, or PP_ERR_UNKNOWN_SUBSCRIPTION when it does not exist or is not the caller's. */
  get(id: string, by: Principal): Subscription {
    const s = this.store.subscription(id);
    if (!s || !this.visible(s, by)) throw new PlantPulseError('PP_ERR_UNKNOWN_SUBSCRIPTION', id);
    return s;
  }

  status(id: string) {
    return this.store.status(id);
  }

  deliveries(id: string, state: 'pending' | 'delivered' | 'dead' | undefined, limit: number) {
    return this.store.deliveries(id, state, limit);
  }

  async delete(id: string, by: Principal): Promise<void> {
    this.get(id, by);
    if (this.fleet) await this.shared(() => this.fleet!.remove(id));
    this.store.deleteSubscription(id);
    this.cache = this.store.subscriptions();
    this.log.info({ subscription: id, by: by.tokenId }, 'webhook subscription deleted');
  }

  /** Dead deliveries get another PP_WEBHOOK_DEAD_AFTER_S, in their original order. */
  redeliver(id: string, by: Principal): number {
    this.get(id, by);
    const keys = this.store.redeliver(id, this.clock(), this.opts.deadAfterMs);
    // The delivering node (perhaps another API node) hears of it as of any delivery's change.
    this.gate?.changed(keys);
    this.worker.kick();
    return keys.length;
  }

  /** A change the other API nodes must see: when NATS does not take it, nothing changes here either. */
  private async shared<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'webhook subscription change not stored in NATS');
      throw new PlantPulseError('PP_ERR_FLEET_UNAVAILABLE', (err as Error).message);
    }
  }

  private visible(s: Subscription, by: Principal): boolean {
    return by.role === 'admin' || (s.ownerTokenId !== null && s.ownerTokenId === by.tokenId);
  }
}
