import { decodeHttpValue, encodeStatus, type DecodeLimits, type DecodeResult, type ErrorCode, type Rejection, type Sample, type TelemetryBatch } from '../../contract/index.js';
import type { Logger } from '../../observability/index.js';
import { BirthCertificate } from './birth-certificate.js';
import { DataType, numericValue } from './datatypes.js';
import type { DeviceStatusRegistry, SparkplugOrigin } from './device-status-registry.js';
import type { SparkplugMapping } from './mapping-file.js';
import { NodeSession, type HeldMessage, type IncomingMessage } from './node-session.js';
import { decodeSparkplugPayload, encodeSparkplugPayload, type SparkplugPayload } from './payload-codec.js';
import { ReorderBuffer, SEQ_MODULO } from './sequence.js';
import type { SparkplugMetrics } from './sparkplug-metrics.js';
import { sparkplugStatus, statusTopic, type SparkplugOfflineReason } from './status-message.js';
import { metricsToSamples, type ConvertedMetrics } from './to-samples.js';
import { nodeCommandTopic, parseSparkplugTopic } from './topic.js';

/** What the host application does to the outside world; the source wires it to MQTT and the pipeline. */
export interface HostIo {
  /** Store a batch (pipeline.ingest); resolves once it is durable. */
  ingest(batch: TelemetryBatch): Promise<void>;
  /** Count what was accepted and rejected of one message (pipeline.account). */
  account(result: DecodeResult): void;
  /** Publish to the broker (status, rebirth requests); resolves once QoS 1 is acknowledged. */
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** Republish a rejected (or partly rejected) message with the reasons. */
  deadLetter(topic: string, payload: Buffer, rejections: Rejection[]): Promise<void>;
}

export interface SparkplugHostOptions {
  mapping: SparkplugMapping;
  limits: DecodeLimits;
  /** How long a seq gap may stay open before the missing messages count as lost (the spec's Reorder Timeout). */
  reorderTimeoutMs: number;
  /** At most one rebirth request per edge node this often, so a broken node cannot start a storm. */
  rebirthMinIntervalMs: number;
}

const REBIRTH_METRIC = 'Node Control/Rebirth';
/** How many distinct log lines are remembered so as not to repeat them per message (bounded). */
const MAX_LOGGED = 1000;

/**
 * The Sparkplug B host application: births build alias maps, data is read through them, `seq`
 * is kept in order (or a rebirth is requested), deaths mark devices offline, and every accepted
 * value becomes a PlantPulse batch for the same pipeline as MQTT and HTTP.
 *
 * `receive` resolves when everything the message caused is durable (its batches stored, its
 * status and dead letter with the broker), so the source can hold back a QoS 1 acknowledgement
 * until then. State changes happen synchronously in arrival (or seq) order.
 */
export class SparkplugHost {
  private readonly sessions = new Map<string, NodeSession>();
  private readonly logged = new Set<string>();
  private closed = false;

  constructor(
    private readonly opts: SparkplugHostOptions,
    private readonly io: HostIo,
    private readonly counters: SparkplugMetrics,
    private readonly registry: DeviceStatusRegistry,
    private readonly log: Logger,
  ) {}

