import { createRequire } from 'node:module';
import type { MqttClient } from 'mqtt';
import { Publish } from './publish-parser.js';

/**
 * MQTT.js's handling of a PUBLISH that publish-parser.ts read, in two calls instead of its chain.
 *
 * MQTT.js hands every packet to its `handlers/index` `handle`: a size check against
 * maximumPacketSize, a 'packetreceive' event, then `handlePublish`: the topic-alias logic, a
 * `customHandleAcks` call (its default gathers its arguments into an array) with a closure for its
 * answer, the 'message' event, `handleMessage` with another closure, and a PUBACK through
 * `_sendPacket`. With one-sample messages those closures, arrays and calls were several hundred
 * bytes and about 2 % of the thread per message.
 *
 * A packet read by publish-parser.ts is a QoS 0 or 1 PUBLISH without properties (so without a
 * topic alias) on a connection with an AckWindow, which answers `handleMessage` (its window) and
 * swallows MQTT.js's PUBACKs (it sends its own once the message is durable) and gives no
 * `customHandleAcks`. For such a packet MQTT.js's chain comes down to: emit 'message', then
 * `handleMessage(packet, done)`. That is what runs here, unless the client asked for
 * a maximum packet size or something listens for 'packetreceive' (then MQTT.js's chain runs, as for
 * every other packet).
 */

type Done = (err?: Error) => void;
type Handle = ((client: MqttClient, packet: unknown, done: Done, pump?: unknown) => unknown) & { [ORIGINAL]?: Handle };
interface HandlersModule {
  default: Handle;
}
interface ClientInternals {
  handleMessage: (packet: Publish, callback: Done) => void;
}

const ORIGINAL = Symbol.for('plantpulse.mqtt-handle');

function handlersModule(): HandlersModule {
  const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
  return fromMqtt('./lib/handlers/index.js') as HandlersModule;
}

/** Install once (idempotent); MQTT.js reads `handlers.default` at every packet. */
export function handlePublishesDirectly(mod: HandlersModule = handlersModule()): void {
  if (mod.default?.[ORIGINAL]) return;
  const original = mod.default;
  if (typeof original !== 'function' || original.length !== 4) {
    throw new Error('mqtt internals changed: lib/handlers/index default is not handle(client, packet, done, pump); src/sources/mqtt/publish-handler.ts must be adapted');
  }
  const handle: Handle = (client, packet, done, pump) => {
    if (!(packet instanceof Publish) || client.options.properties?.maximumPacketSize !== undefined || client.listenerCount('packetreceive') > 0) {
      return original(client, packet, done, pump);
    }
    client.emit('message', packet.topic, packet.payload, packet as never);
    (client as unknown as ClientInternals).handleMessage(packet, done);
    return client;
  };
  handle[ORIGINAL] = original;
  mod.default = handle;
}
