#!/usr/bin/env node
/**
 * plantpulse-agent: the gateway agent. Today: a simulated factory publishing over MQTT.
 *   plantpulse-agent --broker mqtt://127.0.0.1:1883 --sites 1 --lines 2 --machines 5 --seed 42
 *   plantpulse-agent --broker mqtt://... --burst 1000     # 1000 samples per machine, then exit
 * Exit codes: 0 done, 1 runtime failure (broker unreachable, publish failed), 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { AgentConfigError, loadAgentConfig } from './config/agent-config.js';
import { describePlan } from './config/plan.js';
import { startGateway } from './gateway.js';
import { startSimulatedFactory } from './agent.js';
import { AGENT_HELP, AgentArgsError, parseAgentArgs } from './cli-args.js';
import { AGENT_VERSION } from './publisher/index.js';

/** `--config FILE [--check]`: the configured gateway (Modbus and simulated devices, disk queue). */
async function runConfigured(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string' }, check: { type: 'boolean', default: false }, 'log-level': { type: 'string', default: 'info' } }, strict: true }));
  } catch (err) {
    throw new AgentArgsError(`${(err as Error).message} (with --config, only --check and --log-level may be given)`);
  }
  let config;
  try {
    config = loadAgentConfig(values.config!);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`plantpulse-agent: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (values.check) {
    process.stdout.write(describePlan(config));
    return 0;
  }
  const log = pino({ name: 'plantpulse-agent', level: values['log-level'], redact: ['password', '*.password'] });
  const gateway = await startGateway(config, log);
  log.info({ gateway: config.gateway.id, devices: config.devices.length, queue: config.queue.dir }, 'agent running');
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(130);
      signalled = true;
      log.info({ signal }, 'stopping: queueing buffered samples, publishing what the broker takes');
      void gateway.stop().then(() => {
        log.info(gateway.stats(), 'stopped');
        resolve(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.some((a) => a === '--config' || a.startsWith('--config='))) return runConfigured(argv);
  const args = parseAgentArgs(argv, process.env);
  if (args.kind === 'help') {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  if (args.kind === 'version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  const log = pino({ name: 'plantpulse-agent', level: args.logLevel, redact: ['password', '*.password'] });
  const factory = await startSimulatedFactory({ ...args.options, logger: log });
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130); // second signal: give up on a clean stop
    signalled = signal;
    log.info({ signal }, 'stopping');
    void factory.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const result = await factory.done;
  const stats = factory.stats();
  // The summary says what the counts say: a burst whose every sample was acknowledged is complete,
  // even if a signal arrived while the last PUBACKs were on their way.
  const complete = args.options.mode === 'burst' && stats.samples === (args.options.samplesPerDevice ?? NaN) * factory.plant.machines.length;
  const summary = { ...stats, devices: result.perDevice.size, ms: Math.round(result.elapsedMs), ...(signalled ? { signal: signalled } : {}) };
  log.info(summary, complete ? 'burst published and acknowledged' : 'stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof AgentArgsError) {
      process.stderr.write(`plantpulse-agent: ${err.message}\nRun plantpulse-agent --help for the options.\n`);
      process.exit(2);
    }
    process.stderr.write(`plantpulse-agent: ${err.message}\n`);
    process.exit(1);
  },
);
