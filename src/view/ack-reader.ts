import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from 'nats';
import type { AlertManager, AlertNotifier } from '../alerts/index.js';
import type { Logger } from '../observability/index.js';
import type { PublishedTransition } from './alert-merge.js';
import { viewFilter, VIEW_ALERTS_STREAM } from './subjects.js';

/**
 * A worker's reading of acknowledgements made elsewhere (an API node, another worker's API):
 * every `acknowledged` transition in PP_VIEW_ALERTS is recorded here with its own time and
 * author (AlertManager.acknowledgedElsewhere). When this worker holds the alert (it owns the
 * device), the acknowledgement is told to its notifiers like one made through its own API: the
 * history point in InfluxDB, the live hub, and the hand-over save (the next owner has it too).
 * An alert not held here is updated in the store quietly and remembered for a later hand-over.
 *
 * An ordered consumer (no acks, nothing kept on the server) starting `sinceMs` back, so
 * acknowledgements made while this worker was down, or before it took a partition over, are heard.
 */
export class AckReader {
  private messages: ConsumerMessages | null = null;

  constructor(
    private readonly alerts: AlertManager,
    private readonly notifier: AlertNotifier,
    private readonly log: Logger,
  ) {}

  async start(js: JetStreamClient, sinceMs: number): Promise<void> {
    const consumer = await js.consumers.get(VIEW_ALERTS_STREAM, { filterSubjects: viewFilter('alerts'), deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() - sinceMs).toISOString() });
    this.messages = await consumer.consume();
    void (async () => {
      try {
        for await (const m of this.messages!) this.apply(m.data);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'acknowledgements from the view stream: reading stopped');
      }
    })();
  }

  /** One message of the alert stream; returns whether it recorded an acknowledgement here. */
  apply(data: Uint8Array): boolean {
    let msg: PublishedTransition;
    try {
      msg = JSON.parse(Buffer.from(data).toString('utf8')) as PublishedTransition;
    } catch {
      return false; // not ours to judge: API nodes count unreadable messages
    }
    const a = msg.alert;
    if (msg.v !== 1 || msg.type !== 'acknowledged' || typeof a?.id !== 'string' || typeof a.ackedAt !== 'number') return false;
    try {
      const t = this.alerts.acknowledgedElsewhere(a.id, { ackedAt: a.ackedAt, ackedBy: a.ackedBy ?? null, ackNote: a.ackNote ?? null });
      if (t) this.notifier.notify([t]);
      return t !== null;
    } catch (err) {
      this.log.error({ err: (err as Error).message, alert: a.id }, 'acknowledgement from the view stream not recorded');
      return false;
    }
  }

  stop(): void {
    this.messages?.stop();
  }
}
