import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { InternalCredential } from '../broker/index.js';
import { startSimulatedFactory, type SimulatedFactory } from '../../edge-agent/index.js';

/**
 * The simulated factory `npm start` runs by default: gateways publishing to our broker (with the
 * platform's own credential when the embedded broker checks tokens: it runs in this process).
 */
export function startSimulator(config: Config, brokerUrl: string, embeddedBroker: boolean, log: Logger, credentials: InternalCredential | null = null): Promise<SimulatedFactory> {
  const s = config.simulator;
  return startSimulatedFactory({
    brokerUrl,
    ...(credentials ? { username: credentials.username, password: credentials.password } : {}),
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
