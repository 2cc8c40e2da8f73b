import { maskUrlQuery, type Logger } from '../observability/index.js';
import { parseRetryAfter, retryDelayMs } from '../retry/index.js';
import { ATTEMPT_HEADER, EVENT_HEADER, IDEMPOTENCY_HEADER, signatureOf, SIGNATURE_HEADER, standardHeaders, SUBSCRIPTION_HEADER, TIMESTAMP_HEADER } from './signature.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { OutboxEntry, WebhookStore } from './webhook-store.js';

export interface DeliveryOptions {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A delivery still failing this long after its transition entered the outbox is dead. */
  deadAfterMs: number;
  /** Subscriptions delivered to at once; within one, strictly one at a time. */
  concurrency: number;
}

const USER_AGENT = 'PlantPulse-Webhooks/1';
/** Finished rows kept for the admin: delivered a week, dead a month. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;
const KEEP_DEAD_MS = 30 * 86_400_000;
const PURGE_EVERY_MS = 3_600_000;

/**
 * With several API nodes (src/view/webhook-sharing.ts): only the node holding the delivery lease
 * sends, and it tells the others what became of each delivery.
 */
export interface DeliveryGate {
  /** Whether this node may start a delivery now. */
  mayDeliver(): boolean;
  /** These deliveries changed state here (attempted, delivered, dead, redelivered): tell the other nodes. */
  changed(idempotencyKeys: readonly string[]): void;
  /**
   * Resolves once the other nodes can see this delivery's latest change (or the gate stopped
   * waiting): a delivered one is awaited before the subscription's next delivery starts.
   */
  shared(idempotencyKey: string): Promise<void>;
}

/** A short, log-safe reason for a failed attempt (no response bodies: they are the receiver's). */
function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/**
 * Delivers the outbox: picks the head of each subscription that is due, POSTs it signed, and
 * records the outcome (delivered; retry later with backoff; dead). It wakes up when something
 * is enqueued or a retry falls due, never polls an empty outbox. In-flight deliveries are
 * aborted on stop and stay pending, to be sent again after the restart (same idempotency key).
 */
export class DeliveryWorker {
  private readonly busy = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private stopped = true;
  private readonly abort = new AbortController();
  private lastPurge = 0;
  private gate: DeliveryGate | null = null;

  constructor(
    private readonly store: WebhookStore,
    private readonly opts: DeliveryOptions,
    private readonly metrics: WebhookMetrics,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    this.stopped = false;
    this.wake(0);
  }

  /** From now on deliver only while the gate allows it, and report each outcome to it. */
  setGate(gate: DeliveryGate): void {
    this.gate = gate;
  }

  /** Resolves once the deliveries in flight now have finished (a node handing delivery over). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.busy.values()]);
  }

  /** Something was enqueued (or a delivery finished): look again now. */
  kick(): void {
    this.wake(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await Promise.allSettled([...this.busy.values()]);
  }

  private wake(inMs: number): void {
    if (this.stopped) return;
    const at = this.clock() + inMs;
    if (this.timer && at >= this.wakeAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.run();
    }, Math.max(0, inMs));
  }

  private run(): void {
    if (this.stopped) return;
    const now = this.clock();
    try {
      // Another API node delivers: this one only keeps its outbox (the reports it applies kick it,
      // so it still purges; the gate kicks it when the lease comes here).
      if (!this.gate || this.gate.mayDeliver()) this.deliverDue(now);
      if (now - this.lastPurge > PURGE_EVERY_MS) {
        this.lastPurge = now;
        this.store.purge(now, KEEP_DELIVERED_MS, KEEP_DEAD_MS);
      }
    } catch (err) {
      // SQLite trouble (disk): nothing is lost (rows stay pending); look again in a while.
      this.log.error({ err }, 'webhook outbox unreadable; retrying in 5 s');
      this.wake(5000);
    }
  }

