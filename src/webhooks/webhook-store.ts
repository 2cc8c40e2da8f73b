import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openLocalDb, type Migrations } from '../storage/local-db.js';
import type { Category, Severity } from '../alerts/types.js';
import { isRole, parseScope, formatScope } from '../auth/index.js';
import type { Subscription, WebhookEvent } from './subscription.js';

/**
 * Subscriptions and the delivery outbox, in one SQLite file (`PP_DATA_DIR/webhooks.sqlite`).
 * The outbox holds one row per (subscription, transition); a row is written (WAL, synchronous
 * FULL: fsynced at commit) before the notifier returns, and leaves `pending` only when the
 * receiver answered 2xx (`delivered`) or it expired (`dead`). So whatever the platform was
 * doing when it stopped or was killed, every transition is delivered after the restart, at
 * least once; the idempotency key makes the second copy recognisable.
 *
 * Order: the head of a subscription (its oldest pending row) is the only one attempted, so a
 * subscription's deliveries arrive in the order their transitions happened.
 */
const MIGRATIONS: Migrations = [
  // 1: subscriptions and the delivery outbox (the schema of every install before versioning).
  `
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  name TEXT,
  url TEXT NOT NULL,
  jurisdiction TEXT NOT NULL,
  categories TEXT NOT NULL,
  min_severity TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  owner_token_id TEXT,
  owner_role TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  event TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (subscription_id, seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_by_subscription ON outbox (subscription_id, state, seq);
`,
  // 2: sharing between the API nodes of a NATS fleet (src/view/webhook-sharing.ts): where a
  // shared subscription starts in the alert stream, what the delivering node reported about
  // deliveries this node may not have queued yet, and this file's identity.
  `
ALTER TABLE subscriptions ADD COLUMN from_seq INTEGER;
CREATE TABLE IF NOT EXISTS shared_outcomes (
  idempotency_key TEXT PRIMARY KEY,
  subscription_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS store_identity (id TEXT NOT NULL);
`,
];

interface SubscriptionRow {
  id: string;
  name: string | null;
  url: string;
  jurisdiction: string;
  categories: string;
  min_severity: string;
  events: string;
  secret: string;
  owner_token_id: string | null;
  owner_role: string;
  created_at: number;
  from_seq: number | null;
}

interface OutboxRow {
  seq: number;
  subscription_id: string;
  idempotency_key: string;
  event: string;
  alert_id: string;
  body: string;
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  created_at: number;
  expires_at: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  finished_at: number | null;
}

export interface OutboxEntry {
  seq: number;
  subscriptionId: string;
  idempotencyKey: string;
  /** `alert.opened`, `alert.resolved`, `alert.acknowledged`. */
  event: string;
  alertId: string;
  body: string;
  state: OutboxRow['state'];
  attempts: number;
  createdAt: number;
  expiresAt: number;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  finishedAt: number | null;
}

export interface NewOutboxEntry {
  subscriptionId: string;
  idempotencyKey: string;
  event: string;
  alertId: string;
  body: string;
}

export interface DeliveryStatus {
  /** `ok`: nothing failing; `retrying`: the head has failed attempts; `dead`: the latest finished delivery died. */
  state: 'ok' | 'retrying' | 'dead';
  pending: number;
  delivered: number;
  dead: number;
  oldestPendingAt: number | null;
  lastDeliveredAt: number | null;
  /** The head (oldest pending delivery): attempts so far, its last error and next attempt. */
  head: { idempotencyKey: string; attempts: number; lastError: string | null; lastStatus: number | null; lastAttemptAt: number | null; nextAttemptAt: number } | null;
  /** The latest dead delivery: when and why. */
  lastDead: { idempotencyKey: string; at: number; attempts: number; error: string | null } | null;
}

/**
 * What the delivering API node reports about one delivery, so every API node's outbox shows it
 * and a node that takes delivery over does not send again what was answered 2xx.
 */
