import { parseArgs } from 'node:util';
import { BROKER_PROTOCOLS, type SimulatedFactoryOptions } from './options.js';

export const AGENT_HELP = `plantpulse-agent — PlantPulse edge agent

A gateway (Modbus TCP meters and/or simulated machines, disk-backed store-and-forward):
  plantpulse-agent --config FILE [--check] [--log-level LEVEL]
                            run the gateway described in FILE (YAML or JSON, see edge-agent/README.md);
                            --check validates it, prints the plan (devices, Modbus reads) and exits

A simulated factory (demos, load; no disk queue):
  plantpulse-agent [options]                  publish in real time until SIGINT/SIGTERM
  plantpulse-agent --burst N [options]        publish N samples per machine as fast as the broker acks, then exit

Connection:
  --broker URL              MQTT broker (default mqtt://127.0.0.1:1883)
  --username NAME           broker username
  --password SECRET         broker password (better: environment PP_AGENT_PASSWORD)
  --client-id PREFIX        gateway client id prefix; one gateway per site: PREFIX-site-01 (default sim-gw)
  --mqtt-version 4|5        MQTT protocol: 5 (default), 4 for MQTT 3.1.1 brokers such as the embedded aedes
  --persistent-session      clean start off: keep the broker session across reconnects (MQTT 5: 1 day)
  --max-in-flight N         publishes waiting for PUBACK per gateway (default 100)

Simulated factory:
  --sites N                 sites (default 1)
  --lines N                 lines per site (default 2)
  --machines N              machines per line (default 5)
  --seed N                  simulator seed (default 42); same seed, same factory

Timing and batching:
  --interval MS             sampling interval (default 1000)
  --publish-every MS        real time: publish buffered samples this often (default 5000)
  --samples-per-message N   most samples in one message (default 100 real time, 20 burst; at most 1000)
  --burst N                 burst mode: N samples per machine, ending now, then exit

Other:
  --log-level LEVEL         fatal, error, warn, info (default), debug, trace, silent
  --help                    this text
  --version                 agent version
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type ParsedAgentArgs =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; logLevel: LogLevel; options: Omit<SimulatedFactoryOptions, 'logger'> };

/** An argument error: the message names the option; the CLI prints it with a pointer to --help. */
export class AgentArgsError extends Error {}

function int(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new AgentArgsError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** Parse the command line (without `node script`). Throws AgentArgsError naming the option at fault. */
export function parseAgentArgs(argv: string[], env: NodeJS.ProcessEnv = {}): ParsedAgentArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
        username: { type: 'string' },
        password: { type: 'string' },
        'client-id': { type: 'string' },
        'mqtt-version': { type: 'string', default: '5' },
        'persistent-session': { type: 'boolean', default: false },
        'max-in-flight': { type: 'string' },
        sites: { type: 'string' },
        lines: { type: 'string' },
        machines: { type: 'string' },
        seed: { type: 'string' },
        interval: { type: 'string' },
        'publish-every': { type: 'string' },
        'samples-per-message': { type: 'string' },
        burst: { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // node:util messages already name the option ("Unknown option '--foo'", "Option '--sites <value>' argument missing").
    throw new AgentArgsError((err as Error).message);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const version = values['mqtt-version'];
  if (version !== '4' && version !== '5') throw new AgentArgsError(`--mqtt-version must be 4 or 5, got ${JSON.stringify(version)}`);
  let protocol = '';
  try {
    protocol = new URL(values.broker).protocol;
  } catch {
    // reported below
  }
  if (!BROKER_PROTOCOLS.includes(protocol)) throw new AgentArgsError(`--broker must be a URL such as mqtt://host:1883 (${BROKER_PROTOCOLS.map((p) => p.slice(0, -1)).join(', ')}), got ${JSON.stringify(values.broker)}`);
  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new AgentArgsError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const clientId = values['client-id'];
  if (clientId !== undefined && !/^[A-Za-z0-9_-]{1,48}$/.test(clientId)) throw new AgentArgsError(`--client-id must match [A-Za-z0-9_-]{1,48}, got ${JSON.stringify(clientId)}`);
  const burst = values.burst === undefined ? undefined : int('burst', values.burst, 0);
  const samplesPerMessage = values['samples-per-message'] === undefined ? undefined : int('samples-per-message', values['samples-per-message'], 0);
  if (samplesPerMessage !== undefined && samplesPerMessage > 1000) throw new AgentArgsError(`--samples-per-message must be at most 1000, got ${samplesPerMessage}`);
  return {
    kind: 'run',
    logLevel,
    options: {
      brokerUrl: values.broker,
      username: values.username ?? env.PP_AGENT_USERNAME,
      password: values.password ?? env.PP_AGENT_PASSWORD,
      clientId,
      protocolVersion: version === '4' ? 4 : 5,
      clean: !values['persistent-session'],
      maxInFlight: int('max-in-flight', values['max-in-flight'], 100),
      sites: int('sites', values.sites, 1),
      linesPerSite: int('lines', values.lines, 2),
      machinesPerLine: int('machines', values.machines, 5),
      seed: int('seed', values.seed, 42, 0),
      sampleIntervalMs: int('interval', values.interval, 1000),
      publishIntervalMs: int('publish-every', values['publish-every'], 5000),
      samplesPerMessage,
      ...(burst === undefined ? { mode: 'realtime' as const } : { mode: 'burst' as const, samplesPerDevice: burst }),
    },
  };
}
