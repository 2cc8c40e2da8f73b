import mqtt, { type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
  /** Arrival order across all topics. */
  n: number;
}

export interface Subscriber {
  client: MqttClient;
  messages: Received[];
  on(topicSuffix: string): Received[];
  close(): Promise<void>;
}

/**
 * An MQTT 5 subscriber that records everything under `filter`. `rap` (retain as published, an
 * MQTT 5 subscription option) keeps the RETAIN flag on live messages, so births can be checked
 * as retained as they happen; without it only retained messages replayed on subscribe carry it.
 */
export async function subscribe(url: string, filter: string, opts: { rap?: boolean } = {}): Promise<Subscriber> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `sub-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 0 });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain, n: messages.length }));
  await client.subscribeAsync(filter, { qos: 1, rap: opts.rap ?? false });
  return {
    client,
    messages,
    on: (suffix) => messages.filter((m) => m.topic.endsWith(suffix)),
    close: () => client.endAsync(),
  };
}

/** The retained messages under `filter` right now: subscribe, collect for a moment, leave. */
export async function retained(url: string, filter: string, settleMs = 300): Promise<Map<string, Received>> {
  const sub = await subscribe(url, filter);
  await new Promise((r) => setTimeout(r, settleMs));
  await sub.close();
  return new Map(sub.messages.filter((m) => m.retain).map((m) => [m.topic, m]));
}
