/**
 * `npm start`: the platform with embedded defaults. Reads PP_* variables (docs/configuration.md),
 * installs InfluxDB when none is configured or installed (app/influx-install.ts), starts the
 * platform, and, by default when no broker is configured, a simulated factory publishing to it.
 * Ctrl-C (SIGINT) or SIGTERM stops intake, flushes what is buffered and exits; a second signal
 * exits at once.
 */
import { ConfigError, loadConfig } from './config/index.js';
import { createLogger } from './observability/index.js';
import { startPlatform } from './app/platform.js';
import { startSimulator } from './app/simulator.js';
import { printBanner } from './app/banner.js';
import { ensureInflux } from './app/influx-install.js';
import { applyHeapGrowth, boundOldGeneration } from './app/heap.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`plantpulse: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // The whole set-up on a fresh Debian machine: install influxd when nothing says otherwise.
  try {
    ensureInflux(config.influx, (line) => process.stderr.write(`plantpulse: ${line}\n`));
  } catch (err) {
    process.stderr.write(`plantpulse: ${(err as Error).message}\n`);
    process.exit(1);
  }
  // Before anything is allocated in earnest: memory follows live data, not the ingest rate.
  const log = createLogger(config.logLevel);
  if (config.heapBudgetMiB > 0) {
    boundOldGeneration(config.heapBudgetMiB, config.heapGrowthPercent, (percent, liveMiB) => log.debug({ heapGrowthPercent: percent || 'V8 default', liveMiB: Math.round(liveMiB) }, 'heap growth set for the budget'));
  } else applyHeapGrowth(config.heapGrowthPercent);
  log.info({ heapGrowthPercent: config.heapGrowthPercent || 'V8 default', heapBudgetMiB: config.heapBudgetMiB || 'none' }, 'V8 old generation grows by at most this % of live data between full collections, and within the budget while live data leaves room');
  const platform = await startPlatform(config, log);
  const simulator = config.simulator.enabled
    ? await startSimulator(config, platform.mqttUrl, platform.embeddedBroker, log.child({ component: 'simulator' }), platform.mqttCredentials)
    : null;
  printBanner(config, platform, simulator !== null);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping: intake first, then flushing buffered data');
    try {
      await simulator?.stop();
      await platform.stop();
      log.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`plantpulse: failed to start: ${err.message}\n`);
  process.exit(1);
});