  receive(topic: string, raw: Buffer, receivedAt = Date.now()): Promise<void> {
    if (this.closed) return Promise.resolve();
    const parsed = parseSparkplugTopic(topic);
    if (!parsed.ok) return this.rejectMessage(topic, raw, 'PP_ERR_SPARKPLUG_TOPIC', parsed.reason);
    // Commands (ours included) and other host applications' STATE are not telemetry.
    if (parsed.type === 'STATE' || parsed.type === 'NCMD' || parsed.type === 'DCMD') return Promise.resolve();
    this.counters.messages.inc({ type: parsed.type });
    if (raw.length > this.opts.limits.maxBytes) return this.rejectMessage(topic, raw, 'PP_ERR_BODY_TOO_LARGE', `payload is ${raw.length} bytes; the limit is ${this.opts.limits.maxBytes}`);
    let payload: SparkplugPayload;
    try {
      payload = decodeSparkplugPayload(raw);
    } catch (err) {
      return this.rejectMessage(topic, raw, 'PP_ERR_SPARKPLUG_PAYLOAD', `not a Sparkplug B payload: ${(err as Error).message}`);
    }
    if (payload.seq !== undefined && !(Number.isInteger(payload.seq) && payload.seq >= 0 && payload.seq < SEQ_MODULO)) {
      return this.rejectMessage(topic, raw, 'PP_ERR_SPARKPLUG_PAYLOAD', `seq ${payload.seq} is outside 0–255`);
    }
    const ids = this.opts.mapping.ids.resolve(parsed.group, parsed.node, parsed.device);
    if (!ids.ok) {
      this.once(ids.reason, () => this.log.warn({ topic, reason: ids.reason }, 'Sparkplug message rejected: its ids do not map to valid PlantPulse ids'));
      return this.rejectMessage(topic, raw, 'PP_ERR_INVALID_ID', ids.reason);
    }
    const msg: IncomingMessage = { topic, type: parsed.type, group: parsed.group, node: parsed.node, device: parsed.device, ref: ids.ref, payload, raw, receivedAt };
    const session = this.session(parsed.group, parsed.node);
    if (msg.type === 'NBIRTH') return this.nodeBirth(session, msg);
    if (msg.type === 'NDEATH') return this.nodeDeath(session, msg);
    if (!session.online) {
      if (msg.type === 'DDEATH') return this.deviceDeath(session, msg); // a death needs no birth
      this.scheduleRebirth(session, `${msg.type} from an edge node without NBIRTH`);
      return this.rejectMessage(topic, raw, 'PP_ERR_SPARKPLUG_NO_BIRTH', `no NBIRTH from edge node ${parsed.group}/${parsed.node} since the platform started or since its NDEATH; a rebirth was requested`);
    }
    if (payload.seq === undefined || !session.order) return this.process(session, msg);
    return this.sequence(session, msg, payload.seq);
  }

  /** Stop: messages still held for reordering are stored now; then no more messages, no more timers. */
  close(): void {
    for (const s of this.sessions.values()) {
      s.clearTimers();
      this.release(s, s.order?.drain() ?? []);
    }
    this.closed = true;
  }

  private session(group: string, node: string): NodeSession {
    const key = `${group}/${node}`;
    let s = this.sessions.get(key);
    if (!s) this.sessions.set(key, (s = new NodeSession(group, node)));
    return s;
  }

  // --- ordering -------------------------------------------------------------------------------

  private sequence(session: NodeSession, msg: IncomingMessage, seq: number): Promise<void> {
    let settle!: HeldMessage['settle'];
    const done = new Promise<void>((resolve, reject) => (settle = (work) => work.then(resolve, reject)));
    const offer = session.order!.offer(seq, { msg, settle });
    if (offer.kind === 'in-order') {
      if (offer.gapClosed && session.reorderTimer) {
        clearTimeout(session.reorderTimer);
        session.reorderTimer = null;
      }
      this.release(session, offer.ready);
    } else if (offer.kind === 'late') {
      this.counters.lateMessages.inc();
      this.release(session, offer.ready);
    } else if (offer.overflow) {
      this.giveUpWaiting(session);
    } else if (offer.gapOpened) {
      session.reorderTimer = setTimeout(() => this.giveUpWaiting(session), this.opts.reorderTimeoutMs);
      session.reorderTimer.unref();
    }
    return done;
  }

  /** The Reorder Timeout passed and the gap is still open: the messages are lost; ask for a rebirth. */
  private giveUpWaiting(session: NodeSession): void {
    if (session.reorderTimer) clearTimeout(session.reorderTimer);
    session.reorderTimer = null;
    if (!session.order) return;
    const { ready, missing } = session.order.giveUp();
    if (missing > 0) {
      this.counters.seqGaps.inc();
      this.requestRebirth(session, `seq gap: ${missing} message(s) missing after ${this.opts.reorderTimeoutMs} ms`);
    }
    this.release(session, ready);
  }

