#!/usr/bin/env node
/**
 * plantpulse-agent: the gateway agent. Today: a simulated factory publishing over MQTT.
 *   plantpulse-agent --broker mqtt://127.0.0.1:1883 --sites 1 --lines 2 --machines 5 --seed 42
 *   plantpulse-agent --broker mqtt://... --burst 1000     # publish 1000 samples per machine, then exit
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { publishBurst, startSimulatedFactory } from './agent.js';

const HELP = `plantpulse-agent — PlantPulse edge agent (simulated factory)

Options:
  --broker URL           MQTT broker (default mqtt://127.0.0.1:1883)
  --username NAME        broker username
  --password SECRET      broker password (or env PP_AGENT_PASSWORD)
  --mqtt-version 4|5     MQTT protocol: 5 (default), 4 for MQTT 3.1.1 brokers such as the embedded aedes
  --sites N              simulated sites (default 1)
  --lines N              lines per site (default 2)
  --machines N           machines per line (default 5)
  --seed N               simulator seed (default 42)
  --interval MS          sampling interval (default 1000)
  --publish-every MS     realtime: publish batches this often (default 5000)
  --burst N              publish N samples per machine as fast as the broker acks, then exit
  --help                 this text
`;

function int(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      username: { type: 'string' },
      password: { type: 'string' },
      'mqtt-version': { type: 'string', default: '5' },
      sites: { type: 'string' },
      lines: { type: 'string' },
      machines: { type: 'string' },
      seed: { type: 'string' },
      interval: { type: 'string' },
      'publish-every': { type: 'string' },
      burst: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const version = values['mqtt-version'];
  if (version !== '4' && version !== '5') throw new Error(`--mqtt-version must be 4 or 5, got ${JSON.stringify(version)}`);
  try {
    new URL(values.broker);
  } catch {
    throw new Error(`--broker must be a URL such as mqtt://host:1883, got ${JSON.stringify(values.broker)}`);
  }
  const log = pino({ name: 'plantpulse-agent' });
  const opts = {
    brokerUrl: values.broker,
    username: values.username,
    password: values.password ?? process.env.PP_AGENT_PASSWORD,
    protocolVersion: Number(version) as 4 | 5,
    sites: int('sites', values.sites, 1),
    linesPerSite: int('lines', values.lines, 2),
    machinesPerLine: int('machines', values.machines, 5),
    seed: int('seed', values.seed, 42, 0),
    sampleIntervalMs: int('interval', values.interval, 1000),
    publishIntervalMs: int('publish-every', values['publish-every'], 5000),
    logger: log,
  };
  if (values.burst !== undefined) {
    const r = await publishBurst({ ...opts, samplesPerDevice: int('burst', values.burst, 1) });
    log.info({ messages: r.messages, samples: r.samples, devices: r.perDevice.size, ms: Math.round(r.elapsedMs) }, 'burst published and acknowledged');
    return;
  }
  const factory = await startSimulatedFactory(opts);
  const stop = async () => {
    await factory.stop();
    log.info(factory.stats(), 'stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: Error) => {
  process.stderr.write(`plantpulse-agent: ${err.message}\n\n${err.message.startsWith('--') || err.message.includes('Unknown option') ? HELP : ''}`);
  process.exit(2);
});
