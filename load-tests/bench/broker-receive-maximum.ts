/**
 * `npx tsx load-tests/bench/broker-receive-maximum.ts [receive-maximum]`: does the installed
 * Mosquitto honour an MQTT 5 client's receive-maximum, with the shipped configuration and with
 * the settings that might matter? A subscriber advertising receive-maximum R acknowledges what it
 * received every 20 ms (as the platform does, once a batch is durable) while 20,000 QoS 1
 * messages are published, live and then queued for its persistent session while it is away; it
 * reports the most messages it held unacknowledged at once. A broker that honours R never
 * exceeds it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { startMosquitto } from '../../test/support/mosquitto.js';

const R = Number(process.argv[2] ?? 100);
const MESSAGES = 20_000;

const variants: Record<string, (conf: string) => string> = {
  'shipped mosquitto.conf': (c) => c,
  'without max_queued_bytes': (c) => c.replace(/^max_queued_bytes .*$/m, ''),
  [`max_inflight_messages ${R}`]: (c) => c.replace(/^max_inflight_messages .*$/m, `max_inflight_messages ${R}`),
};

type Internals = { _sendPacket: (p: { cmd: string; messageId?: number; reasonCode?: number }, cb?: () => void) => void };

async function publish(url: string, id: string): Promise<void> {
  const pub = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: id });
  await Promise.all(Array.from({ length: MESSAGES }, () => pub.publishAsync('t/x', Buffer.alloc(50), { qos: 1 })));
  await pub.endAsync();
}

/** Connect the subscriber, wait for what comes, return the most held unacknowledged at once. */
async function subscriber(url: string, during: (() => Promise<void>) | null): Promise<{ received: number; maxHeld: number }> {
  const sub: MqttClient = mqtt.connect(url, { protocolVersion: 5, clientId: 'rm-sub', clean: false, properties: { receiveMaximum: R, sessionExpiryInterval: 3600 } });
  const internals = sub as unknown as Internals;
  const send = internals._sendPacket.bind(sub);
  internals._sendPacket = (p, cb) => (p.cmd === 'puback' ? cb?.() : send(p, cb)); // we ack ourselves
  let received = 0;
  let acked = 0;
  let maxHeld = 0;
  const held: number[] = [];
  sub.on('message', (_t, _m, packet) => {
    received++;
    held.push(packet.messageId!);
    maxHeld = Math.max(maxHeld, received - acked);
  });
  const acker = setInterval(() => {
    for (const messageId of held.splice(0)) {
      send({ cmd: 'puback', messageId, reasonCode: 0 });
      acked++;
    }
  }, 20);
  await new Promise((r) => sub.once('connect', r));
  await sub.subscribeAsync('t/#', { qos: 1 });
  if (during) await during();
  for (let last = -1; last !== received; ) {
    last = received;
    await new Promise((r) => setTimeout(r, 1000));
  }
  clearInterval(acker);
  await sub.endAsync(true);
  return { received, maxHeld };
}

for (const [name, transform] of Object.entries(variants)) {
  const broker = await startMosquitto('', { transform });
  try {
    const live = await subscriber(broker.url, () => publish(broker.url, 'rm-pub-1'));
    await publish(broker.url, 'rm-pub-2'); // queued for the session while the subscriber is away
    const resumed = await subscriber(broker.url, null);
    console.log(`${name}: receive-maximum ${R}; live: ${live.received} received, at most ${live.maxHeld} unacknowledged; resumed session: ${resumed.received} received, at most ${resumed.maxHeld} unacknowledged`);
  } finally {
    await broker.stop();
  }
}
process.exit(0);
