import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../observability/index.js';
import { brokerAuthHooks, type BrokerAuthOptions } from './broker-auth.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The broker for one-machine installs (docs/operations.md: use Mosquitto or EMQX beyond trials): aedes in this process, with in-memory
 * persistence. It speaks MQTT 3.1.1 only, so the platform's consumer uses 3.1.1 against it; for
 * MQTT 5, shared subscriptions and sessions that survive a platform restart, configure a real
 * broker (PP_MQTT_URL). With `auth` (PP_AUTH=required) clients authenticate with API tokens and
 * topic-acl.ts limits what each publishes and reads (broker-auth.ts); without it, anyone may.
 */
export async function startEmbeddedBroker(host: string, port: number, log: Logger, auth?: BrokerAuthOptions): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker({ id: 'plantpulse-embedded', ...(auth ? brokerAuthHooks(auth) : {}) });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`embedded MQTT broker: port ${host}:${port} is in use; set PP_MQTT_EMBEDDED_PORT or PP_MQTT_URL`) : err),
    );
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  broker.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'embedded broker client error'));
  log.info({ url: `mqtt://${host}:${actual}`, auth: auth ? 'API tokens' : 'none (PP_AUTH=off)' }, 'embedded MQTT broker (aedes, MQTT 3.1.1) listening');
  return {
    url: `mqtt://${host}:${actual}`,
    port: actual,
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
