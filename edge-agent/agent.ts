import { runBurst } from './burst.js';
import { resolveOptions, type AgentMode, type ResolvedOptions, type SimulatedFactoryOptions } from './options.js';
import { GatewayPublisher } from './publisher/index.js';
import { RealtimeRunner } from './realtime.js';
import { SentLog, type BurstResult, type FactoryResult } from './sent-log.js';
import { Plant, type DeviceSelector, type FaultKind } from './simulator/index.js';

export interface FactoryStats {
  /** Messages and samples the broker acknowledged. */
  messages: number;
  samples: number;
  messagesPublished: number;
  samplesPublished: number;
  messagesFailed: number;
  /** Realtime: samples dropped because a gateway's queue was full (broker away too long). */
  samplesDropped: number;
  /** Realtime: samples buffered, not yet handed to a gateway. */
  samplesBuffered: number;
  inFlight: number;
  queued: number;
}

export interface SimulatedFactory {
  readonly mode: AgentMode;
  readonly plant: Plant;
  /** One gateway (MQTT connection) per site, by site id. */
  readonly gateways: ReadonlyMap<string, GatewayPublisher>;
  /**
   * Burst: resolves when every sample is acknowledged and the gateways have stopped (rejects on
   * a failed publish). Realtime: resolves after `stop()`. Either way with what was acknowledged.
   */
  readonly done: Promise<FactoryResult>;
  injectFault(device: DeviceSelector, kind: FaultKind): void;
  clearFaults(device: DeviceSelector, kind?: FaultKind): void;
  stats(): FactoryStats;
  /** Clean stop: publish what is buffered, wait (bounded) for PUBACKs, retained `offline` statuses, DISCONNECT. Idempotent. */
  stop(): Promise<void>;
}

function buildGateways(plant: Plant, opts: ResolvedOptions): Map<string, GatewayPublisher> {
  const bySite = new Map<string, GatewayPublisher>();
  for (const site of plant.sites) {
    bySite.set(
      site,
      new GatewayPublisher({
        brokerUrl: opts.brokerUrl,
        username: opts.username,
        password: opts.password,
        gatewayId: `${opts.clientId}-${site}`,
        site,
        devices: plant.devices.filter((d) => d.site === site),
        protocolVersion: opts.protocolVersion,
        clean: opts.clean,
        keepaliveSec: opts.keepaliveSec,
        maxInFlight: opts.maxInFlight,
        stopTimeoutMs: opts.stopTimeoutMs,
        logger: opts.logger,
        createClient: opts.createClient,
      }),
    );
  }
  return bySite;
}

/** Connect every gateway; if one cannot, close the others and reject. */
async function connectAll(gateways: Map<string, GatewayPublisher>): Promise<void> {
  const results = await Promise.allSettled([...gateways.values()].map((g) => g.connect()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all([...gateways.values()].map((g) => g.stop()));
    throw failed.reason;
  }
}

/**
 * Start a simulated factory publishing to `brokerUrl`: one gateway per site, samples from the
 * seeded simulator. Resolves once every gateway is connected and has published its births
 * (rejects, with nothing left running, if one cannot connect). See `SimulatedFactoryOptions`
 * for the two modes.
 */
export async function startSimulatedFactory(options: SimulatedFactoryOptions): Promise<SimulatedFactory> {
  const opts = resolveOptions(options);
  const logger = opts.logger?.child({ component: 'edge-agent' });
  const plant = new Plant(opts);
  const gateways = buildGateways(plant, opts);
  await connectAll(gateways);
  const started = performance.now();
  const log = new SentLog(opts.recordSamples);
  const stopGateways = () => Promise.all([...gateways.values()].map((g) => g.stop())).then(() => undefined);
  let stopRequested = false;
  let runner: RealtimeRunner | null = null;
  let finished: Promise<void>;
  let requestStop: () => Promise<void>;

  if (opts.mode === 'burst') {
    logger?.info({ machines: plant.machines.length, samplesPerDevice: opts.samplesPerDevice }, 'burst started');
    finished = runBurst(plant, gateways, opts, log, () => stopRequested).finally(stopGateways);
    requestStop = async () => {
      stopRequested = true;
      await stopGateways(); // bounded: gives up on PUBACKs after stopTimeoutMs, which ends the burst loop
      await finished.catch(() => undefined);
    };
  } else {
    const realtime = new RealtimeRunner(plant, gateways, opts, log, logger);
    runner = realtime;
    realtime.start();
    logger?.info({ machines: plant.machines.length, sites: plant.sites.length, sampleIntervalMs: opts.sampleIntervalMs, publishIntervalMs: opts.publishIntervalMs }, 'simulated factory running');
    let resolveFinished!: () => void;
    finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    let stopping: Promise<void> | null = null;
    requestStop = () => {
      stopping ??= (async () => {
        realtime.stop();
        await stopGateways();
        await realtime.settled();
        resolveFinished();
      })();
      return stopping;
    };
  }
  const done = finished.then(() => log.result(performance.now() - started));
  done.catch(() => undefined); // burst failures reach whoever awaits `done`, never an unhandled rejection

  return {
    mode: opts.mode,
    plant,
    gateways,
    done,
    injectFault: (device, kind) => plant.injectFault(device, kind),
    clearFaults: (device, kind) => plant.clearFaults(device, kind),
    stats: () => {
      const s: FactoryStats = { messages: 0, samples: 0, messagesPublished: 0, samplesPublished: 0, messagesFailed: 0, samplesDropped: runner?.samplesDropped ?? 0, samplesBuffered: runner?.samplesBuffered ?? 0, inFlight: 0, queued: 0 };
      for (const g of gateways.values()) {
        s.messages += g.messagesAcked;
        s.samples += g.samplesAcked;
        s.messagesPublished += g.messagesPublished;
        s.samplesPublished += g.samplesPublished;
        s.messagesFailed += g.messagesFailed;
        s.inFlight += g.inFlight;
        s.queued += g.queued;
      }
      return s;
    },
    stop: () => requestStop(),
  };
}

/**
 * Burst mode in one call: start, publish `samplesPerDevice` samples per device, wait for every
 * PUBACK, stop cleanly, and return exactly what was acknowledged.
 */
export async function publishBurst(opts: Omit<SimulatedFactoryOptions, 'mode'> & { samplesPerDevice: number }): Promise<BurstResult> {
  const factory = await startSimulatedFactory({ ...opts, mode: 'burst' });
  return factory.done;
}
