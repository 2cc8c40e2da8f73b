import type { Config } from '../config/index.js';
import type { Platform } from './platform.js';

/** Tells a new user where to look, once everything is up. */
export function printBanner(config: Config, platform: Platform, simulator: boolean): void {
  const s = platform.storage;
  const storage =
    s.kind === 'none'
      ? 'NONE — no InfluxDB configured or found; history is NOT kept'
      : `${s.url} (InfluxDB ${s.kind} API, ${s.kind === 'v1' ? 'database' : 'bucket'} "${s.database}"${s.managed ? ', started by PlantPulse, data in ' + config.dataDir + '/influxdb' : ''})`;
  const lines = [
    '',
    'PlantPulse is running',
    `  HTTP API      ${platform.httpUrl}   (POST /api/v1/ingest, GET /readyz)`,
    `  Metrics       ${platform.httpUrl}/metrics`,
    `  MQTT broker   ${platform.mqttUrl}${platform.embeddedBroker ? '   (embedded aedes, MQTT 3.1.1)' : ''}`,
    `  Storage       ${storage}`,
    simulator
      ? `  Simulator     ${config.simulator.sites} site(s) × ${config.simulator.lines} line(s) × ${config.simulator.machines} machine(s), a sample per ${config.simulator.intervalMs} ms, seed ${config.simulator.seed}`
      : '  Simulator     off',
  ];
  if (s.kind === 'v1' && s.url) {
    lines.push(
      '',
      '  See the data arrive:',
      `    curl -s ${platform.httpUrl}/metrics | grep pp_samples_stored_total`,
      `    curl -sG ${s.url}/query --data-urlencode db=${s.database} --data-urlencode "q=SELECT count(power_kw) FROM telemetry WHERE time > now() - 5m GROUP BY device"`,
    );
  }
  lines.push('', '  Ctrl-C stops everything cleanly (buffered data is flushed first).', '');
  process.stdout.write(lines.join('\n') + '\n');
}
