import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedFactory } from '../../../edge-agent/index.js';
import { startMosquitto, type MosquittoProcess } from '../../support/mosquitto.js';

let broker: MosquittoProcess;
beforeAll(async () => {
  // Mosquitto advertises max_inflight_messages as its MQTT 5 Receive Maximum in CONNACK.
  broker = await startMosquitto('max_inflight_messages 3');
});
afterAll(async () => broker?.stop());

describe("edge agent and the broker's Receive Maximum", () => {
  it('narrows its in-flight window to what the broker allows, and still delivers everything', async () => {
    const factory = await startSimulatedFactory({ brokerUrl: broker.url, sites: 1, linesPerSite: 2, machinesPerLine: 5, seed: 8, mode: 'burst', samplesPerDevice: 100, samplesPerMessage: 5, maxInFlight: 200 });
    const gw = factory.gateways.get('site-01')!;
    expect(gw.stats().window).toBe(3);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, gw.inFlight)), 1);
    const result = await factory.done;
    clearInterval(sampler);
    expect(peak).toBeLessThanOrEqual(3);
    expect(result).toMatchObject({ messages: 200, samples: 1000 });
  });
});
