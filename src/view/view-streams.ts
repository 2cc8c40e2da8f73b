import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { ensureStream } from '../sources/nats/jetstream-setup.js';
import { viewFilter, VIEW_ALERTS_STREAM, VIEW_STATE_STREAM } from './subjects.js';

const NS_PER_MS = 1_000_000;

export interface ViewStreamsLayout {
  /** How long alert transitions are kept: an API node started (or wiped) later catches up this far back. */
  alertRetentionMs: number;
  replicas: number;
}

/**
 * The two streams of the read side, made (or updated) by every worker and API node at start;
 * safe to run by many at once. File storage, so an API node that starts late or restarts reads
 * what it missed. Duplicates published within two minutes with the same message id (a worker's
 * retry after a lost publish acknowledgement) are stored once.
 */
export async function ensureViewStreams(jsm: JetStreamManager, layout: ViewStreamsLayout): Promise<void> {
  const alerts: Partial<StreamConfig> = {
    name: VIEW_ALERTS_STREAM,
    subjects: [viewFilter('alerts')],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: layout.alertRetentionMs * NS_PER_MS,
    discard: DiscardPolicy.Old,
    duplicate_window: 120_000 * NS_PER_MS,
    num_replicas: layout.replicas,
  };
  const state: Partial<StreamConfig> = {
    name: VIEW_STATE_STREAM,
    subjects: [viewFilter('quality')],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // Like a key-value bucket: each device's newest status is all an API node needs.
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    num_replicas: layout.replicas,
  };
  for (const config of [alerts, state]) await ensureStream(jsm, config);
}
