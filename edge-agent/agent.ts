import type { Logger } from 'pino';
import { deviceKey, type DeviceRef, type Sample } from '../src/contract/index.js';
import { GatewayPublisher } from './publisher/index.js';
import { Plant, type FaultKind } from './simulator/index.js';

export interface SimulatedFactoryOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  /** Prefix of the gateways' client ids; one gateway per site: `{prefix}-{site}`. */
  gatewayPrefix?: string;
  protocolVersion?: 4 | 5;
  sites: number;
  linesPerSite: number;
  machinesPerLine: number;
  seed: number;
  sampleIntervalMs?: number;
  /** Realtime: publish every this many ms. */
  publishIntervalMs?: number;
  /** Burst: samples per message. */
  samplesPerMessage?: number;
  maxInFlight?: number;
  logger?: Logger;
}

export interface DeviceTally {
  ref: DeviceRef;
  count: number;
  firstTs: number;
  lastTs: number;
  lastSeq: number;
}

export interface BurstResult {
  messages: number;
  samples: number;
  perDevice: Map<string, DeviceTally>;
  /** Every sample sent, per device key (`site/line/device`), for spot-checks. */
  sent: Map<string, Sample[]>;
  elapsedMs: number;
}

function gateways(plant: Plant, opts: SimulatedFactoryOptions): Map<string, GatewayPublisher> {
  const bySite = new Map<string, GatewayPublisher>();
  for (const site of plant.sites) {
    bySite.set(
      site,
      new GatewayPublisher({
        brokerUrl: opts.brokerUrl,
        username: opts.username,
        password: opts.password,
        gatewayId: `${opts.gatewayPrefix ?? 'sim-gw'}-${site}`,
        site,
        devices: plant.machines.filter((m) => m.ref.site === site).map((m) => m.ref),
        protocolVersion: opts.protocolVersion,
        maxInFlight: opts.maxInFlight,
        logger: opts.logger,
      }),
    );
  }
  return bySite;
}

/**
 * Burst mode: `samplesPerDevice` samples per device, timestamps spaced by the sampling interval
 * and ending now (none in the future), published as fast as the broker acknowledges them with a
 * bounded in-flight window. Resolves with exactly what was sent and acknowledged.
 */
export async function publishBurst(opts: SimulatedFactoryOptions & { samplesPerDevice: number; endTs?: number }): Promise<BurstResult> {
  const started = performance.now();
  const plant = new Plant(opts);
  const gws = gateways(plant, opts);
  await Promise.all([...gws.values()].map((g) => g.connect()));
  const interval = opts.sampleIntervalMs ?? 1000;
  const perMessage = opts.samplesPerMessage ?? 20;
  const endTs = opts.endTs ?? Date.now() - 1000;
  const firstTs = endTs - (opts.samplesPerDevice - 1) * interval;
  const sent = new Map<string, Sample[]>();
  const perDevice = new Map<string, DeviceTally>();
  const pending: Promise<unknown>[] = [];
  let messages = 0;
  let buffered = new Map<string, Sample[]>();
  const flush = () => {
    for (const machine of plant.machines) {
      const key = deviceKey(machine.ref);
      const samples = buffered.get(key);
      if (!samples?.length) continue;
      messages++;
      const tally = perDevice.get(key)!;
      pending.push(gws.get(machine.ref.site)!.publish(machine.ref, samples).then((seq) => (tally.lastSeq = Math.max(tally.lastSeq, seq))));
    }
    buffered = new Map();
  };
  for (let k = 0; k < opts.samplesPerDevice; k++) {
    const ts = firstTs + k * interval;
    if (k > 0) plant.step(interval);
    for (const { machine, sample } of plant.sample(ts)) {
      const key = deviceKey(machine.ref);
      if (!buffered.has(key)) buffered.set(key, []);
      buffered.get(key)!.push(sample);
      if (!sent.has(key)) sent.set(key, []);
      sent.get(key)!.push(sample);
      const t = perDevice.get(key) ?? { ref: machine.ref, count: 0, firstTs: ts, lastTs: ts, lastSeq: -1 };
      t.count++;
      t.lastTs = ts;
      perDevice.set(key, t);
    }
    if ((k + 1) % perMessage === 0) {
      flush();
      // Let acks come back before generating more: memory stays bounded by the window.
      while (pending.length > 2000) await pending.shift();
    }
  }
  flush();
  await Promise.all(pending);
  await Promise.all([...gws.values()].map((g) => g.stop()));
  let samples = 0;
  for (const t of perDevice.values()) samples += t.count;
  return { messages, samples, perDevice, sent, elapsedMs: performance.now() - started };
}

export interface SimulatedFactory {
  plant: Plant;
  injectFault(ref: DeviceRef, kind: FaultKind): void;
  stats(): { messages: number; samples: number };
  stop(): Promise<void>;
}

/**
 * Realtime mode (`npm start`, demos): a sample per machine every `sampleIntervalMs`, published
 * per device every `publishIntervalMs`, until `stop()`.
 */
export async function startSimulatedFactory(opts: SimulatedFactoryOptions): Promise<SimulatedFactory> {
  const plant = new Plant(opts);
  const gws = gateways(plant, opts);
  await Promise.all([...gws.values()].map((g) => g.connect()));
  const interval = opts.sampleIntervalMs ?? 1000;
  const publishEvery = opts.publishIntervalMs ?? 5000;
  let buffered = new Map<string, { ref: DeviceRef; samples: Sample[] }>();
  let lastTs = Date.now();
  const sampler = setInterval(() => {
    const now = Date.now();
    plant.step(now - lastTs);
    lastTs = now;
    for (const { machine, sample } of plant.sample(now)) {
      const key = deviceKey(machine.ref);
      const entry = buffered.get(key) ?? { ref: machine.ref, samples: [] };
      entry.samples.push(sample);
      buffered.set(key, entry);
    }
  }, interval);
  const publish = () => {
    const batch = buffered;
    buffered = new Map();
    for (const { ref, samples } of batch.values()) {
      gws.get(ref.site)!.publish(ref, samples).catch((err: Error) => opts.logger?.warn({ err: err.message }, 'publish failed'));
    }
  };
  const publisher = setInterval(publish, publishEvery);
  opts.logger?.info({ machines: plant.machines.length, sites: plant.sites.length, intervalMs: interval }, 'simulated factory running');
  return {
    plant,
    injectFault: (ref, kind) => plant.injectFault(ref, kind),
    stats: () => {
      let messages = 0;
      let samples = 0;
      for (const g of gws.values()) {
        messages += g.messagesAcked;
        samples += g.samplesAcked;
      }
      return { messages, samples };
    },
    stop: async () => {
      clearInterval(sampler);
      clearInterval(publisher);
      publish();
      await Promise.all([...gws.values()].map((g) => g.stop()));
    },
  };
}
