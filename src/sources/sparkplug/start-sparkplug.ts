import type { Config } from '../../config/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { loadSparkplugMapping } from './mapping-file.js';
import { SparkplugSource } from './sparkplug-source.js';

/** At most one rebirth request per edge node this often (the spec leaves it to the host). */
const REBIRTH_MIN_INTERVAL_MS = 10_000;

/**
 * The Sparkplug source as configured (PP_SPARKPLUG_*), on the platform's broker, started.
 * The mapping file is read here, so a bad one stops start-up with its reason.
 */
export async function startSparkplug(config: Config, brokerUrl: string, embeddedBroker: boolean, pipeline: Pipeline, metrics: Metrics, log: Logger): Promise<SparkplugSource> {
  const sp = config.sparkplug;
  const mapping = await loadSparkplugMapping(sp.mappingFile);
  const source = new SparkplugSource(
    {
      url: brokerUrl,
      username: config.mqtt.username,
      password: config.mqtt.password,
      clientId: sp.clientId,
      protocolVersion: embeddedBroker ? 4 : 5, // aedes speaks 3.1.1
      sessionExpirySeconds: config.mqtt.sessionExpirySeconds,
      receiveMaximum: config.mqtt.receiveMaximum,
      windowBytes: config.mqtt.windowBytes || undefined,
      groups: sp.groups,
      hostId: sp.hostId,
      deadLetterPrefix: config.mqtt.deadLetterPrefix,
      mapping,
      limits: config.limits,
      reorderTimeoutMs: sp.reorderTimeoutMs,
      rebirthMinIntervalMs: REBIRTH_MIN_INTERVAL_MS,
    },
    pipeline,
    metrics,
    log,
  );
  try {
    await source.start();
  } catch (err) {
    await source.stop(0).catch(() => undefined); // do not leave a half-started client reconnecting
    throw err;
  }
  return source;
}
