import mqtt, { type MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import type { Logger } from '../../observability/index.js';
import { createBrokerStatsMetrics, type BrokerStatsMetrics } from './broker-stats-metrics.js';

/**
 * The `$SYS` topics read, as Mosquitto 2.0 publishes them (retained, every `sys_interval`
 * seconds, 10 by default, and only when the value changed). Exact names rather than
 * `$SYS/broker/#`: the watcher receives three numbers, not the broker's fifty-odd statistics, and
 * the ACL grants these three only (deploy/mosquitto/compose.acl).
 */
export const BROKER_STAT_TOPICS = {
  dropped: '$SYS/broker/publish/messages/dropped',
  storedMessages: '$SYS/broker/store/messages/count',
  storedBytes: '$SYS/broker/store/messages/bytes',
} as const;

type BrokerStat = keyof typeof BROKER_STAT_TOPICS;
const STAT_OF_TOPIC = new Map<string, BrokerStat>(Object.entries(BROKER_STAT_TOPICS).map(([stat, topic]) => [topic, stat as BrokerStat]));

/** A `$SYS` counter's payload: a decimal whole number (Mosquitto prints `%d`/`%lu`), else null. */
export function parseBrokerStat(payload: Buffer | string): number | null {
  const text = payload.toString().trim();
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

export interface BrokerStatsOptions {
  url: string;
  username?: string;
  password?: string;
  /** Its own client id (the telemetry connection's with a suffix): a second connection, never the telemetry session. */
  clientId: string;
  /** How long to wait for a first statistic before saying, once, that the broker publishes none. */
  silenceMs?: number;
}

/**
 * Watches the broker's own queue. The platform's persistent session makes the broker queue
 * telemetry for it while it is down or its window is full; past `max_queued_bytes` /
 * `max_queued_messages` Mosquitto drops further QoS 1 messages for that client although their
 * gateways already had their PUBACK. The platform never sees those messages, so the broker's
 * counter is the only trace: it is exported as metrics and every rise is logged as an error.
 *
 * A separate connection (clean session, QoS 0, 3.1.1 so that any broker accepts it): the
 * telemetry connection, its window and its session are untouched. A broker that publishes none
 * of these topics (EMQX names them differently, aedes and NATS not at all) costs one idle
 * connection and one info line.
 */
export class BrokerStatsWatcher {
  readonly metrics: BrokerStatsMetrics;
  private client: MqttClient | null = null;
  private dropped: number | null = null;
  private heard = false;
  /** The one info line that the broker's statistics cannot be read was said. */
  private saidUnwatched = false;
  private silenceTimer: NodeJS.Timeout | null = null;
  private readonly malformed = new Set<string>();

  constructor(
    private readonly opts: BrokerStatsOptions,
    registry: Registry,
    private readonly log: Logger,
  ) {
    this.metrics = createBrokerStatsMetrics(registry);
  }

  /** Connect in the background: statistics are not worth delaying start-up or failing it. */
  start(): void {
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 10_000,
      connectTimeout: 10_000,
      keepalive: 60,
      resubscribe: false, // subscribed at every connect below
    });
    this.client = client;
    client.on('connect', () => {
      client.subscribe(Object.values(BROKER_STAT_TOPICS), { qos: 0 }, (err, granted) => {
        if (err) return this.log.debug({ err: err.message }, 'broker statistics: subscription failed');
        if (granted && granted.length > 0 && granted.every((g) => g.qos >= 0x80)) this.unwatched('the broker refuses the $SYS subscription');
      });
    });
    client.on('message', (topic, payload) => this.receive(topic, payload));
    // The telemetry connection reports the broker's availability; this one only says it at debug.
    client.on('error', (err) => this.log.debug({ err: err.message }, 'broker statistics connection error'));
    const silenceMs = this.opts.silenceMs ?? 60_000;
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = null;
      if (!this.heard) this.unwatched(`no queue statistics on $SYS within ${silenceMs / 1000} s (not Mosquitto, sys_interval 0, or the account may not read them)`, { connected: client.connected });
    }, silenceMs);
    this.silenceTimer.unref();
  }

  /** Said once, at info: a broker without these statistics is normal (EMQX, aedes, NATS), not alarming. */
  private unwatched(why: string, details: Record<string, unknown> = {}): void {
    if (this.saidUnwatched) return;
    this.saidUnwatched = true;
    this.log.info({ ...details, topics: Object.values(BROKER_STAT_TOPICS) }, `${why}: messages the broker drops cannot be seen (pp_broker_* metrics stay at 0)`);
  }

  /** One `$SYS` message (public for tests: the watcher's whole logic, without a broker). */
  receive(topic: string, payload: Buffer | string): void {
    const stat = STAT_OF_TOPIC.get(topic);
    if (!stat) return;
    const value = parseBrokerStat(payload);
    if (value === null) {
      // Said once per topic: the broker repeats it every interval.
      if (!this.malformed.has(topic)) {
        this.malformed.add(topic);
        this.log.warn({ topic, payload: payload.toString().slice(0, 64) }, 'broker statistic is not a whole number; ignored');
      }
      return;
    }
    this.heard = true;
    this.metrics[stat].set(value);
    if (stat === 'dropped') this.droppedIs(value);
  }

  /**
   * The broker's counter is since its start: the first value seen, or a lower one (the broker
   * restarted), is a new base; drops in it happened before this connection saw them (possibly
   * while the platform was down, the usual way a queue overflows), so they are reported too.
   */
  private droppedIs(value: number): void {
    const before = this.dropped;
    this.dropped = value;
    const rebased = before === null || value < before;
    const increase = rebased ? value : value - before;
    if (increase <= 0) return;
    this.log.error(
      { droppedMessages: increase, brokerDroppedTotal: value, ...(rebased ? { sinceBrokerStart: true } : {}) },
      `the broker dropped ${increase} message(s)${rebased ? ' since it started (before the platform was watching)' : ''}: a client's queue limit was reached (Mosquitto max_queued_bytes / max_queued_messages), most likely this platform's persistent session while it was down or its window was full. Those messages were acknowledged to their gateways and are lost. Raise max_queued_bytes (and the broker's memory) or add platform capacity`,
    );
  }

  async stop(): Promise<void> {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    const client = this.client;
    this.client = null;
    await client?.endAsync(true);
  }
}
