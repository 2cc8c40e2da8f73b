import type { Logger } from 'pino';
import { isValidId } from '../src/contract/index.js';
import type { ClientFactory } from './publisher/index.js';
import { validatePlantShape, type PlantShape } from './simulator/index.js';

export type AgentMode = 'realtime' | 'burst';

/** URL schemes MQTT.js connects with. */
export const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'];

/** Most samples in one message: keeps a message well under the platform's 1 MiB limit (~200 B a sample). */
export const MAX_SAMPLES_PER_MESSAGE = 1000;

export interface SimulatedFactoryOptions extends PlantShape {
  brokerUrl: string;
  username?: string;
  password?: string;
  /**
   * Gateway client id prefix. The agent runs one gateway (one MQTT connection, one last will)
   * per site, with client id `{clientId}-{site}`, e.g. `sim-gw-site-01` (default prefix `sim-gw`).
   */
  clientId?: string;
  /** @deprecated Old name of `clientId`. */
  gatewayPrefix?: string;
  /** 5 (default); 4 (MQTT 3.1.1) for the embedded aedes broker. */
  protocolVersion?: 4 | 5;
  /** MQTT clean start (default true); false keeps a persistent session (MQTT 5: 1 day expiry). */
  clean?: boolean;
  keepaliveSec?: number;
  /** `realtime` (default): sample and publish on the clock until `stop()`. `burst`: publish `samplesPerDevice` samples per device as fast as the broker acks, then stop. */
  mode?: AgentMode;
  /** Time between two samples of a machine, ms (default 1000). */
  sampleIntervalMs?: number;
  /** Realtime: publish the buffered samples this often, ms (default 5000). */
  publishIntervalMs?: number;
  /** Most samples per message (default 20 in burst mode, 100 in realtime mode; at most 1000). */
  samplesPerMessage?: number;
  /** Burst: samples per device (required in burst mode). */
  samplesPerDevice?: number;
  /** Burst: timestamp of the last sample (default now); samples go back from it by `sampleIntervalMs`. */
  endTs?: number;
  /** Realtime: timestamp of the first sample (default now). */
  startTs?: number;
  /** Per gateway: most publishes waiting for PUBACK (default 100). */
  maxInFlight?: number;
  /** Realtime, per gateway: most messages waiting for a slot before new ones are dropped (and counted) (default 10 000). */
  maxQueuedMessages?: number;
  /** Keep every acknowledged sample for `expected()` (default: true in burst mode, false in realtime mode). */
  recordSamples?: boolean;
  /** How long `stop()` waits for outstanding PUBACKs, ms (default 10 000). */
  stopTimeoutMs?: number;
  logger?: Logger;
  /** Creates the MQTT clients (default `mqtt.connect`); unit tests inject a fake. */
  createClient?: ClientFactory;
}

export interface ResolvedOptions extends SimulatedFactoryOptions {
  mode: AgentMode;
  clientId: string;
  sampleIntervalMs: number;
  publishIntervalMs: number;
  samplesPerMessage: number;
  maxInFlight: number;
  maxQueuedMessages: number;
  recordSamples: boolean;
}

function positiveInt(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  return v;
}

/** Defaults and validation, before anything connects. Errors name the option. */
export function resolveOptions(opts: SimulatedFactoryOptions): ResolvedOptions {
  validatePlantShape(opts);
  const mode = opts.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'burst') throw new Error(`mode must be realtime or burst, got ${JSON.stringify(mode)}`);
  let url: URL;
  try {
    url = new URL(opts.brokerUrl);
  } catch {
    throw new Error(`brokerUrl must be a URL such as mqtt://host:1883, got ${JSON.stringify(opts.brokerUrl)}`);
  }
  if (!BROKER_PROTOCOLS.includes(url.protocol)) throw new Error(`brokerUrl: unsupported protocol ${url.protocol}`);
  const clientId = opts.clientId ?? opts.gatewayPrefix ?? 'sim-gw';
  // The longest site id the plant makes is `site-NN…`; the gateway id must stay a valid id.
  const longest = `${clientId}-site-${String(opts.sites).padStart(2, '0')}`;
  if (!isValidId(longest)) throw new Error(`clientId ${JSON.stringify(clientId)}: gateway ids such as ${longest} must match [A-Za-z0-9_-]{1,64}`);
  if (mode === 'burst') positiveInt('samplesPerDevice', opts.samplesPerDevice, NaN);
  const sampleIntervalMs = positiveInt('sampleIntervalMs', opts.sampleIntervalMs, 1000);
  for (const name of ['endTs', 'startTs'] as const) {
    const v = opts[name];
    if (v !== undefined && !Number.isInteger(v)) throw new Error(`${name} must be an integer epoch ms, got ${v}`);
  }
  return {
    ...opts,
    mode,
    clientId,
    sampleIntervalMs,
    publishIntervalMs: positiveInt('publishIntervalMs', opts.publishIntervalMs, 5000),
    samplesPerMessage: positiveInt('samplesPerMessage', opts.samplesPerMessage, mode === 'burst' ? 20 : 100, MAX_SAMPLES_PER_MESSAGE),
    maxInFlight: positiveInt('maxInFlight', opts.maxInFlight, 100, 65_535),
    maxQueuedMessages: positiveInt('maxQueuedMessages', opts.maxQueuedMessages, 10_000),
    recordSamples: opts.recordSamples ?? mode === 'burst',
  };
}