  private release(session: NodeSession, items: HeldMessage[]): void {
    for (const item of items) item.settle(this.process(session, item.msg));
  }

  // --- message types --------------------------------------------------------------------------

  private process(session: NodeSession, msg: IncomingMessage): Promise<void> {
    switch (msg.type) {
      case 'DBIRTH':
        return this.deviceBirth(session, msg);
      case 'DDEATH':
        return this.deviceDeath(session, msg);
      case 'NDATA':
        return this.data(session, msg, session.nodeBirth, `NBIRTH of ${session.group}/${session.node}`);
      case 'DDATA': {
        const birth = session.deviceBirths.get(msg.device!);
        if (!birth) {
          this.scheduleRebirth(session, `DDATA for device ${msg.device} without DBIRTH`);
          return this.rejectMessage(msg.topic, msg.raw, 'PP_ERR_SPARKPLUG_NO_BIRTH', `no DBIRTH for device ${msg.device} of edge node ${session.group}/${session.node} in its current session; a rebirth was requested`);
        }
        return this.data(session, msg, birth, `DBIRTH of ${session.group}/${session.node}/${msg.device}`);
      }
      default: // NBIRTH and NDEATH are handled on arrival, never ordered
        return Promise.resolve();
    }
  }

  private nodeBirth(session: NodeSession, msg: IncomingMessage): Promise<void> {
    // Held messages were sent before this birth, under the old aliases: let them through first.
    const leftovers = session.order?.drain() ?? [];
    this.release(session, leftovers);
    session.clearTimers();
    const birth = this.birthCertificate(msg);
    session.online = true;
    session.nodeBirth = birth;
    session.deviceBirths.clear();
    session.bdSeq = bdSeqOf(msg.payload);
    session.order = msg.payload.seq !== undefined ? new ReorderBuffer((msg.payload.seq + 1) % SEQ_MODULO) : null;
    return this.birth(msg, birth, { group: msg.group, node: msg.node });
  }

  private deviceBirth(session: NodeSession, msg: IncomingMessage): Promise<void> {
    const birth = this.birthCertificate(msg);
    session.deviceBirths.set(msg.device!, birth);
    return this.birth(msg, birth, { group: msg.group, node: msg.node, device: msg.device! });
  }

  private nodeDeath(session: NodeSession, msg: IncomingMessage): Promise<void> {
    const bdSeq = bdSeqOf(msg.payload);
    if (session.bdSeq !== null && bdSeq !== null && bdSeq !== session.bdSeq) {
      // The will of an earlier connection, delivered after the node came back: not about now.
      this.counters.staleDeaths.inc();
      this.log.info({ group: msg.group, node: msg.node, bdSeq, current: session.bdSeq }, 'stale NDEATH ignored (bdSeq of an older session)');
      return Promise.resolve();
    }
    this.release(session, session.order?.drain() ?? []); // sent before the death: keep them
    session.clearTimers();
    session.online = false;
    session.nodeBirth = null;
    session.deviceBirths.clear();
    session.order = null;
    const known = this.registry.devicesOfNode(msg.group, msg.node);
    const targets = known.some((d) => d.device === msg.ref.device && d.line === msg.ref.line && d.site === msg.ref.site) ? known : [...known, { ...msg.ref, sparkplug: { group: msg.group, node: msg.node } }];
    const at = msg.payload.timestamp ?? msg.receivedAt;
    this.io.account({ batch: { ...msg.ref, seq: null, samples: [] }, rejections: [], unknownMetrics: [] });
    return Promise.all(targets.map((d) => this.goOffline(d, d.sparkplug, at, 'connection lost'))).then(() => undefined);
  }