export type DeliveryOutcome = Pick<OutboxEntry, 'subscriptionId' | 'idempotencyKey' | 'state' | 'attempts' | 'expiresAt' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatus' | 'lastError' | 'finishedAt'>;

const json = <T>(text: string): T => JSON.parse(text) as T;

function subscriptionOf(r: SubscriptionRow): Subscription {
  if (!isRole(r.owner_role)) throw new Error(`subscription ${r.id} has an unknown owner role`);
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    jurisdiction: parseScope(json<string[]>(r.jurisdiction)),
    categories: json<Category[]>(r.categories),
    minSeverity: r.min_severity as Severity,
    events: json<WebhookEvent[]>(r.events),
    ownerTokenId: r.owner_token_id,
    ownerRole: r.owner_role,
    createdAt: r.created_at,
    ...(r.from_seq === null ? {} : { fromSeq: r.from_seq }),
  };
}

function entryOf(r: OutboxRow): OutboxEntry {
  return {
    seq: r.seq,
    subscriptionId: r.subscription_id,
    idempotencyKey: r.idempotency_key,
    event: r.event,
    alertId: r.alert_id,
    body: r.body,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    nextAttemptAt: r.next_attempt_at,
    lastAttemptAt: r.last_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    finishedAt: r.finished_at,
  };
}

/** The oldest pending row of each subscription: the only one that may be attempted. */
const HEADS = `SELECT o.* FROM outbox o JOIN (SELECT min(seq) AS seq FROM outbox WHERE state = 'pending' GROUP BY subscription_id) h ON o.seq = h.seq
  WHERE o.subscription_id NOT IN (SELECT value FROM json_each(@busy))`;

