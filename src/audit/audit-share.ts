import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerMessages, type NatsConnection } from 'nats';
import type { Logger } from '../observability/index.js';
import { ensureStream } from '../sources/nats/jetstream-setup.js';
import type { AuditEntry, AuditLog } from './audit-log.js';

/** The fleet's audit log: every process's entries, under `pp.audit.v1.{origin}`. */
export const AUDIT_STREAM = 'PP_AUDIT';
const AUDIT_PREFIX = 'pp.audit.v1';
const NS_PER_MS = 1_000_000;
/** Entries are shared this often (also those the CLI wrote into the data dir meanwhile). */
const SHARE_EVERY_MS = 1000;
const BATCH = 500;
/** A process not seen for this long leaves its consumer to be removed by the server. */
const CONSUMER_INACTIVE_MS = 7 * 86_400_000;

export interface AuditShareOptions {
  /** Names this process's durable consumer of the shared log. */
  nodeId: string;
  /** PP_AUDIT_RETENTION_DAYS (0: keep everything): the shared log keeps entries as long. */
  retentionMs: number;
  replicas: number;
}

const subjectOf = (origin: string) => `${AUDIT_PREFIX}.${origin}`;

/**
 * One audit log for every process of a NATS fleet (docs/security.md). Each process keeps writing
 * its own `audit.sqlite` (an action's entry is fsynced there before the API answers, as on one
 * process) and copies its new entries, in order, to the JetStream stream PP_AUDIT, where JetStream
 * refuses deletes and purges and drops entries only at the retention's end. Each process reads the
 * stream with its own durable consumer into its copy of the others' entries, so the audit query on
 * any API node answers with all of them within seconds.
 *
 * Where a process's copying goes on after a restart is read from the stream (its newest entry
 * there), so nothing is shared twice or skipped; an entry the stream already holds is stored once
 * anyway (message id = origin and entry id).
 */
export class AuditShare {
  private timer: NodeJS.Timeout | null = null;
  private sharing: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private reading: Promise<void> | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly audit: AuditLog,
    private readonly opts: AuditShareOptions,
    private readonly log: Logger,
    /** The newest of this log's entries in the stream. */
    private sharedUpTo: number,
  ) {}

  static async start(nc: NatsConnection, audit: AuditLog, opts: AuditShareOptions, log: Logger): Promise<AuditShare> {
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, {
      name: AUDIT_STREAM,
      subjects: [`${AUDIT_PREFIX}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: Math.max(0, opts.retentionMs) * NS_PER_MS,
      discard: DiscardPolicy.Old,
      // Append-only there too: no client may delete an entry or purge the stream.
      deny_delete: true,
      deny_purge: true,
      duplicate_window: 120_000 * NS_PER_MS,
      num_replicas: opts.replicas,
    });
    const last = await jsm.streams.getMessage(AUDIT_STREAM, { last_by_subj: subjectOf(audit.origin) }).catch((err: Error) => {
      if (/no message found|not found/i.test(err.message)) return null;
      throw err;
    });
    const share = new AuditShare(nc, audit, opts, log, last ? (last.json<AuditEntry>().id ?? 0) : 0);
    await share.startReading();
    audit.includeFleet();
    await share.shareNew();
    share.timer = setInterval(() => void share.shareNew(), SHARE_EVERY_MS);
    share.timer.unref();
    return share;
  }

  /** Copy this log's new entries to the stream, oldest first (never rejects; a failure is tried again next round). */
  shareNew(): Promise<void> {
    this.sharing ??= this.copy()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'audit entries not shared yet; trying again'))
      .finally(() => (this.sharing = null));
    return this.sharing;
  }

  private async copy(): Promise<void> {
    const js = this.nc.jetstream();
    // Entries older than the retention are not shared again (the stream dropped them, or would at once).
    const oldest = this.opts.retentionMs > 0 ? Date.now() - this.opts.retentionMs : Number.NEGATIVE_INFINITY;
    for (;;) {
      const entries = this.audit.after(this.sharedUpTo, BATCH);
      if (entries.length === 0) return;
      for (const e of entries) {
        if (e.ts >= oldest) await js.publish(subjectOf(this.audit.origin), JSON.stringify(e), { msgID: `${e.origin}:${e.id}` });
        this.sharedUpTo = e.id;
      }
    }
  }

  private async startReading(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    const name = `pp-audit-${this.opts.nodeId}`;
    // A new data dir holds no copy: whatever this id read before must be read again.
    if (this.audit.fleetCopyEmpty()) await jsm.consumers.delete(AUDIT_STREAM, name).catch(() => undefined);
    await jsm.consumers
      .add(AUDIT_STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1000, ack_wait: 60_000 * NS_PER_MS, inactive_threshold: CONSUMER_INACTIVE_MS * NS_PER_MS })
      .catch((err: Error) => {
        if (!/already in use|already exists/i.test(err.message)) throw err;
      });
    this.messages = await (await this.nc.jetstream().consumers.get(AUDIT_STREAM, name)).consume({ max_messages: 500 });
    const messages = this.messages;
    this.reading = (async () => {
      for await (const m of messages) {
        try {
          const e = m.json<AuditEntry>();
          if (typeof e.origin !== 'string' || typeof e.id !== 'number' || typeof e.ts !== 'number') throw new Error('not an audit entry');
          this.audit.mirror([e]);
          m.ack();
        } catch (err) {
          // The copy could not be written (disk): it comes again. An unreadable entry is logged and skipped.
          if (err instanceof SyntaxError || /not an audit entry/.test((err as Error).message)) {
            this.log.error({ err: (err as Error).message, subject: m.subject }, 'unreadable entry in the shared audit log; skipped');
            m.ack();
          } else {
            this.log.error({ err: (err as Error).message }, 'shared audit entry not copied; it comes again');
            m.nak(1000);
          }
        }
      }
    })().catch((err: Error) => this.log.error({ err: err.message }, 'shared audit log reading stopped'));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.shareNew();
    this.messages?.stop();
    await this.reading;
  }
}
