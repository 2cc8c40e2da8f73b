import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/contract/index.js';
import { createLogger, createMetrics } from '../../src/observability/index.js';
import { Pipeline } from '../../src/pipeline/index.js';
import { MqttSource } from '../../src/sources/mqtt/index.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { waitFor } from '../support/ports.js';
import { HeldWriter } from '../support/held-writer.js';

let mosquitto: MosquittoProcess;
beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(async () => {
  await mosquitto?.stop();
});

const payload = (seq: number) => JSON.stringify({ seq, samples: [{ ts: 1_700_000_000_000 + seq, m: { power_kw: seq } }] });

describe('MQTT source → pipeline → storage\'s callback form (real Mosquitto)', () => {
  it('holds each valid message until its write is answered, with no promise per message; a refused one is dead-lettered, then acknowledged', async () => {
    const writer = new HeldWriter();
    const metrics = createMetrics();
    const pipeline = new Pipeline(writer, metrics, createLogger('silent'));
    const source = new MqttSource(
      { url: mosquitto.url, clientId: 'pp-source-writes', receiveMaximum: 100, sessionExpirySeconds: 60, deadLetterPrefix: 'pp/dead-letter/v1', limits: DEFAULT_LIMITS },
      pipeline,
      metrics,
      createLogger('silent'),
    );
    await source.start();
    const watcher = await mqtt.connectAsync(mosquitto.url, { clientId: 'pp-dead-letter-watch' });
    const dead: string[] = [];
    watcher.on('message', (topic) => dead.push(topic));
    await watcher.subscribeAsync('pp/dead-letter/v1/#', { qos: 1 });
    const gateway = await mqtt.connectAsync(mosquitto.url, { clientId: 'pp-gateway' });
    try {
      for (let seq = 0; seq < 3; seq++) await gateway.publishAsync('pp/v1/s1/l1/m1/metrics', payload(seq), { qos: 1 });
      await waitFor(async () => writer.held.length === 3, 10_000, 'three writes handed to storage');
      expect(writer.promiseWrites).toBe(0);
      expect(source.inflight).toBe(3); // nothing acknowledged before it is durable

      writer.held[0]!.waiter.written();
      await waitFor(async () => source.inflight === 2, 10_000, 'the first message released');
      // The second is refused for good: its copy goes to the dead-letter topic, then it is released.
      writer.held[1]!.waiter.written(new Error('refused for good'));
      await waitFor(async () => dead.length === 1 && source.inflight === 1, 10_000, 'the refused message dead-lettered and released');
      expect(dead).toEqual(['pp/dead-letter/v1/pp/v1/s1/l1/m1/metrics']);
      writer.held[2]!.waiter.written();
      await waitFor(async () => source.inflight === 0, 10_000, 'every message released');
    } finally {
      await gateway.endAsync();
      await watcher.endAsync();
      await source.stop(1000);
    }
  });
});