export class WebhookStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    // A transition in the outbox is a promise to a regulator: it must survive power loss.
    this.db = openLocalDb(path, MIGRATIONS, { synchronous: 'FULL' });
    this.stmts = {
      insertSub: this.db.prepare(
        // An upsert: a shared subscription arrives both from the node's own API and from the fleet.
      `INSERT OR REPLACE INTO subscriptions (id, name, url, jurisdiction, categories, min_severity, events, secret, owner_token_id, owner_role, created_at, from_seq)
         VALUES (@id, @name, @url, @jurisdiction, @categories, @min_severity, @events, @secret, @owner_token_id, @owner_role, @created_at, @from_seq)`,
      ),
      sub: this.db.prepare<[string], SubscriptionRow>('SELECT * FROM subscriptions WHERE id = ?'),
      subs: this.db.prepare<[], SubscriptionRow>('SELECT * FROM subscriptions ORDER BY created_at, id'),
      deleteSub: this.db.prepare<[string]>('DELETE FROM subscriptions WHERE id = ?'),
      deleteOutbox: this.db.prepare<[string]>('DELETE FROM outbox WHERE subscription_id = ?'),
      enqueue: this.db.prepare(
        `INSERT OR IGNORE INTO outbox (subscription_id, idempotency_key, event, alert_id, body, state, created_at, expires_at, next_attempt_at)
         VALUES (@subscriptionId, @idempotencyKey, @event, @alertId, @body, 'pending', @now, @expiresAt, @now)`,
      ),
      dueHeads: this.db.prepare<{ busy: string; now: number; limit: number }, OutboxRow>(`${HEADS} AND o.next_attempt_at <= @now ORDER BY o.next_attempt_at, o.seq LIMIT @limit`),
      nextAttempt: this.db.prepare<{ busy: string }, { at: number | null }>(`SELECT min(next_attempt_at) AS at FROM (${HEADS})`),
      delivered: this.db.prepare<{ seq: number; now: number; status: number }>(
        `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_attempt_at = @now, last_status = @status, last_error = NULL, finished_at = @now WHERE seq = @seq AND state = 'pending'`,
      ),
      retry: this.db.prepare<{ seq: number; now: number; next: number; status: number | null; error: string }>(
        `UPDATE outbox SET attempts = attempts + 1, last_attempt_at = @now, next_attempt_at = @next, last_status = @status, last_error = @error WHERE seq = @seq AND state = 'pending'`,
      ),
      deadHead: this.db.prepare<{ seq: number; now: number; status: number | null; error: string }>(
        `UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_attempt_at = @now, last_status = @status, last_error = @error, finished_at = @now WHERE seq = @seq AND state = 'pending'`,
      ),
      // Rows behind a dead head that have expired too die with it: they would each need another
      // failed attempt (up to the HTTP timeout) to find out what the head already did.
      deadBehind: this.db.prepare<{ sub: string; now: number; error: string }>(
        `UPDATE outbox SET state = 'dead', last_error = @error, finished_at = @now WHERE subscription_id = @sub AND state = 'pending' AND expires_at <= @now`,
      ),
      redeliver: this.db.prepare<{ sub: string; now: number; expiresAt: number }>(
        `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = @now, expires_at = @expiresAt, last_error = NULL, last_status = NULL, finished_at = NULL WHERE subscription_id = @sub AND state = 'dead'`,
      ),
      drop: this.db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?'),
      byKey: this.db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE idempotency_key = ?'),
      deadKeys: this.db.prepare<{ sub: string; now: number }, { idempotency_key: string }>(`SELECT idempotency_key FROM outbox WHERE subscription_id = @sub AND state = 'dead' AND finished_at = @now`),
      deadOnes: this.db.prepare<[string], { idempotency_key: string }>(`SELECT idempotency_key FROM outbox WHERE subscription_id = ? AND state = 'dead'`),
      saveOutcome: this.db.prepare<{ key: string; sub: string; outcome: string; now: number }>(
        'INSERT OR REPLACE INTO shared_outcomes (idempotency_key, subscription_id, outcome, received_at) VALUES (@key, @sub, @outcome, @now)',
      ),
      storedOutcome: this.db.prepare<[string], { outcome: string }>('SELECT outcome FROM shared_outcomes WHERE idempotency_key = ?'),
      applyOutcome: this.db.prepare<DeliveryOutcome>(
        `UPDATE outbox SET state = @state, attempts = @attempts, expires_at = @expiresAt, next_attempt_at = @nextAttemptAt, last_attempt_at = @lastAttemptAt,
           last_status = @lastStatus, last_error = @lastError, finished_at = @finishedAt WHERE idempotency_key = @idempotencyKey AND subscription_id = @subscriptionId`,
      ),
      purgeOutcomes: this.db.prepare<[number]>('DELETE FROM shared_outcomes WHERE received_at < ?'),
      counts: this.db.prepare<[string], { state: string; n: number; oldest: number | null; latest: number | null }>(
        `SELECT state, count(*) AS n, min(created_at) AS oldest, max(finished_at) AS latest FROM outbox WHERE subscription_id = ? GROUP BY state`,
      ),
      head: this.db.prepare<[string], OutboxRow>(`SELECT * FROM outbox WHERE subscription_id = ? AND state = 'pending' ORDER BY seq LIMIT 1`),
      lastDead: this.db.prepare<[string], OutboxRow>(`SELECT * FROM outbox WHERE subscription_id = ? AND state = 'dead' ORDER BY finished_at DESC, seq ASC LIMIT 1`),
      lastFinished: this.db.prepare<[string], { state: string }>(`SELECT state FROM outbox WHERE subscription_id = ? AND state != 'pending' ORDER BY finished_at DESC, seq DESC LIMIT 1`),
      depth: this.db.prepare<[], { n: number; oldest: number | null }>(`SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE state = 'pending'`),
      purge: this.db.prepare<{ delivered: number; dead: number }>(`DELETE FROM outbox WHERE (state = 'delivered' AND finished_at < @delivered) OR (state = 'dead' AND finished_at < @dead)`),
    };
  }

  /** Creates the subscription, or replaces it when it exists (a shared one heard of again). */
  createSubscription(s: Subscription, secret: string): void {
    this.stmts.insertSub.run({
      id: s.id,
      name: s.name,
      url: s.url,
      jurisdiction: JSON.stringify(formatScope(s.jurisdiction)),
      categories: JSON.stringify(s.categories),
      min_severity: s.minSeverity,
      events: JSON.stringify(s.events),
      secret,
      owner_token_id: s.ownerTokenId,
      owner_role: s.ownerRole,
      created_at: s.createdAt,
      from_seq: s.fromSeq ?? null,
    });
  }

  subscription(id: string): Subscription | null {
    const r = this.stmts.sub.get(id);
    return r ? subscriptionOf(r) : null;
  }

  subscriptions(): Subscription[] {
    return this.stmts.subs.all().map(subscriptionOf);
  }

  /** The URL and secret to deliver with (the secret never leaves this module otherwise). */
  target(id: string): { url: string; secret: string } | null {
    const r = this.stmts.sub.get(id);
    return r ? { url: r.url, secret: r.secret } : null;
  }

  /** Remove a subscription and everything it still had to deliver. */
  deleteSubscription(id: string): boolean {
    return this.db.transaction(() => {
      this.stmts.deleteOutbox.run(id);
      return this.stmts.deleteSub.run(id).changes > 0;
    })();
  }

  /** One transaction, one fsync; a transition already queued (a replay) is ignored. Returns rows added. */
  enqueue(entries: readonly NewOutboxEntry[], now: number, ttlMs: number): number {
    if (entries.length === 0) return 0;
    return this.db.transaction(() => {
      let added = 0;
      for (const e of entries) {
        if (this.stmts.enqueue.run({ ...e, now, expiresAt: now + ttlMs }).changes === 0) continue;
        added++;
        // The delivering node may have reported on it before this node queued it (catching up).
        const known = this.stmts.storedOutcome.get(e.idempotencyKey);
        if (known) this.stmts.applyOutcome.run(json<DeliveryOutcome>(known.outcome));
      }
      return added;
    })();
  }

  /** Heads due at `now`, skipping subscriptions with a delivery in flight. */
  dueHeads(now: number, busy: readonly string[], limit: number): OutboxEntry[] {
    return this.stmts.dueHeads.all({ busy: JSON.stringify(busy), now, limit }).map(entryOf);
  }

  /** When the next head (of a subscription not in flight) is due, or null when nothing is pending. */
  nextAttemptAt(busy: readonly string[]): number | null {
    return this.stmts.nextAttempt.get({ busy: JSON.stringify(busy) })?.at ?? null;
  }

  markDelivered(seq: number, now: number, status: number): void {
    this.stmts.delivered.run({ seq, now, status });
  }

  markRetry(seq: number, now: number, next: number, status: number | null, error: string): void {
    this.stmts.retry.run({ seq, now, next, status, error });
  }

  /** The head died; so does every other expired row of its subscription. Returns the idempotency keys of the rows that died. */
  markDead(entry: OutboxEntry, now: number, status: number | null, error: string): string[] {
    return this.db.transaction(() => {
      this.stmts.deadHead.run({ seq: entry.seq, now, status, error });
      this.stmts.deadBehind.run({ sub: entry.subscriptionId, now, error: `expired behind a dead delivery (${error})` });
      return this.stmts.deadKeys.all({ sub: entry.subscriptionId, now }).map((r) => r.idempotency_key);
    })();
  }

  /** Give a subscription's dead deliveries another `ttlMs` (after the receiver was fixed). Returns their idempotency keys. */
  redeliver(subscriptionId: string, now: number, ttlMs: number): string[] {
    return this.db.transaction(() => {
      const keys = this.stmts.deadOnes.all(subscriptionId).map((r) => r.idempotency_key);
      this.stmts.redeliver.run({ sub: subscriptionId, now, expiresAt: now + ttlMs });
      return keys;
    })();
  }

  /** A delivery's state as the delivering node reports it to the others (null: no such row). */
  outcome(idempotencyKey: string): DeliveryOutcome | null {
    const r = this.stmts.byKey.get(idempotencyKey);
    if (!r) return null;
    const { subscriptionId, state, attempts, expiresAt, nextAttemptAt, lastAttemptAt, lastStatus, lastError, finishedAt } = entryOf(r);
    return { subscriptionId, idempotencyKey, state, attempts, expiresAt, nextAttemptAt, lastAttemptAt, lastStatus, lastError, finishedAt };
  }

  /** Take what the delivering node reported: the rows now, or when this node queues them (one transaction, one fsync). */
  applyOutcomes(outcomes: readonly DeliveryOutcome[], now: number): void {
    this.db.transaction(() => {
      for (const o of outcomes) {
        this.stmts.saveOutcome.run({ key: o.idempotencyKey, sub: o.subscriptionId, outcome: JSON.stringify(o), now });
        this.stmts.applyOutcome.run(o);
      }
    })();
  }

  /** A random id made when this file was, telling this outbox's reports from every other's (a new data dir is another outbox). */
  identity(): string {
    const row = this.db.prepare<[], { id: string }>('SELECT id FROM store_identity LIMIT 1').get();
    if (row) return row.id;
    const id = randomBytes(8).toString('hex');
    this.db.prepare('INSERT INTO store_identity (id) VALUES (?)').run(id);
    return id;
  }

  drop(seq: number): void {
    this.stmts.drop.run(seq);
  }

  status(subscriptionId: string): DeliveryStatus {
    const counts = Object.fromEntries(this.stmts.counts.all(subscriptionId).map((r) => [r.state, r]));
    const head = this.stmts.head.get(subscriptionId);
    const dead = this.stmts.lastDead.get(subscriptionId);
    const last = this.stmts.lastFinished.get(subscriptionId);
    return {
      state: head && head.attempts > 0 ? 'retrying' : last?.state === 'dead' ? 'dead' : 'ok',
      pending: counts.pending?.n ?? 0,
      delivered: counts.delivered?.n ?? 0,
      dead: counts.dead?.n ?? 0,
      oldestPendingAt: counts.pending?.oldest ?? null,
      lastDeliveredAt: counts.delivered?.latest ?? null,
      head: head ? { idempotencyKey: head.idempotency_key, attempts: head.attempts, lastError: head.last_error, lastStatus: head.last_status, lastAttemptAt: head.last_attempt_at, nextAttemptAt: head.next_attempt_at } : null,
      lastDead: dead ? { idempotencyKey: dead.idempotency_key, at: dead.finished_at ?? dead.created_at, attempts: dead.attempts, error: dead.last_error } : null,
    };
  }

  /** A subscription's deliveries, newest first (the body is left out: it can be large). */
  deliveries(subscriptionId: string, state: OutboxEntry['state'] | undefined, limit: number): Omit<OutboxEntry, 'body'>[] {
    const rows = this.db
      .prepare<{ sub: string; state: string | null; limit: number }, OutboxRow>(`SELECT * FROM outbox WHERE subscription_id = @sub AND (@state IS NULL OR state = @state) ORDER BY seq DESC LIMIT @limit`)
      .all({ sub: subscriptionId, state: state ?? null, limit });
    return rows.map((r) => {
      const { body: _body, ...rest } = entryOf(r);
      return rest;
    });
  }

  depth(): { pending: number; oldestAt: number | null } {
    const r = this.stmts.depth.get();
    return { pending: r?.n ?? 0, oldestAt: r?.oldest ?? null };
  }

  /** Forget finished rows: delivered ones after `deliveredMs`, dead ones (the admin's evidence) after `deadMs`. */
  purge(now: number, deliveredMs: number, deadMs: number): number {
    this.stmts.purgeOutcomes.run(now - Math.max(deliveredMs, deadMs));
    return this.stmts.purge.run({ delivered: now - deliveredMs, dead: now - deadMs }).changes;
  }

  close(): void {
    this.db.close();
  }
}
