import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager, type StreamConfig } from 'nats';
import { consumerName, DEAD_LETTER_STREAM, filterSubject, ownershipUnits, PARTITION_PREFIX, TELEMETRY_STREAM, UNMAPPED_SUBJECTS } from './subjects.js';

export interface JetStreamLayout {
  partitions: number;
  /** max_ack_pending of each consumer: messages delivered to the owner and not yet acked. */
  window: number;
  /** A message not acked this long after delivery is delivered again (to whoever owns its partition then). */
  ackWaitMs: number;
  deadLetterPrefix: string;
  /** Replicas of the streams (1 on one server, 3 on a 3-node cluster). */
  replicas: number;
}

const NS_PER_MS = 1_000_000;

/**
 * The streams and durable consumers the JetStream source reads, made at start-up by every worker
 * and safe to run any number of times, by any number of workers at once: a stream or consumer that
 * exists is updated to this configuration (window and ack wait can be changed by restarting with
 * new values); one whose filter says another partition count was set up before is an error,
 * not something to paper over, since devices would then be in partitions nobody reads.
 *
 * The telemetry stream is a work queue: a message is removed once its consumer acked it, i.e.
 * once its data is durable in InfluxDB or the spool, so the stream holds only what is not yet.
 */
export async function ensureJetStream(jsm: JetStreamManager, layout: JetStreamLayout): Promise<void> {
  const telemetry: Partial<StreamConfig> = {
    name: TELEMETRY_STREAM,
    subjects: [`${PARTITION_PREFIX}.>`, UNMAPPED_SUBJECTS],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New, // full: refuse new messages (gateways keep them) rather than drop stored ones
    num_replicas: layout.replicas,
  };
  const deadLetters: Partial<StreamConfig> = {
    name: DEAD_LETTER_STREAM,
    subjects: [`${layout.deadLetterPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 30 * 24 * 3600 * 1000 * NS_PER_MS,
    discard: DiscardPolicy.Old,
    num_replicas: layout.replicas,
  };
  for (const config of [telemetry, deadLetters]) await ensureStream(jsm, config);

  const existing = new Map<string, string | undefined>();
  for await (const c of jsm.consumers.list(TELEMETRY_STREAM)) existing.set(c.name, c.config.filter_subject);
  const wanted = new Map(ownershipUnits(layout.partitions).map((u) => [consumerName(u), filterSubject(u)]));
  for (const [name, filter] of existing) {
    if (wanted.get(name) !== filter) {
      throw new Error(`JetStream stream ${TELEMETRY_STREAM} has a consumer ${name} (filter ${filter ?? 'none'}) that does not fit PP_NATS_PARTITIONS=${layout.partitions}; the partition count must match the server's mapping and cannot change under existing consumers (docs/scale-out.md)`);
    }
  }
  for (const [name, filter] of wanted) {
    const config: Partial<ConsumerConfig> = {
      durable_name: name,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: layout.window,
      ack_wait: layout.ackWaitMs * NS_PER_MS,
    };
    if (existing.has(name)) await jsm.consumers.update(TELEMETRY_STREAM, name, { max_ack_pending: layout.window, ack_wait: config.ack_wait });
    else await addOrAccept(() => jsm.consumers.add(TELEMETRY_STREAM, config));
  }
}

/** Make a stream, or update it to `config` (also used by the read side, src/view/). */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig>): Promise<void> {
  const name = config.name!;
  const info = await jsm.streams.info(name).catch((err: Error) => {
    if (/stream not found/i.test(err.message)) return null;
    throw err;
  });
  if (!info) return addOrAccept(() => jsm.streams.add(config));
  await jsm.streams.update(name, { ...info.config, ...config });
}

/** Another worker starting at the same moment may have made it first: that is fine. */
async function addOrAccept(add: () => Promise<unknown>): Promise<void> {
  try {
    await add();
  } catch (err) {
    if (!/already in use|already exists/i.test((err as Error).message)) throw err;
  }
}
