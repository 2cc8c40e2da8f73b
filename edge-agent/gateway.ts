import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { deviceKey, deviceTopic, encodeStatus, offlineStatus, onlineStatus, type DeviceRef, type Sample } from '../src/contract/index.js';
import type { AgentConfig } from './config/agent-config.js';
import { DiskQueue } from './forward/disk-queue.js';
import { AGENT_INFO, gatewayStatusTopic } from './publisher/index.js';
import { createSource, type SampleSource } from './sources.js';

interface DeviceRuntime {
  ref: DeviceRef;
  source: SampleSource;
  buffer: Sample[];
  timer: NodeJS.Timeout | null;
  polling: boolean;
  badMetrics: string;
}

export interface Gateway {
  stats(): { queued: ReturnType<DiskQueue['stats']>; published: { messages: number; samples: number }; polls: number };
  /** Stop polling, queue what is buffered, publish what the broker takes within `drainMs`, disconnect. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The gateway agent: poll devices → buffer per device → every publish interval, one message per
 * device is given a seq and fsynced to the disk queue → the forwarder publishes the queue in
 * order at QoS 1 and removes a message only after its PUBACK. Messages in flight when the
 * connection drops stay queued and are resent after reconnecting (MQTT.js keeps them too);
 * after an outage the backlog goes out at `catchUpMessagesPerSecond`.
 */
export async function startGateway(config: AgentConfig, log: Logger): Promise<Gateway> {
  const site = config.gateway.site;
  const queue = await DiskQueue.open(config.queue.dir, config.queue.maxBytes, log.child({ component: 'queue' }));
  const devices: DeviceRuntime[] = await Promise.all(config.devices.map(async (d) => ({ ref: { site, line: d.line, device: d.id }, source: await createSource(site, d, log), buffer: [], timer: null, polling: false, badMetrics: '' })));
  const statusTopic = gatewayStatusTopic(site, config.gateway.id);
  const b = config.broker;
  const options: IClientOptions = {
    clientId: config.gateway.id,
    username: b.username,
    password: b.password ?? (b.passwordFile ? readFileSync(b.passwordFile, 'utf8').trim() : undefined),
    protocolVersion: b.protocolVersion,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: { topic: statusTopic, payload: Buffer.from(encodeStatus(offlineStatus(config.gateway.id, 'connection lost', undefined, AGENT_INFO))), qos: 1, retain: true },
    ...(b.tls ? { ca: b.tls.ca && readFileSync(b.tls.ca), cert: b.tls.cert && readFileSync(b.tls.cert), key: b.tls.key && readFileSync(b.tls.key), rejectUnauthorized: b.tls.rejectUnauthorized } : {}),
  };
  const client: MqttClient = mqtt.connect(b.url, options);
  client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
  const published = { messages: 0, samples: 0 };
  let polls = 0;
  let stopping = false;
  let queueClosed = false;

  const health = () =>
    onlineStatus(
      config.gateway.id,
      Date.now(),
      devices.map((d) => d.ref),
      { ...AGENT_INFO, queue: queue.stats(), readErrors: Object.fromEntries(devices.map((d) => [`${d.ref.line}/${d.ref.device}`, d.source.health().readErrors])) },
    );
  const publishStatus = () => client.publishAsync(statusTopic, encodeStatus(health()), { qos: 1, retain: true }).catch(() => undefined);
  client.on('connect', () => {
    log.info({ broker: b.url }, 'connected to broker');
    void publishStatus(); // birth: version, devices, queue depth
  });

  // Polling: one timer per device; a slow device never delays the others.
  for (const d of devices) {
    const interval = config.devices.find((c) => c.id === d.ref.device && c.line === d.ref.line)!.pollIntervalMs;
    d.timer = setInterval(async () => {
      if (d.polling) return; // the previous poll is still waiting for a slow device
      d.polling = true;
      try {
        const sample = await d.source.poll(Date.now());
        polls++;
        d.buffer.push(sample);
        const bad = (sample.bad ?? []).join(',');
        if (bad !== d.badMetrics) {
          // Report quality changes of a device on its status topic (retained).
          d.badMetrics = bad;
          const h = d.source.health();
          void client.publishAsync(deviceTopic(d.ref, 'status'), encodeStatus(onlineStatus(config.gateway.id, sample.ts, undefined, { quality: bad ? 'bad' : 'good', badMetrics: sample.bad ?? [], lastError: h.lastError })), { qos: 1, retain: true }).catch(() => undefined);
        }
      } finally {
        d.polling = false;
      }
    }, interval);
  }

  // Serialised: two runs interleaving would give seq numbers out of order.
  let enqueueChain: Promise<void> = Promise.resolve();
  const enqueueBuffered = () => (enqueueChain = enqueueChain.then(enqueueNow, enqueueNow));
  const enqueueNow = async () => {
    for (const d of devices) {
      while (d.buffer.length > 0) {
        const samples = d.buffer.splice(0, config.publish.maxSamplesPerMessage);
        const seq = await queue.nextSeq(deviceKey(d.ref));
        await queue.enqueue({ topic: deviceTopic(d.ref, 'metrics'), payload: JSON.stringify({ seq, samples }), samples: samples.length });
      }
    }
  };
  const batcher = setInterval(() => void enqueueBuffered().catch((err: Error) => log.error({ err: err.message }, 'cannot queue samples')), config.publish.intervalMs);
  const statusTimer = setInterval(() => void publishStatus(), config.statusIntervalMs);

  // The forwarder: strictly in order, one message at a time, removed after its PUBACK.
  const forwarder = (async () => {
    let backlogPause = 0;
    while (!stopping || queue.pending) {
      // Hand MQTT.js a message only while connected: offline, it would sit in MQTT.js's memory
      // queue, where the disk queue's bound and drop accounting cannot see it.
      while (!client.connected && !queueClosed) await new Promise((r) => setTimeout(r, 100));
      const head = await queue.head();
      if (!head) return;
      try {
        await client.publishAsync(head.msg.topic, head.msg.payload, { qos: 1 });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'publish failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      await queue.done(head.record);
      published.messages++;
      published.samples += head.msg.samples;
      // Catching up (more than one message waiting): pace the backlog.
      backlogPause = queue.stats().bytes > 0 ? 1000 / config.queue.catchUpMessagesPerSecond : 0;
      if (backlogPause) await new Promise((r) => setTimeout(r, backlogPause));
    }
  })();

  return {
    stats: () => ({ queued: queue.stats(), published: { ...published }, polls }),
    stop: async (drainMs = 5000) => {
      for (const d of devices) if (d.timer) clearInterval(d.timer);
      clearInterval(batcher);
      clearInterval(statusTimer);
      // A poll already under way still delivers its sample: wait for it, then queue everything.
      while (devices.some((d) => d.polling)) await new Promise((r) => setTimeout(r, 10));
      await enqueueBuffered();
      stopping = true;
      const deadline = Date.now() + drainMs;
      while (queue.pending && client.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (queue.pending) log.warn({ queue: queue.stats() }, 'stopping with messages still queued; they are sent on the next start');
      if (client.connected) {
        await client.publishAsync(statusTopic, encodeStatus(offlineStatus(config.gateway.id, 'stopped', Date.now(), { ...AGENT_INFO, queue: queue.stats() })), { qos: 1, retain: true }).catch(() => undefined);
      }
      queueClosed = true;
      await queue.close();
      await client.endAsync(true); // fails any publish still in flight: it stays queued on disk
      await forwarder.catch(() => undefined);
      await Promise.all(devices.map((d) => d.source.close()));
    },
  };
}
