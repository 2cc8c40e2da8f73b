import type { BirthCertificate } from './birth-certificate.js';
import type { SparkplugPayload } from './payload-codec.js';
import type { ReorderBuffer } from './sequence.js';
import type { DeviceRef } from '../../contract/index.js';
import type { DeviceMessageType, NodeMessageType } from './topic.js';

/** A Sparkplug message whose topic, payload and ids have been checked. */
export interface IncomingMessage {
  topic: string;
  type: NodeMessageType | DeviceMessageType;
  group: string;
  node: string;
  device?: string;
  /** The PlantPulse device it maps to (`_node` for the edge node's own metrics). */
  ref: DeviceRef;
  payload: SparkplugPayload;
  raw: Buffer;
  receivedAt: number;
}

/** A message held for reordering, and how to tell its sender (the ack) when it is done. */
export interface HeldMessage {
  msg: IncomingMessage;
  settle(work: Promise<void>): void;
}

/**
 * What the host application knows about one edge node (keyed by group_id/edge_node_id) for
 * the current session, i.e. since its last NBIRTH.
 */
export class NodeSession {
  /** An NBIRTH was seen and no NDEATH since. */
  online = false;
  /** bdSeq of the last NBIRTH; an NDEATH with another bdSeq belongs to an older session. */
  bdSeq: number | null = null;
  nodeBirth: BirthCertificate | null = null;
  /** device_id → its DBIRTH, for devices born in this session. */
  readonly deviceBirths = new Map<string, BirthCertificate>();
  /** Null when the NBIRTH carried no seq (nothing to order by). */
  order: ReorderBuffer<HeldMessage> | null = null;
  reorderTimer: NodeJS.Timeout | null = null;
  rebirthTimer: NodeJS.Timeout | null = null;
  lastRebirthAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly group: string,
    readonly node: string,
  ) {}

  clearTimers(): void {
    if (this.reorderTimer) clearTimeout(this.reorderTimer);
    if (this.rebirthTimer) clearTimeout(this.rebirthTimer);
    this.reorderTimer = null;
    this.rebirthTimer = null;
  }
}
