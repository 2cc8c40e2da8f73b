/**
 * What a plant manager and a regulator see, timed: a WebSocket dashboard client of the live hub
 * (`/api/v1/live`), and an MQTT subscriber of the alert topic. Both run in the harness process
 * on the same clock as the fleet that stamps the samples, so latencies need no clock sync.
 */
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';

/**
 * End-to-end latency: newest sample timestamp of a message (stamped by the fleet when it built
 * the message) → the live hub's telemetry message for it arriving on a subscribed WebSocket.
 */
export class LiveWatcher {
  private ws: WebSocket | null = null;
  private recording = false;
  private since = 0;
  latencies: number[] = [];
  received = 0;

  async connect(httpUrl: string, token: string, sites?: string[]): Promise<void> {
    const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/api/v1/live`, { headers: { authorization: `Bearer ${token}` } });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`live hub closed the connection: ${code} ${reason.toString()}`)));
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; ts?: number };
        if (msg.type === 'subscribed') resolve();
        if (msg.type !== 'telemetry' || msg.ts === undefined) return;
        this.received++;
        // The first message after subscribing replays the latest values: not a measurement.
        if (this.recording && msg.ts >= this.since) this.latencies.push(Date.now() - msg.ts);
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', ...(sites ? { sites } : {}) })));
    });
  }

  /** Start collecting latencies of samples stamped from now on. */
  record(): void {
    this.latencies = [];
    this.since = Date.now();
    this.recording = true;
  }

  pause(): number[] {
    this.recording = false;
    return this.latencies;
  }

  close(): void {
    this.ws?.close();
  }
}

interface AlertMessage {
  type: string;
  alert: { site: string; line: string; device: string; rule: string };
}

/** Alert latency: a fault sample's timestamp → the alert `opened` on `pp/v1/+/+/+/alerts`. */
export class AlertWatcher {
  private client: MqttClient | null = null;
  private readonly injected = new Map<string, number>();
  latencies: number[] = [];

  async connect(brokerUrl: string): Promise<void> {
    const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-alerts-${process.pid}`, protocolVersion: 5, clean: true });
    this.client = client;
    client.on('message', (_topic, payload) => {
      const msg = JSON.parse(payload.toString()) as AlertMessage;
      if (msg.type !== 'opened') return;
      const key = `${msg.alert.site}/${msg.alert.line}/${msg.alert.device}`;
      const ts = this.injected.get(key);
      if (ts === undefined) return;
      this.injected.delete(key); // the first alert of the fault counts (warning and critical both open)
      this.latencies.push(Date.now() - ts);
    });
    await client.subscribeAsync('pp/v1/+/+/+/alerts', { qos: 1 });
  }

  expect(deviceKey: string, faultTs: number): void {
    this.injected.set(deviceKey, faultTs);
  }

  /** Faults whose alert has not been seen (yet). */
  get missing(): number {
    return this.injected.size;
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}
