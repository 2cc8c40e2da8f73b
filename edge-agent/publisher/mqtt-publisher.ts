import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { deviceTopic, deviceKey, type DeviceRef, type Sample, type TelemetryPayload } from '../../src/contract/index.js';
import { Semaphore } from './semaphore.js';

export const AGENT_VERSION = '0.1.0';

export interface GatewayOptions {
  brokerUrl: string;
  /** Gateway id: MQTT client id and the `{device}` level of the gateway status topic. */
  gatewayId: string;
  site: string;
  devices: DeviceRef[];
  username?: string;
  password?: string;
  /** 5 (default) for Mosquitto/EMQX; 4 (MQTT 3.1.1) for the embedded aedes broker. */
  protocolVersion?: 4 | 5;
  /** Most publishes waiting for PUBACK at once. */
  maxInFlight?: number;
  logger?: Logger;
}

/** `pp/v1/{site}/_gateway/{gatewayId}/status`: the gateway's own retained status (and last will). */
export function gatewayStatusTopic(site: string, gatewayId: string): string {
  return deviceTopic({ site, line: '_gateway', device: gatewayId }, 'status');
}

/**
 * One gateway's MQTT connection. Publishes batches at QoS 1 with a per-device `seq` (+1 per
 * message), and retained status: birth (`online`) for the gateway and each device on every
 * connect, `offline` on a clean stop, and the broker publishes the last will (`offline`,
 * reason `connection lost`) on the gateway topic when the connection dies.
 */
export class GatewayPublisher {
  readonly client: MqttClient;
  private readonly seq = new Map<string, number>();
  private readonly window: Semaphore;
  messagesAcked = 0;
  samplesAcked = 0;

  constructor(private readonly opts: GatewayOptions) {
    this.window = new Semaphore(opts.maxInFlight ?? 100);
    const v5 = (opts.protocolVersion ?? 5) === 5;
    this.client = mqtt.connect(opts.brokerUrl, {
      clientId: opts.gatewayId,
      username: opts.username,
      password: opts.password,
      protocolVersion: v5 ? 5 : 4,
      clean: true,
      reconnectPeriod: 1000,
      manualConnect: true,
      will: {
        topic: gatewayStatusTopic(opts.site, opts.gatewayId),
        payload: Buffer.from(JSON.stringify({ state: 'offline', reason: 'connection lost', gateway: opts.gatewayId })),
        qos: 1,
        retain: true,
      },
    });
    this.client.on('connect', () => void this.publishBirth());
    this.client.on('error', (err) => opts.logger?.warn({ err: err.message, gateway: opts.gatewayId }, 'mqtt error'));
  }

  async connect(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`gateway ${this.opts.gatewayId}: cannot connect to ${this.opts.brokerUrl}: ${err.message}`));
      this.client.once('error', onError);
      this.client.once('connect', () => {
        this.client.off('error', onError);
        resolve();
      });
      this.client.connect();
    });
  }

  private async publishBirth(): Promise<void> {
    const ts = Date.now();
    const gateway = { state: 'online', ts, gateway: this.opts.gatewayId, agent: { version: AGENT_VERSION }, devices: this.opts.devices.map((d) => `${d.line}/${d.device}`) };
    try {
      await this.client.publishAsync(gatewayStatusTopic(this.opts.site, this.opts.gatewayId), JSON.stringify(gateway), { qos: 1, retain: true });
      await Promise.all(this.opts.devices.map((d) => this.client.publishAsync(deviceTopic(d, 'status'), JSON.stringify({ state: 'online', ts, gateway: this.opts.gatewayId }), { qos: 1, retain: true })));
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message }, 'birth publish failed');
    }
  }

  /** Next seq for a device (the first message carries 0). */
  private nextSeq(ref: DeviceRef): number {
    const key = deviceKey(ref);
    const seq = this.seq.get(key) ?? 0;
    this.seq.set(key, seq + 1);
    return seq;
  }

  get inFlight(): number {
    return this.window.inUse;
  }

  /** Publish one batch for one device; resolves on PUBACK. Waits while the window is full. */
  async publish(ref: DeviceRef, samples: Sample[]): Promise<number> {
    const payload: TelemetryPayload = { seq: this.nextSeq(ref), samples };
    await this.window.acquire();
    try {
      await this.client.publishAsync(deviceTopic(ref, 'metrics'), JSON.stringify(payload), { qos: 1 });
      this.messagesAcked++;
      this.samplesAcked += samples.length;
      return payload.seq;
    } finally {
      this.window.release();
    }
  }

  /** Clean stop: retained `offline` statuses, then disconnect (no last will). */
  async stop(): Promise<void> {
    const ts = Date.now();
    if (this.client.connected) {
      const offline = (extra: object) => JSON.stringify({ state: 'offline', reason: 'stopped', ts, gateway: this.opts.gatewayId, ...extra });
      await Promise.all([
        ...this.opts.devices.map((d) => this.client.publishAsync(deviceTopic(d, 'status'), offline({}), { qos: 1, retain: true })),
        this.client.publishAsync(gatewayStatusTopic(this.opts.site, this.opts.gatewayId), offline({}), { qos: 1, retain: true }),
      ]).catch(() => undefined);
    }
    await this.client.endAsync();
  }
}
