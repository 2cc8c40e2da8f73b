import { EventEmitter } from 'node:events';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { ClientFactory } from '../../../edge-agent/index.js';

export interface FakePublish {
  topic: string;
  body: string;
  opts: IClientPublishOptions;
}

/**
 * Just enough of MqttClient for GatewayPublisher: connect/CONNACK, publishAsync resolved on a
 * simulated PUBACK (automatic, or held until `ackAll()`), end. Records what was published and
 * how many publishes were outstanding at most.
 */
export class FakeMqttClient extends EventEmitter {
  connected = false;
  published: FakePublish[] = [];
  outstanding = 0;
  maxOutstanding = 0;
  autoAck = true;
  /** Reason to fail the next PUBACKs with (MQTT 5 reason code ≥ 0x80). */
  failWith: Error | null = null;
  /** Fail the connection attempt with this error instead of a CONNACK. */
  refuseWith: Error | null = null;
  receiveMaximum: number | undefined;
  ended: { force: boolean } | null = null;
  private held: (() => void)[] = [];

  constructor(
    readonly url: string,
    readonly options: IClientOptions,
  ) {
    super();
  }

  connect(): this {
    setImmediate(() => {
      if (this.refuseWith) return void this.emit('error', this.refuseWith);
      this.connected = true;
      this.emit('connect', { cmd: 'connack', sessionPresent: false, returnCode: 0, properties: this.receiveMaximum === undefined ? undefined : { receiveMaximum: this.receiveMaximum } });
    });
    return this;
  }

  /** Simulate a reconnect: a new CONNACK on the same client. */
  reconnectNow(): void {
    this.emit('connect', { cmd: 'connack', sessionPresent: false, returnCode: 0, properties: this.receiveMaximum === undefined ? undefined : { receiveMaximum: this.receiveMaximum } });
  }

  publishAsync(topic: string, body: string, opts: IClientPublishOptions): Promise<undefined> {
    if (this.ended) return Promise.reject(new Error('client disconnecting'));
    this.published.push({ topic, body, opts });
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    return new Promise((resolve, reject) => {
      const ack = () => {
        this.outstanding--;
        const err = this.failWith;
        if (err) reject(err);
        else resolve(undefined);
      };
      if (this.autoAck) setImmediate(ack);
      else this.held.push(ack);
    });
  }

  ackAll(): void {
    for (const ack of this.held.splice(0)) ack();
  }

  ackOne(): boolean {
    const ack = this.held.shift();
    ack?.();
    return ack !== undefined;
  }

  get heldCount(): number {
    return this.held.length;
  }

  end(force?: boolean): this {
    this.ended = { force: !!force };
    this.connected = false;
    return this;
  }

  endAsync(force?: boolean): Promise<void> {
    this.end(force);
    return Promise.resolve();
  }

  /** Published bodies on topics ending with `suffix`, parsed. */
  bodies<T = Record<string, unknown>>(suffix: string): { topic: string; body: T; opts: IClientPublishOptions }[] {
    return this.published.filter((p) => p.topic.endsWith(suffix)).map((p) => ({ topic: p.topic, body: JSON.parse(p.body) as T, opts: p.opts }));
  }
}

/** A ClientFactory that hands out fakes and remembers them; `setup` runs on each new fake. */
export function fakeFactory(setup: (c: FakeMqttClient) => void = () => undefined): { create: ClientFactory; clients: FakeMqttClient[] } {
  const clients: FakeMqttClient[] = [];
  const create: ClientFactory = (url, options) => {
    const c = new FakeMqttClient(url, options);
    setup(c);
    clients.push(c);
    return c as unknown as MqttClient;
  };
  return { create, clients };
}
