/**
 * Child process of the broker-limit phase: one MQTT 5 subscriber configured as the platform's
 * MQTT source is (persistent session, QoS 1, the same receive-maximum and topic filter), that
 * does nothing with a message but count it. PUBACKs go out as soon as MQTT.js has read the
 * message. Reports its counts to the parent over IPC every 100 ms.
 *
 * argv: <broker url> <client id> <receive maximum>
 */
import mqtt from 'mqtt';
import { SUBSCRIPTION } from '../../src/sources/mqtt/index.js';

const [url, clientId, receiveMaximum] = process.argv.slice(2);
if (!url || !clientId || !process.send) throw new Error('usage: run by the bench over IPC: <broker url> <client id> <receive maximum>');

let messages = 0;
let metrics = 0;
const client = mqtt.connect(url, {
  clientId,
  protocolVersion: 5,
  clean: false,
  reconnectPeriod: 1000,
  properties: { sessionExpiryInterval: 3600, receiveMaximum: Number(receiveMaximum ?? 2000) },
});
client.on('message', (topic) => {
  messages++;
  if (topic.endsWith('/metrics')) metrics++;
});
client.on('connect', () => {
  client.subscribeAsync(SUBSCRIPTION, { qos: 1 }).then(
    () => process.send!({ type: 'ready' }),
    (err: Error) => process.send!({ type: 'error', message: err.message }),
  );
});
client.on('error', (err) => process.send!({ type: 'error', message: err.message }));
setInterval(() => process.send!({ type: 'count', messages, metrics }), 100);
process.on('disconnect', () => client.end(true, () => process.exit(0)));
