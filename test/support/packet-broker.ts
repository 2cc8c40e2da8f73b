import { createServer, type AddressInfo, type Socket } from 'node:net';
import { generate, parser, type IPublishPacket, type Packet } from 'mqtt-packet';

/**
 * A scripted MQTT 5 broker on a real TCP socket, for packet-level tests of what the platform's
 * client sends and when (a real broker hides both). It answers CONNECT and SUBSCRIBE, records
 * every packet the client sends, and publishes only when the test says so: as fast as it likes
 * (`blast`, a broker ignoring receive-maximum) or within the client's receive-maximum (`honour`).
 */
export class PacketBroker {
  /** Every packet from the client, in arrival order. */
  readonly received: Packet[] = [];
  private socket: Socket | null = null;
  private nextId = 1;
  private receiveMaximum = 65535;
  /** Messages published and not yet acknowledged (honour mode sends more only below the limit). */
  private unacked = 0;
  private backlog: Buffer[] = [];
  private mode: 'blast' | 'honour' = 'blast';
  /** Send the PUBACK for the client's own publications after this many more of our messages. */
  ackOwnAfter = 0;
  private connected: () => void = () => undefined;
  readonly clientConnected = new Promise<void>((r) => (this.connected = r));

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<PacketBroker> {
    let broker: PacketBroker | null = null;
    const server = createServer((socket) => broker!.accept(socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    broker = new PacketBroker(server, `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return broker;
  }

  private accept(socket: Socket): void {
    this.socket = socket;
    const p = parser({ protocolVersion: 5 });
    socket.on('data', (chunk) => p.parse(chunk));
    socket.on('error', () => undefined);
    p.on('packet', (packet: Packet) => {
      this.received.push(packet);
      if (packet.cmd === 'connect') {
        this.receiveMaximum = packet.properties?.receiveMaximum ?? 65535;
        this.write({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
        this.connected();
      } else if (packet.cmd === 'subscribe') {
        this.write({ cmd: 'suback', messageId: packet.messageId!, granted: packet.subscriptions.map((s) => s.qos) });
      } else if (packet.cmd === 'puback') {
        this.unacked--;
        this.pump();
      } else if (packet.cmd === 'publish' && packet.qos > 0) {
        const ack = generate({ cmd: 'puback', messageId: packet.messageId!, reasonCode: 0 }, { protocolVersion: 5 });
        // Behind `ackOwnAfter` more of ours: the client must read past them to see it.
        if (this.ackOwnAfter > 0) this.backlog.splice(this.ackOwnAfter, 0, ack);
        else this.socket!.write(ack);
        this.pump();
      } else if (packet.cmd === 'pingreq') {
        this.write({ cmd: 'pingresp' });
      }
    });
  }

  private write(packet: Packet): void {
    this.socket!.write(generate(packet, { protocolVersion: 5 }));
  }

  /** Queue `count` QoS 1 messages on `topic` and send them as the mode allows (payload `m<id>`, or `payloadBytes` long). */
  publish(count: number, topic: string, mode: 'blast' | 'honour', payloadBytes?: number): number[] {
    this.mode = mode;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const messageId = this.nextId++;
      ids.push(messageId);
      const packet: IPublishPacket = { cmd: 'publish', topic, payload: payloadBytes === undefined ? Buffer.from(`m${messageId}`) : Buffer.alloc(payloadBytes, 'x'), qos: 1, dup: false, retain: false, messageId };
      this.backlog.push(generate(packet, { protocolVersion: 5 }));
    }
    this.pump();
    return ids;
  }

  private pump(): void {
    while (this.backlog.length > 0 && (this.mode === 'blast' || this.unacked < this.receiveMaximum)) {
      const buf = this.backlog.shift()!;
      if (buf[0]! >> 4 === 3) this.unacked++;
      this.socket!.write(buf);
    }
  }

  /** PUBACK message ids from the client, in order. */
  get pubacks(): number[] {
    return this.received.filter((p) => p.cmd === 'puback').map((p) => p.messageId!);
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