  private deviceDeath(session: NodeSession, msg: IncomingMessage): Promise<void> {
    session.deviceBirths.delete(msg.device!);
    this.io.account({ batch: { ...msg.ref, seq: null, samples: [] }, rejections: [], unknownMetrics: [] });
    return this.goOffline(msg.ref, { group: msg.group, node: msg.node, device: msg.device! }, msg.payload.timestamp ?? msg.receivedAt, 'device lost');
  }

  private data(session: NodeSession, msg: IncomingMessage, birth: BirthCertificate | null, birthName: string): Promise<void> {
    if (!birth) return this.rejectMessage(msg.topic, msg.raw, 'PP_ERR_SPARKPLUG_NO_BIRTH', `no ${birthName}`);
    const converted = metricsToSamples(msg.payload.metrics, (m) => birth.lookup(m), msg.payload.timestamp ?? msg.receivedAt, birthName);
    if (converted.undefinedMetrics > 0) this.scheduleRebirth(session, `${converted.undefinedMetrics} metric(s) not in the ${birthName}`);
    this.registry.touch(msg.ref, msg.receivedAt);
    return this.store(msg, converted);
  }

  // --- births and deaths ----------------------------------------------------------------------

  private birthCertificate(msg: IncomingMessage): BirthCertificate {
    const birth = new BirthCertificate(msg.payload.metrics, this.opts.mapping.metrics);
    if (birth.problems.length > 0) this.log.warn({ topic: msg.topic, problems: birth.problems.slice(0, 20) }, 'Sparkplug birth has faulty metrics (they are ignored)');
    for (const note of birth.notes) this.once(`${msg.topic} ${note}`, () => this.log.info({ topic: msg.topic }, note));
    for (const warning of birth.warnings) this.once(`${msg.topic} ${warning}`, () => this.log.warn({ topic: msg.topic }, warning));
    return birth;
  }

  /** Store the birth's values (they are current readings) and announce the device online. */
  private birth(msg: IncomingMessage, birth: BirthCertificate, origin: SparkplugOrigin): Promise<void> {
    const converted = metricsToSamples(msg.payload.metrics, (_m, i) => birth.definitions[i] ?? 'ignore', msg.payload.timestamp ?? msg.receivedAt, msg.type);
    const problems: Rejection[] = birth.problems.map((p) => ({ code: 'PP_ERR_SPARKPLUG_PAYLOAD', path: `metrics[${p.index}]`, reason: p.reason }));
    this.registry.markOnline(msg.ref, origin, msg.receivedAt, birth.describe());
    const status = this.publishStatus(msg.ref, origin, msg.payload.timestamp ?? msg.receivedAt);
    return Promise.all([this.store(msg, converted, problems), status]).then(() => undefined);
  }

  private goOffline(ref: IncomingMessage['ref'], origin: SparkplugOrigin, at: number, reason: SparkplugOfflineReason): Promise<void> {
    // Only a change is announced: a repeated death must not look like a second outage.
    if (!this.registry.markOffline(ref, origin, at, reason)) return Promise.resolve();
    return this.publishStatus(ref, origin, at, reason);
  }

  private publishStatus(ref: IncomingMessage['ref'], origin: SparkplugOrigin, ts: number, offline?: SparkplugOfflineReason): Promise<void> {
    return this.io.publish(statusTopic(ref), encodeStatus(sparkplugStatus(origin, ts, offline)), { qos: 1, retain: true });
  }

  // --- storing --------------------------------------------------------------------------------

