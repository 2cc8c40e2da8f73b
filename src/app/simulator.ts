import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { startSimulatedFactory, type SimulatedFactory } from '../../edge-agent/index.js';

/** The simulated factory `npm start` runs by default: gateways publishing to our broker. */
export function startSimulator(config: Config, brokerUrl: string, embeddedBroker: boolean, log: Logger): Promise<SimulatedFactory> {
  const s = config.simulator;
  return startSimulatedFactory({
    brokerUrl,
    protocolVersion: embeddedBroker ? 4 : 5, // aedes speaks MQTT 3.1.1
    gatewayPrefix: 'sim-gw',
    sites: s.sites,
    linesPerSite: s.lines,
    machinesPerLine: s.machines,
    seed: s.seed,
    sampleIntervalMs: s.intervalMs,
    publishIntervalMs: Math.max(s.intervalMs, 5000),
    logger: log,
  });
}