  private deliverDue(now: number): void {
    const free = this.opts.concurrency - this.busy.size;
    if (free > 0) {
      for (const entry of this.store.dueHeads(now, [...this.busy.keys()], free)) {
        const delivery = this.deliver(entry).then(
          () => {
            this.busy.delete(entry.subscriptionId);
            this.kick();
          },
          (err: unknown) => {
            // The outbox could not record the outcome (disk trouble): the row stays pending and
            // is sent again, but not in a tight loop.
            this.log.error({ err, subscription: entry.subscriptionId }, 'webhook outbox update failed; retrying in 5 s');
            this.busy.delete(entry.subscriptionId);
            this.wake(5000);
          },
        );
        this.busy.set(entry.subscriptionId, delivery);
      }
    }
    const next = this.store.nextAttemptAt([...this.busy.keys()]);
    if (next !== null) this.wake(Math.max(0, next - now));
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const target = this.store.target(entry.subscriptionId);
    if (!target) return this.store.drop(entry.seq); // deleted meanwhile
    const attempt = entry.attempts + 1;
    const timestamp = String(Math.floor(this.clock() / 1000));
    let status: number | null = null;
    let error: string;
    let askedDelay: number | undefined;
    // One controller per attempt, with a timer we own and clear. Not
    // AbortSignal.any([AbortSignal.timeout(ms), stop]): on Node 20 the timeout signal inside the
    // composite can be garbage collected and never fire (nodejs/node#57736), and a receiver that
    // answers late was then waited for indefinitely (seen in the webhook delivery test).
    const attemptAbort = new AbortController();
    const timer = setTimeout(() => attemptAbort.abort(new DOMException(`no answer within ${this.opts.timeoutMs} ms`, 'TimeoutError')), this.opts.timeoutMs);
    const onStop = () => attemptAbort.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        body: entry.body,
        // A redirect is a failure: following it would send the signed alert somewhere unvetted.
        redirect: 'manual',
        signal: attemptAbort.signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': USER_AGENT,
          [IDEMPOTENCY_HEADER]: entry.idempotencyKey,
          [EVENT_HEADER]: entry.event,
          [SUBSCRIPTION_HEADER]: entry.subscriptionId,
          [ATTEMPT_HEADER]: String(attempt),
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signatureOf(target.secret, timestamp, entry.body),
          // Standard Webhooks: the idempotency key is the message id, so a receiver's library deduplicates with it too.
          ...standardHeaders(target.secret, entry.idempotencyKey, timestamp, entry.body),
        },
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (status >= 200 && status < 300) {
        const now = this.clock();
        this.store.markDelivered(entry.seq, now, status);
        this.metrics.deliveries.inc({ outcome: 'delivered' });
        this.metrics.latency.observe(Math.max(0, now - entry.createdAt) / 1000);
        // The subscription's next delivery waits until the other API nodes know this one was
        // delivered: a node taking over after a crash then repeats at most the one in flight.
        this.gate?.changed([entry.idempotencyKey]);
        await this.gate?.shared(entry.idempotencyKey);
        return;
      }
      error = `HTTP ${status}`;
      askedDelay = parseRetryAfter(res.headers.get('retry-after'), this.clock());
    } catch (err) {
      // Stopping: not the receiver's failure; the row stays pending for the next run.
      if (this.stopped) return;
      // Shown by the API and logged: never with the URL's query values.
      error = describeFailure(err, this.opts.timeoutMs).split(target.url).join(maskUrlQuery(target.url));
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onStop);
    }
    this.failed(entry, attempt, status, error, askedDelay);
  }

  private failed(entry: OutboxEntry, attempt: number, status: number | null, error: string, askedDelay: number | undefined): void {
    const now = this.clock();
    if (now >= entry.expiresAt) {
      const reason = `not delivered within ${Math.round(this.opts.deadAfterMs / 1000)} s (PP_WEBHOOK_DEAD_AFTER_S) after ${attempt} attempts; last: ${error}`;
      const died = this.store.markDead(entry, now, status, reason);
      this.gate?.changed(died);
      this.metrics.deliveries.inc({ outcome: 'dead' }, died.length);
      this.log.warn({ subscription: entry.subscriptionId, key: entry.idempotencyKey, died: died.length, reason }, 'webhook delivery dead');
      return;
    }
    const delay = retryDelayMs(attempt, { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryMaxMs, jitter: 'equal' }, askedDelay);
    this.store.markRetry(entry.seq, now, now + delay, status, error);
    this.gate?.changed([entry.idempotencyKey]);
    this.metrics.deliveries.inc({ outcome: 'retried' });
    this.log.debug({ subscription: entry.subscriptionId, key: entry.idempotencyKey, attempt, error, delayMs: delay }, 'webhook delivery failed; will retry');
  }
}
