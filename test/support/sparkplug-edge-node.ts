import mqtt, { type MqttClient } from 'mqtt';
import { DataType, decodeSparkplugPayload, encodeSparkplugPayload, type OutgoingMetric } from '../../src/sources/sparkplug/index.js';

export interface SparkplugMessage {
  topic: string;
  payload: Buffer;
}

/**
 * The messages of one Sparkplug B edge node, encoded with the platform's own codec (the same
 * protobufjs schema): seq 0–255 shared by all its messages after NBIRTH, bdSeq tying its
 * NBIRTH to its NDEATH. Pure, so unit tests can feed them to the host application directly.
 */
export class EdgeNodeMessages {
  private seq = 0;

  constructor(
    readonly group: string,
    readonly node: string,
    public bdSeq = 0,
  ) {}

  private next(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  /** Lose `n` seq numbers (messages that never reached the broker). */
  skip(n = 1): void {
    this.seq = (this.seq + n) % 256;
  }

  nbirth(metrics: OutgoingMetric[] = [], ts = Date.now()): SparkplugMessage {
    this.seq = 0;
    const all: OutgoingMetric[] = [
      { name: 'bdSeq', datatype: DataType.Int64, value: this.bdSeq, timestamp: ts },
      { name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: false, timestamp: ts },
      ...metrics,
    ];
    return { topic: `spBv1.0/${this.group}/NBIRTH/${this.node}`, payload: encodeSparkplugPayload({ timestamp: ts, seq: this.next(), metrics: all }) };
  }

  /** The death certificate: the will registered at connect, so it has no seq. */
  ndeath(bdSeq = this.bdSeq, ts = Date.now()): SparkplugMessage {
    return { topic: `spBv1.0/${this.group}/NDEATH/${this.node}`, payload: encodeSparkplugPayload({ timestamp: ts, metrics: [{ name: 'bdSeq', datatype: DataType.Int64, value: bdSeq }] }) };
  }

  ndata(metrics: OutgoingMetric[], ts = Date.now()): SparkplugMessage {
    return { topic: `spBv1.0/${this.group}/NDATA/${this.node}`, payload: encodeSparkplugPayload({ timestamp: ts, seq: this.next(), metrics }) };
  }

  dbirth(device: string, metrics: OutgoingMetric[], ts = Date.now()): SparkplugMessage {
    return { topic: `spBv1.0/${this.group}/DBIRTH/${this.node}/${device}`, payload: encodeSparkplugPayload({ timestamp: ts, seq: this.next(), metrics }) };
  }

  ddata(device: string, metrics: OutgoingMetric[], ts = Date.now()): SparkplugMessage {
    return { topic: `spBv1.0/${this.group}/DDATA/${this.node}/${device}`, payload: encodeSparkplugPayload({ timestamp: ts, seq: this.next(), metrics }) };
  }

  ddeath(device: string, ts = Date.now()): SparkplugMessage {
    return { topic: `spBv1.0/${this.group}/DDEATH/${this.node}/${device}`, payload: encodeSparkplugPayload({ timestamp: ts, seq: this.next(), metrics: [] }) };
  }
}

/** True when a payload is a Sparkplug rebirth request (NCMD `Node Control/Rebirth` = true). */
export function isRebirthRequest(payload: Buffer): boolean {
  const p = decodeSparkplugPayload(payload);
  return p.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.datatype === DataType.Boolean && m.value.kind === 'boolean' && m.value.raw);
}

/** An edge node on a real broker: its NDEATH is the connection's will, as the spec requires. Publishes at QoS 0. */
export class TestEdgeNode {
  readonly messages: EdgeNodeMessages;
  readonly rebirthRequests: number[] = [];
  private constructor(
    readonly client: MqttClient,
    messages: EdgeNodeMessages,
  ) {
    this.messages = messages;
  }

  static async connect(url: string, group: string, node: string, bdSeq = 0): Promise<TestEdgeNode> {
    const messages = new EdgeNodeMessages(group, node, bdSeq);
    const will = messages.ndeath(bdSeq);
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `edge-${group}-${node}`.replace(/[^A-Za-z0-9-]/g, '_'), clean: true, will: { topic: will.topic, payload: will.payload, qos: 1, retain: false } });
    const edge = new TestEdgeNode(client, messages);
    client.on('message', (topic, payload) => {
      if (topic === `spBv1.0/${group}/NCMD/${node}` && isRebirthRequest(payload)) edge.rebirthRequests.push(Date.now());
    });
    await client.subscribeAsync(`spBv1.0/${group}/NCMD/${node}`, { qos: 0 });
    return edge;
  }

  async publish(msg: SparkplugMessage, qos: 0 | 1 = 0): Promise<void> {
    await this.client.publishAsync(msg.topic, msg.payload, { qos });
  }

  /** Drop the connection without DISCONNECT, so the broker publishes the will (NDEATH). */
  async crash(): Promise<void> {
    this.client.stream.destroy();
    await this.client.endAsync(true);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
