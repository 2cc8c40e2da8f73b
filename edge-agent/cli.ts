#!/usr/bin/env node
/**
 * plantpulse-agent: the gateway agent. Today: a simulated factory publishing over MQTT.
 *   plantpulse-agent --broker mqtt://127.0.0.1:1883 --sites 1 --lines 2 --machines 5 --seed 42
 *   plantpulse-agent --broker mqtt://... --burst 1000     # 1000 samples per machine, then exit
 * Exit codes: 0 done, 1 runtime failure (broker unreachable, publish failed), 2 bad arguments.
 */
import { pino } from 'pino';
import { startSimulatedFactory } from './agent.js';
import { AGENT_HELP, AgentArgsError, parseAgentArgs } from './cli-args.js';
import { AGENT_VERSION } from './publisher/index.js';

async function main(): Promise<number> {
  const args = parseAgentArgs(process.argv.slice(2), process.env);
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
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130); // second signal: give up on a clean stop
    signalled = true;
    log.info({ signal }, 'stopping');
    void factory.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const result = await factory.done;
  log.info({ ...factory.stats(), devices: result.perDevice.size, ms: Math.round(result.elapsedMs) }, factory.mode === 'burst' && !signalled ? 'burst published and acknowledged' : 'stopped');
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
