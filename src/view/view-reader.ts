import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg, type NatsConnection, type Subscription } from 'nats';
import type { AlertManager, AlertNotifier } from '../alerts/index.js';
import type { LiveHub } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { AlertView } from './alert-view.js';
import type { LiveSummary } from './live-publisher.js';
import type { PublishedStatus } from './quality-publisher.js';
import type { QualityView } from './quality-view.js';
import { alertConsumerName, refOfViewSubject, viewFilter, VIEW_ALERTS_STREAM, VIEW_STATE_STREAM } from './subjects.js';
import type { ViewMetrics } from './view-metrics.js';

const NS_PER_MS = 1_000_000;
/** A node id not seen for this long leaves its consumer to be removed by the server. */
const CONSUMER_INACTIVE_MS = 7 * 86_400_000;

export interface ViewReaderDeps {
  nc: NatsConnection;
  /** Names this node's durable consumer: keep it across restarts to resume where it stopped. */
  nodeId: string;
  alerts: AlertManager;
  /** Told what each alert transition changed here (live hub, webhooks). */
  notifier: AlertNotifier;
  live: LiveHub;
  quality: QualityView;
  metrics: ViewMetrics;
  log: Logger;
}

/**
 * An API node's reading of what workers publish (docs/scale-out.md, One view):
 * - alert transitions through a durable consumer of PP_VIEW_ALERTS named after the node, acked
 *   once merged (alert-view.ts): a restarted node resumes where it stopped, a new one (or one
 *   whose alert store is empty: a new data dir) reads the whole stream;
 * - device status from PP_VIEW_STATE, each device's newest message first, then as it comes;
 * - live summaries (core NATS) into the live hub, as stored batches would on a single process.
 */
export class ViewReader {
  private alertMessages: ConsumerMessages | null = null;
  private stateMessages: ConsumerMessages | null = null;
  private liveSub: Subscription | null = null;
  private lastPending = 0;
  private caughtUpOnce = false;
  private readonly alertView: AlertView;

  constructor(private readonly deps: ViewReaderDeps) {
    this.alertView = new AlertView(deps.alerts, deps.notifier, deps.metrics, deps.log);
  }

  /** Alert transitions in the stream this node has not read yet (as of the last one read). */
  get pending(): number {
    return this.lastPending;
  }

  /** Whether this node has read the alert stream to its end at least once since start (until then its list is incomplete). */
  get caughtUp(): boolean {
    return this.caughtUpOnce;
  }

  async start(): Promise<void> {
    const { nc, log } = this.deps;
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    const name = alertConsumerName(this.deps.nodeId);
    if (this.deps.alerts.query({ limit: 1 }).length === 0) {
      // Nothing here yet: whatever this id read before (another data dir) must be read again.
      await jsm.consumers.delete(VIEW_ALERTS_STREAM, name).catch(() => undefined);
    }
    await jsm.consumers
      .add(VIEW_ALERTS_STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1000, ack_wait: 60_000 * NS_PER_MS, inactive_threshold: CONSUMER_INACTIVE_MS * NS_PER_MS })
      .catch((err: Error) => {
        if (!/already in use|already exists/i.test(err.message)) throw err;
      });
    const info = await jsm.consumers.info(VIEW_ALERTS_STREAM, name);
    this.lastPending = info.num_pending + info.num_ack_pending;
    this.caughtUpOnce = this.lastPending === 0;
    this.alertMessages = await (await js.consumers.get(VIEW_ALERTS_STREAM, name)).consume({ max_messages: 500 });
    void this.readAlerts(this.alertMessages);

    // One filter as a string: NATS 2.9 knows no filter lists, and its ordered consumer then never starts.
    const state = await js.consumers.get(VIEW_STATE_STREAM, { filterSubjects: viewFilter('quality'), deliver_policy: DeliverPolicy.LastPerSubject });
    this.stateMessages = await state.consume();
    void this.read(this.stateMessages, 'quality', (m) => {
      const ref = refOfViewSubject(m.subject);
      if (ref && this.deps.quality.apply(ref, JSON.parse(Buffer.from(m.data).toString('utf8')) as PublishedStatus)) this.deps.metrics.applied.inc({ kind: 'quality' });
      else this.deps.metrics.ignored.inc({ kind: 'quality' });
    });

    this.liveSub = nc.subscribe(viewFilter('live'), {
      callback: (err, m) => {
        if (err) return log.warn({ err: err.message }, 'live view subscription');
        const ref = refOfViewSubject(m.subject);
        try {
          const s = JSON.parse(Buffer.from(m.data).toString('utf8')) as LiveSummary;
          if (!ref || typeof s.ts !== 'number' || typeof s.m !== 'object' || s.m === null) throw new Error('not a live summary');
          this.deps.live.publish({ ...ref, seq: null, samples: [{ ts: s.ts, m: s.m }] });
          this.deps.metrics.applied.inc({ kind: 'live' });
        } catch {
          this.deps.metrics.ignored.inc({ kind: 'live' });
        }
      },
    });
    log.info({ node: this.deps.nodeId, pending: this.lastPending }, 'reading the fleet\'s view from NATS');
  }

  /**
   * Alert transitions in batches: the messages the consumer hands over in one burst (its
   * buffered ones come a microtask apart) are applied together once the burst is over
   * (setImmediate), then acked; a batch that fails is nak'ed to come again.
   */
  private async readAlerts(messages: ConsumerMessages): Promise<void> {
    let batch: JsMsg[] = [];
    const flush = () => {
      const msgs = batch;
      batch = [];
      try {
        this.alertView.apply(
          msgs.map((m) => m.data),
          msgs.map((m) => m.seq),
        );
        for (const m of msgs) m.ack();
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message, messages: msgs.length }, 'alert transitions not applied; they come again');
        for (const m of msgs) m.nak(1000);
      }
      this.lastPending = msgs.at(-1)!.info.pending;
      if (this.lastPending === 0) this.caughtUpOnce = true;
    };
    try {
      for await (const m of messages) {
        if (batch.push(m) === 1) setImmediate(flush);
      }
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'alert stream reading stopped');
    }
  }

  /** One message at a time (the state consumer is ordered: no acks). */
  private async read(messages: ConsumerMessages, kind: 'quality', apply: (m: JsMsg) => void): Promise<void> {
    try {
      for await (const m of messages) {
        try {
          apply(m);
        } catch (err) {
          this.deps.log.error({ err: (err as Error).message, kind, subject: m.subject }, 'view message not applied');
          this.deps.metrics.ignored.inc({ kind });
        }
      }
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message, kind }, 'view stream reading stopped');
    }
  }

  async stop(): Promise<void> {
    this.alertMessages?.stop();
    this.stateMessages?.stop();
    this.liveSub?.unsubscribe();
  }
}