  /** Validate through the contract's decoder (as HTTP and MQTT do), count, store, dead-letter. */
  private store(msg: IncomingMessage, converted: ConvertedMetrics, extra: Rejection[] = []): Promise<void> {
    const now = Date.now();
    const rejections = [...extra, ...converted.rejections];
    const unknown = new Set<string>();
    const batches: TelemetryBatch[] = [];
    for (const [samples, historical] of [[converted.live, false], [converted.historical, true]] as const) {
      if (samples.length === 0) continue;
      const result = decodeHttpValue({ samples }, msg.ref, this.opts.limits, now);
      for (const r of result.rejections) rejections.push(relabel(r, samples));
      for (const name of result.unknownMetrics) unknown.add(name);
      // Sparkplug's seq counts messages per edge node, not per device: it is no device seq.
      if (result.batch && result.batch.samples.length > 0) batches.push({ ...result.batch, seq: null, ...(historical ? { historical: true } : {}) });
    }
    for (const [reason, n] of converted.skipped) this.counters.metricsSkipped.inc({ reason }, n);
    this.io.account({ batch: { ...msg.ref, seq: null, samples: batches.flatMap((b) => b.samples) }, rejections, unknownMetrics: [...unknown] });
    const work: Promise<unknown>[] = batches.map((b) => this.io.ingest(b).then(() => b.historical && this.counters.historicalSamples.inc(b.samples.length)));
    if (rejections.length > 0) work.push(this.io.deadLetter(msg.topic, msg.raw, rejections));
    return Promise.all(work).then(() => undefined);
  }

  private rejectMessage(topic: string, raw: Buffer, code: ErrorCode, reason: string): Promise<void> {
    const result: DecodeResult = { batch: null, rejections: [{ code, path: '$', reason }], unknownMetrics: [] };
    this.io.account(result);
    return this.io.deadLetter(topic, raw, result.rejections);
  }

  // --- rebirth --------------------------------------------------------------------------------

  /** Ask for a rebirth once the Reorder Timeout has passed (the birth may still be on its way). */
  private scheduleRebirth(session: NodeSession, why: string): void {
    if (session.rebirthTimer || this.closed) return;
    session.rebirthTimer = setTimeout(() => {
      session.rebirthTimer = null;
      this.requestRebirth(session, why);
    }, this.opts.reorderTimeoutMs);
    session.rebirthTimer.unref();
  }

  private requestRebirth(session: NodeSession, why: string): void {
    const now = Date.now();
    if (this.closed) return;
    if (now - session.lastRebirthAt < this.opts.rebirthMinIntervalMs) {
      this.log.debug({ group: session.group, node: session.node, why }, 'rebirth already requested recently');
      return;
    }
    session.lastRebirthAt = now;
    this.counters.rebirthRequests.inc();
    this.log.warn({ group: session.group, node: session.node, why }, 'requesting Sparkplug rebirth');
    const payload = encodeSparkplugPayload({ timestamp: now, metrics: [{ name: REBIRTH_METRIC, timestamp: now, datatype: DataType.Boolean, value: true }] });
    // Commands are QoS 0 in Sparkplug; a lost request is repeated at the next trigger.
    this.io.publish(nodeCommandTopic(session.group, session.node), payload, { qos: 0, retain: false }).catch((err: Error) => this.log.warn({ err: err.message }, 'rebirth request not published'));
  }

  /** Log something once, not once per message (the set is bounded: it forgets when full). */
  private once(key: string, log: () => void): void {
    if (this.logged.has(key)) return;
    if (this.logged.size >= MAX_LOGGED) this.logged.clear();
    this.logged.add(key);
    log();
  }
}

/** The bdSeq metric of an NBIRTH or NDEATH (ties a death to the birth of the same connection). */
export function bdSeqOf(payload: SparkplugPayload): number | null {
  const m = payload.metrics.find((x) => x.name === 'bdSeq');
  if (!m || m.isNull) return null;
  const v = numericValue(m.datatype ?? DataType.UInt64, m.value);
  return v.ok ? v.value : null;
}

/** Rejections of synthesized samples point at the Sparkplug timestamp, not at an index nobody sent. */
function relabel(r: Rejection, samples: readonly Sample[]): Rejection {
  if (r.sample === undefined) return r;
  const ts = samples[r.sample]?.ts;
  return { code: r.code, path: r.path.replace(/^samples\[\d+\]/, `metrics(timestamp ${ts})`), reason: r.reason };
}
