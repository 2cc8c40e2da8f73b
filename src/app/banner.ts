import type { Config } from '../config/index.js';
import { redactUrl } from '../observability/redact.js';
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
    `  Dashboard     ${platform.httpUrl}/dashboard/   (live plant, charts, alerts)`,
    `  Metrics       ${platform.httpUrl}/metrics${platform.auth.mode === 'required' && config.auth.metricsAuth === 'token' ? '   (a monitor token: token create --role monitor; deploy/prometheus/prometheus.yml)' : ''}`,
    intakeLine(config, platform),
    `  Storage       ${storage}`,
    simulator
      ? `  Simulator     ${config.simulator.sites} site(s) × ${config.simulator.lines} line(s) × ${config.simulator.machines} machine(s), a sample per ${config.simulator.intervalMs} ms, seed ${config.simulator.seed}`
      : '  Simulator     off',
  ];
  lines.push(...accessLines(platform));
  if (s.kind === 'v1' && s.url) {
    lines.push(
      '',
      '  See the data arrive:',
      `    curl -s ${platform.auth.mode === 'required' && config.auth.metricsAuth === 'token' ? '-H "Authorization: Bearer $TOKEN" ' : ''}${platform.httpUrl}/metrics | grep pp_samples_stored_total`,
      `    curl -sG ${s.url}/query --data-urlencode db=${s.database} --data-urlencode "q=SELECT count(power_kw) FROM telemetry WHERE time > now() - 5m GROUP BY device"`,
    );
  }
  lines.push('', '  Ctrl-C stops everything cleanly (buffered data is flushed first).', '');
  process.stdout.write(lines.join('\n') + '\n');
}

/** Where telemetry comes from: an MQTT broker, or (PP_SOURCE=nats) NATS as one role of a fleet (docs/scale-out.md). */
function intakeLine(config: Config, platform: Platform): string {
  if (config.source === 'nats') {
    const role = config.role === 'api' ? 'API node: alerts, live values and completeness from the workers\' streams' : `${config.role === 'worker' ? 'worker' : 'worker and API'} ${config.nats.workerId}, JetStream partitions`;
    return `  NATS          ${redactUrl(platform.mqttUrl)}   (${role})`;
  }
  return `  MQTT broker   ${redactUrl(platform.mqttUrl)}${platform.embeddedBroker ? `   (embedded aedes, MQTT 3.1.1${platform.auth.mode === 'required' ? '; password: an API token' : ''})` : ''}`;
}

/** How to get in: with PP_AUTH=required every API call needs a token (docs/access.md). */
function accessLines(platform: Platform): string[] {
  const { mode, firstAdminToken } = platform.auth;
  if (mode === 'off') return ['  Access        OFF (PP_AUTH=off): no tokens are checked; anyone who reaches this port is an admin'];
  const manage = 'npm run plantpulse -- token create --role manager --scope site-01   (also: token list, token revoke ID)';
  if (!firstAdminToken) return ['  Access        API tokens required (PP_AUTH=required)', `                more tokens: ${manage}`];
  return [
    '  Access        API tokens required (PP_AUTH=required). An admin token was created; it is shown',
    '                this once and stored only as a hash:',
    '',
    `                  ${firstAdminToken}`,
    '',
    `                curl -H "Authorization: Bearer ${firstAdminToken}" ${platform.httpUrl}/api/v1/alerts`,
    '                (the dashboard asks for it under Settings)',
    `                more tokens: ${manage}`,
  ];
}
