/**
 * docker compose deployment, checked by parsing (there is no Docker in CI): docker-compose.yml
 * with `${VAR}` substituted from .env.example, the Dockerfile and .dockerignore, the Mosquitto
 * and InfluxDB set-up under deploy/, and the Grafana provisioning under dashboards/grafana.
 * What the platform, the agent and storage accept is taken from their own code (ENV_VARS and
 * loadConfig, parseAgentArgs, the point builders), never restated here. The last block runs each
 * check on something deliberately broken, so every check is seen to fail when it should.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_VARS, loadConfig } from '../../../src/config/index.js';
import { METRIC_CATALOGUE, type TelemetryBatch } from '../../../src/contract/index.js';
import { ENERGY_FIELDS, ENERGY_MEASUREMENT, toEnergyPoint } from '../../../src/analytics/energy/energy-point.js';
import type { EnergyWindow } from '../../../src/analytics/energy/energy-window.js';
import { WINDOW_SIZE_NAMES } from '../../../src/analytics/energy/window-sizes.js';
import { CATEGORIES, SEVERITIES } from '../../../src/alerts/types.js';
import { alertPoint } from '../../../src/alerts/alert-points.js';
import type { AlertTransition } from '../../../src/alerts/types.js';
import { telemetryPoints, TELEMETRY_MEASUREMENT } from '../../../src/pipeline/to-points.js';
import { parseAgentArgs } from '../../../edge-agent/cli-args.js';
import {
  aclUsers,
  agentArgs,
  agentProblems,
  dashboardProblems,
  dashboardQueries,
  dependsOn,
  disagreements,
  dockerfileEnv,
  dockerfileProblems,
  dockerignoreExcludes,
  influxqlProblems,
  interpolate,
  interpolateDeep,
  isSecretName,
  missingBrokerSettings,
  mosquittoDirectives,
  mountProblems,
  parseDotEnv,
  parseDockerfile,
  platformConfigProblems,
  realLookingSecrets,
  serviceEnv,
  unknownPpVars,
  type ComposeFile,
  type ComposeService,
  type GrafanaDashboard,
  type StorageSchema,
} from '../../support/deploy-checks.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const KNOWN = new Set(Object.keys(ENV_VARS));
const BASE_IMAGE = 'node:20-bookworm-slim';
const GRAFANA_DIR = 'dashboards/grafana';
/** The tag names the dashboards may use (issue 6): nothing else is a tag in PlantPulse's storage. */
const ALLOWED_TAGS = ['site', 'line', 'device', 'window', 'rule', 'category', 'severity', 'transition'];

const example = parseDotEnv(read('.env.example'));
const interpolationProblems: string[] = [];
const composeRaw = parseYaml(read('docker-compose.yml')) as ComposeFile;
const compose = interpolateDeep(composeRaw, example, interpolationProblems);
const dockerfile = read('Dockerfile');
const dockerignore = read('.dockerignore');

/** Services built from this repository's Dockerfile: the platform (its CMD) and agents (a command). */
const ownImage = (svc: ComposeService) => svc.build !== undefined;
function servicesOf(c: ComposeFile) {
  const own = Object.entries(c.services).filter(([, s]) => ownImage(s));
  return {
    platforms: own.filter(([, s]) => s.command === undefined),
    agents: own.filter(([, s]) => agentArgs(s) !== null),
    others: Object.entries(c.services).filter(([, s]) => !ownImage(s)),
  };
}
const { platforms, agents } = servicesOf(compose);
const platformEntry = platforms[0];
const platformEnv = (svc: ComposeService) => ({ ...dockerfileEnv(dockerfile), ...serviceEnv(svc) });

/** Every PP_* variable set anywhere in compose: known to the platform, or (on gateways) read by the agent. */
function ppVarProblems(c: ComposeFile): string[] {
  const problems: string[] = [];
  const names = Object.keys(c.services);
  for (const [name, svc] of Object.entries(c.services)) {
    if (agentArgs(svc) !== null) problems.push(...agentProblems(name, svc, names, KNOWN));
    else problems.push(...unknownPpVars(serviceEnv(svc), KNOWN).map((v) => `${name}: ${v} is not a variable the platform knows`));
  }
  return problems;
}

/** What PlantPulse stores, from the code that builds the points. */
function storageSchema(): StorageSchema {
  const tel = telemetryPoints({ site: 's', line: 'l', device: 'd', seq: 0, samples: [{ ts: 0, m: {} }] } as unknown as TelemetryBatch)[0]!;
  const window = { start: 0, end: 3_600_000, windowMs: 3_600_000, site: 's', line: 'l', device: 'd', ...Object.fromEntries(Object.keys(ENERGY_FIELDS).map((k) => [k, 1])) };
  const energy = toEnergyPoint(window as unknown as EnergyWindow);
  const alert = { id: 'a', site: 's', line: 'l', device: 'd', rule: 'r', metric: 'm', category: 'safety', severity: 'warning', value: 1, peak: 1, count: 1, openedAt: 0, flapping: false, message: { en: 'e', zh: 'z', updatedAt: 0 }, threshold: 1, baseline: 1, ackedBy: 'x' };
  const stored = (['opened', 'updated', 'resolved', 'acknowledged'] as const).map((type) => alertPoint({ type, ts: 0, reason: 'cleared', alert } as unknown as AlertTransition)).filter((p) => p !== null);
  return {
    measurements: {
      [TELEMETRY_MEASUREMENT]: { tags: Object.keys(tel.tags), fields: [...Object.keys(METRIC_CATALOGUE), 'bad'] },
      [ENERGY_MEASUREMENT]: { tags: Object.keys(energy.tags), fields: Object.values(ENERGY_FIELDS) },
      [stored[0]!.measurement]: { tags: Object.keys(stored[0]!.tags), fields: [...new Set(stored.flatMap((p) => Object.keys(p.fields)))] },
    },
    tagValues: { window: WINDOW_SIZE_NAMES, category: CATEGORIES, severity: SEVERITIES, transition: stored.map((p) => p.tags.transition!) },
  };
}
const schema = storageSchema();

const datasourceFile = parseYaml(read(`${GRAFANA_DIR}/provisioning/datasources/influxdb.yaml`)) as { datasources: { uid: string; type: string; url: string; jsonData: Record<string, string>; secureJsonData: Record<string, string> }[] };
const datasource = datasourceFile.datasources[0]!;
const dashboardFiles = readdirSync(join(ROOT, GRAFANA_DIR, 'dashboards')).filter((f) => f.endsWith('.json'));
const dashboards = Object.fromEntries(dashboardFiles.map((f) => [f, JSON.parse(read(`${GRAFANA_DIR}/dashboards/${f}`)) as GrafanaDashboard]));

/** Container path at which `svc` mounts the repository path `source` (or a named volume). */
function mountTarget(svc: ComposeService, source: string): string | undefined {
  for (const v of svc.volumes ?? []) {
    if (typeof v !== 'string') continue;
    const [src, target] = v.split(':');
    if (src === source || src === `./${source}`) return target;
  }
  return undefined;
}
const service = (name: string): ComposeService => {
  const svc = compose.services[name];
  if (!svc) throw new Error(`docker-compose.yml has no service ${name}`);
  return svc;
};

describe('docker-compose.yml', () => {
  it('interpolates from .env.example: every required ${VAR} is in it', () => {
    expect(composeRaw.services).toBeDefined();
    expect(interpolationProblems).toEqual([]);
  });

  it('runs one platform and at least one simulated gateway from the repository Dockerfile', () => {
    expect(platforms.map(([n]) => n)).toEqual(['platform']);
    expect(agents.length).toBeGreaterThanOrEqual(1);
    for (const [name, svc] of [...platforms, ...agents]) {
      const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build!;
      expect(build.context, name).toBe('.');
      expect(build.dockerfile ?? 'Dockerfile', name).toBe('Dockerfile');
    }
  });

  it('sets only PP_* variables the platform knows (on gateways: or that plantpulse-agent reads)', () => {
    expect(Object.keys(platformEnv(platformEntry![1])).filter((k) => k.startsWith('PP_')).length).toBeGreaterThan(10);
    expect(ppVarProblems(compose)).toEqual([]);
  });

  it("gives the platform PP_* values that pass the platform's own validation, pointing at the compose services", () => {
    const [, svc] = platformEntry!;
    expect(platformConfigProblems(platformEnv(svc))).toEqual([]);
    const config = loadConfig(platformEnv(svc));
    expect(config.influx.api).toBe('v2');
    expect(config.influx.managed).toBe(false);
    expect(config.simulator.enabled).toBe(false);
    expect(config.auth.mode).toBe('required');
    expect(config.http.host).toBe('0.0.0.0');
    expect(new URL(config.mqtt.url!).hostname).toBe('mosquitto');
    expect(new URL(config.influx.url!).hostname).toBe('influxdb');
    expect(compose.services.mosquitto).toBeDefined();
    expect(compose.services.influxdb).toBeDefined();
    expect(svc.ports).toContain(`${config.http.port}:${config.http.port}`);
    expect(mountTarget(svc, 'platform-data')).toBe(config.dataDir);
    // Docker's SIGKILL must not cut the flush short.
    expect(Number(String(svc.stop_grace_period).replace(/s$/, '')) * 1000).toBeGreaterThan(config.writer.shutdownTimeoutMs);
  });

  it("runs gateways with options plantpulse-agent accepts, a broker that is a service, and no platform healthcheck", () => {
    for (const [name, svc] of agents) {
      expect(agentProblems(name, svc, Object.keys(compose.services), KNOWN)).toEqual([]);
      expect(svc.healthcheck?.disable, `${name}: the image's HEALTHCHECK probes the platform's /readyz`).toBe(true);
    }
  });

  it('mounts only files and directories that exist in the repository, and declared volumes', () => {
    const binds = Object.values(compose.services).flatMap((s) => (s.volumes ?? []).filter((v) => typeof v === 'string' && v.startsWith('./')));
    expect(binds.length).toBeGreaterThanOrEqual(7);
    expect(mountProblems(compose, ROOT)).toEqual([]);
  });

  it('gives every service that uses a credential the same value as the service that creates it', () => {
    const auth = serviceEnv(service('mosquitto-auth'));
    const pf = platformEnv(service('platform'));
    const influx = serviceEnv(service('influxdb'));
    const grafana = serviceEnv(service('grafana'));
    const problems: string[] = [];
    for (const [name, svc] of agents) {
      const parsed = parseAgentArgs(agentArgs(svc)!, serviceEnv(svc));
      if (parsed.kind !== 'run') throw new Error(name);
      problems.push(
        ...disagreements([
          { what: `${name} MQTT user`, a: parsed.options.username, b: auth.MQTT_GATEWAY_USER },
          { what: `${name} MQTT password`, a: parsed.options.password, b: auth.MQTT_GATEWAY_PASSWORD },
        ]),
      );
    }
    problems.push(
      ...disagreements([
        { what: 'platform MQTT user', a: pf.PP_MQTT_USERNAME, b: auth.MQTT_PLATFORM_USER },
        { what: 'platform MQTT password', a: pf.PP_MQTT_PASSWORD, b: auth.MQTT_PLATFORM_PASSWORD },
        { what: 'platform InfluxDB token', a: pf.PP_INFLUX_TOKEN, b: influx.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN },
        { what: 'Grafana InfluxDB token', a: grafana.INFLUXDB_TOKEN, b: influx.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN },
        { what: 'platform InfluxDB org', a: pf.PP_INFLUX_ORG, b: influx.DOCKER_INFLUXDB_INIT_ORG },
        { what: 'platform InfluxDB bucket', a: pf.PP_INFLUX_BUCKET, b: influx.DOCKER_INFLUXDB_INIT_BUCKET },
        { what: 'Grafana InfluxQL database (= bucket, DBRP)', a: grafana.INFLUXDB_DATABASE, b: influx.DOCKER_INFLUXDB_INIT_BUCKET },
        { what: 'InfluxDB admin password checked before start', a: auth.INFLUXDB_ADMIN_PASSWORD, b: influx.DOCKER_INFLUXDB_INIT_PASSWORD },
        { what: 'Grafana admin password checked before start', a: auth.GRAFANA_ADMIN_PASSWORD, b: grafana.GF_SECURITY_ADMIN_PASSWORD },
      ]),
    );
    expect(problems).toEqual([]);
    // The ACL has a block for every user the password file gets, and nothing for anyone else.
    expect(aclUsers(read('deploy/mosquitto/compose.acl')).sort()).toEqual([auth.MQTT_GATEWAY_USER, auth.MQTT_PLATFORM_USER].sort());
  });

  it('starts nothing before the secrets were checked and the password file written (mosquitto-auth)', () => {
    const deps = (name: string, seen = new Set<string>()): Set<string> => {
      for (const d of dependsOn(service(name))) if (!seen.has(d)) deps(d, seen.add(d));
      return seen;
    };
    for (const name of Object.keys(compose.services).filter((n) => n !== 'mosquitto-auth')) expect([...deps(name)], name).toContain('mosquitto-auth');
    for (const name of ['mosquitto', 'influxdb']) {
      const d = service(name).depends_on as Record<string, { condition?: string }>;
      expect(d['mosquitto-auth']?.condition, name).toBe('service_completed_successfully');
    }
    // Every secret of .env.example is handed to the check (so none can stay at its example value).
    const checked = new Set(Object.values(serviceEnv(service('mosquitto-auth'))));
    // NATS_* are deploy/nats/compose.yml's, checked there by its nats-tls step (nats-compose.test.ts).
    const secrets = Object.entries(example).filter(([k, v]) => isSecretName(k) && v !== '' && !k.startsWith('NATS_'));
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const [k, v] of secrets) expect(checked.has(v), `${k} is not checked by mosquitto-auth`).toBe(true);
  });
});

describe('Mosquitto for compose (deploy/mosquitto)', () => {
  const conf = read('deploy/mosquitto/compose.conf');
  const directives = mosquittoDirectives(conf);
  const value = (key: string) => directives.find((d) => d.startsWith(`${key} `))?.slice(key.length + 1);
  const broker = service('mosquitto');

  it('keeps every setting of the shipped mosquitto.conf (the one the tests run) except anonymous access', () => {
    expect(missingBrokerSettings(read('deploy/mosquitto/mosquitto.conf'), conf, ['allow_anonymous'])).toEqual([]);
  });

  it('requires a password; the password file, the ACL and the persistence live on volumes', () => {
    expect(value('allow_anonymous')).toBe('false');
    expect(mountTarget(broker, 'deploy/mosquitto/compose.conf')).toBe('/mosquitto/config/mosquitto.conf');
    const authDir = mountTarget(broker, 'mosquitto-auth');
    expect(authDir).toBeDefined();
    expect(value('password_file')).toBe(`${authDir}/passwd`);
    expect(value('acl_file')).toBe(`${authDir}/acl`);
    expect(mountTarget(service('mosquitto-auth'), 'mosquitto-auth')).toBe(authDir);
    expect(value('persistence')).toBe('true');
    expect(value('persistence_location')).toBe(`${mountTarget(broker, 'mosquitto-data')}/`);
    const port = value('listener');
    expect(new URL(platformEnv(service('platform')).PP_MQTT_URL!).port || '1883').toBe(port);
    for (const [, svc] of agents) expect(new URL(agentArgs(svc)![agentArgs(svc)!.indexOf('--broker') + 1]!).port || '1883').toBe(port);
  });

  it('mosquitto-auth refuses the example secrets and accepts real ones', () => {
    const env = serviceEnv(service('mosquitto-auth'));
    const run = (e: Record<string, string>) => spawnSync('sh', [join(ROOT, 'deploy/mosquitto/make-auth.sh'), '--check'], { env: { PATH: process.env.PATH, ...e }, encoding: 'utf8' });
    const refused = run(env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/MQTT_PLATFORM_PASSWORD still has its example value/);
    const real = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isSecretName(k) ? randomBytes(24).toString('hex') : v]));
    const accepted = run(real);
    expect(accepted.stderr).toBe('');
    expect(accepted.status).toBe(0);
    expect(run({ ...real, INFLUXDB_TOKEN: 'short' }).status).toBe(1);
    expect(statSync(join(ROOT, 'deploy/mosquitto/make-auth.sh')).isFile()).toBe(true);
  });
});

describe('InfluxDB for compose (deploy/influxdb)', () => {
  it('is set up from DOCKER_INFLUXDB_INIT_* and maps InfluxQL database <bucket>/autogen to the bucket on first start', () => {
    const influx = service('influxdb');
    const env = serviceEnv(influx);
    expect(env.DOCKER_INFLUXDB_INIT_MODE).toBe('setup');
    for (const k of ['USERNAME', 'PASSWORD', 'ORG', 'BUCKET', 'ADMIN_TOKEN']) expect(env[`DOCKER_INFLUXDB_INIT_${k}`], k).toBeTruthy();
    expect(mountTarget(influx, 'deploy/influxdb/init')).toBe('/docker-entrypoint-initdb.d');
    const scripts = readdirSync(join(ROOT, 'deploy/influxdb/init')).filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThan(0);
    // The image runs them with run-parts: only executable files run.
    for (const f of scripts) expect(statSync(join(ROOT, 'deploy/influxdb/init', f)).mode & 0o111, `${f} must be executable`).not.toBe(0);
    const dbrp = scripts.map((f) => read(`deploy/influxdb/init/${f}`)).join('\n');
    expect(dbrp).toMatch(/influx v1 dbrp create[^\n]*--db "\$\{db\}"[^\n]*--rp autogen[^\n]*--bucket-id[^\n]*--default/);
    expect(dbrp).toMatch(/db="\$\{DOCKER_INFLUXDB_INIT_BUCKET:\?\}"/);
  });
});

describe('Dockerfile and .dockerignore', () => {
  it(`builds on ${BASE_IMAGE}, copies only what exists and .dockerignore lets through, runs as non-root with a /readyz HEALTHCHECK`, () => {
    expect(dockerfileProblems(dockerfile, dockerignore, ROOT, { baseImage: BASE_IMAGE, knownVars: KNOWN })).toEqual([]);
    expect(parseDockerfile(dockerfile).filter((i) => i.instruction === 'COPY').length).toBeGreaterThanOrEqual(8);
  });

  it('builds in a separate stage: native toolchain for better-sqlite3, npm ci, npm run build, dev dependencies pruned', () => {
    const runs = parseDockerfile(dockerfile)
      .filter((i) => i.instruction === 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(JSON.parse(read('package.json')).dependencies['better-sqlite3']).toBeDefined();
    expect(runs).toMatch(/apt-get install[^\n]*python3[^\n]*make[^\n]*g\+\+/);
    expect(runs).toMatch(/npm ci/);
    expect(runs).toMatch(/npm run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
    expect(parseDockerfile(dockerfile).filter((i) => i.instruction === 'FROM')).toHaveLength(2);
  });

  it('keeps secrets and local state out of the build context and out of git', () => {
    for (const p of ['.env', 'data/alerts.sqlite', 'node_modules/zod/package.json', 'dist/src/main.js', '.git/HEAD', 'test/unit/x.test.ts']) expect(dockerignoreExcludes(dockerignore, p), p).toBe(true);
    expect(read('.gitignore').split('\n').map((l) => l.trim())).toContain('.env');
    expect(realLookingSecrets(example)).toEqual([]);
  });
});

describe('Grafana (dashboards/grafana)', () => {
  const grafana = service('grafana');
  const grafanaEnv = serviceEnv(grafana);
  /** Grafana replaces $VAR / ${VAR} in provisioning files with its environment. */
  const expand = (s: string) => {
    const problems: string[] = [];
    const out = interpolate(s, grafanaEnv, problems, 'provisioning');
    expect(problems).toEqual([]);
    return out;
  };

  it('provisions an InfluxQL data source on InfluxDB 2.7 (v1 endpoint, DBRP database, token header)', () => {
    expect(datasource.type).toBe('influxdb');
    expect(datasource.jsonData.version).toBe('InfluxQL');
    expect(new URL(datasource.url).hostname).toBe('influxdb');
    expect(expand(datasource.jsonData.dbName!)).toBe(serviceEnv(service('influxdb')).DOCKER_INFLUXDB_INIT_BUCKET);
    expect(datasource.jsonData.httpHeaderName1).toBe('Authorization');
    expect(expand(datasource.secureJsonData.httpHeaderValue1!)).toBe(`Token ${serviceEnv(service('influxdb')).DOCKER_INFLUXDB_INIT_ADMIN_TOKEN}`);
    expect(mountTarget(grafana, `${GRAFANA_DIR}/provisioning/datasources`)).toBe('/etc/grafana/provisioning/datasources');
  });

  it('provisions the dashboards from the directory compose mounts, with the home dashboard among them', () => {
    const providers = (parseYaml(read(`${GRAFANA_DIR}/provisioning/dashboards/plantpulse.yaml`)) as { providers: { type: string; options: { path: string } }[] }).providers;
    expect(mountTarget(grafana, `${GRAFANA_DIR}/provisioning/dashboards`)).toBe('/etc/grafana/provisioning/dashboards');
    const target = mountTarget(grafana, `${GRAFANA_DIR}/dashboards`);
    expect(providers.map((p) => p.options.path)).toEqual([target]);
    const home = grafanaEnv.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith(`${target}/`)).toBe(true);
    expect(dashboardFiles).toContain(home.slice(target!.length + 1));
  });

  it('has three dashboards (energy, machine health, alerts) whose InfluxQL names only stored measurements, tags and fields', () => {
    expect(dashboardFiles.sort()).toEqual(['alerts.json', 'machine-health.json', 'plant-energy.json']);
    expect(new Set(Object.values(dashboards).map((d) => d.uid)).size).toBe(3);
    for (const [file, d] of Object.entries(dashboards)) {
      expect(dashboardProblems(d, schema, datasource.uid), file).toEqual([]);
      expect(dashboardQueries(d).length, file).toBeGreaterThanOrEqual(8);
    }
    // The schema itself only has the tags the dashboards may use.
    for (const m of Object.values(schema.measurements)) for (const t of m.tags) expect(ALLOWED_TAGS).toContain(t);
    expect(Object.keys(schema.measurements).sort()).toEqual(['alert', 'energy', 'telemetry']);
  });

  it('filters by site, line (and device) with SHOW TAG VALUES variables, each on the measurement the dashboard reads', () => {
    const expected: Record<string, [string, string[]]> = {
      'plant-energy.json': ['energy', ['site', 'line']],
      'machine-health.json': ['telemetry', ['site', 'line', 'device']],
      'alerts.json': ['alert', ['site', 'line', 'device', 'category', 'severity']],
    };
    for (const [file, [measurement, vars]] of Object.entries(expected)) {
      const list = (dashboards[file]!.templating?.list ?? []) as { name: string; query: string }[];
      expect(list.map((v) => v.name), file).toEqual(vars);
      for (const v of list) expect(v.query, `${file} $${v.name}`).toMatch(new RegExp(`^SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${v.name}"`));
      const panelQueries = dashboardQueries(dashboards[file]!).filter((q) => q.target);
      for (const q of panelQueries) expect(q.query, `${file} ${q.where}`).toContain(`FROM "${measurement}"`);
      for (const v of vars.filter((n) => ALLOWED_TAGS.includes(n))) for (const q of panelQueries) expect(q.query, `${file} ${q.where}`).toContain(`"${v}" =~ /^$${v}$/`);
    }
  });

  it('the energy dashboard shows energy per hour and day, tce, CO2, intensity and idle share', () => {
    const queries = dashboardQueries(dashboards['plant-energy.json']!).map((q) => q.query);
    for (const needle of [`"window" = '1h'`, `"window" = '1d'`, 'sum("tce")', 'sum("co2_kg")', 'sum("output_units")', 'sum("idle_kwh")']) expect(queries.some((q) => q.includes(needle)), needle).toBe(true);
    const health = dashboardQueries(dashboards['machine-health.json']!).map((q) => q.query);
    for (const metric of ['power_kw', 'temperature_c', 'vibration_mm_s', 'state']) expect(health.some((q) => q.includes(`("${metric}")`)), metric).toBe(true);
    const alerts = dashboardQueries(dashboards['alerts.json']!).map((q) => q.query);
    for (const tag of ['category', 'severity']) expect(alerts.some((q) => q.includes(`GROUP BY "${tag}"`)), tag).toBe(true);
    expect(alerts.some((q) => q.includes('"message_en"') && q.includes('ORDER BY time DESC'))).toBe(true);
  });
});

describe('the checks catch mistakes', () => {
  const clone = (): ComposeFile => structuredClone(compose);
  const env = (c: ComposeFile, name: string) => c.services[name]!.environment as Record<string, string>;

  it('a misspelt PP_* variable, on the platform or on a gateway', () => {
    expect(unknownPpVars({ PP_MQTT_PASWORD: 'x', PP_LOG_LEVEL: 'info', OTHER: 'y' }, KNOWN)).toEqual(['PP_MQTT_PASWORD']);
    const bad = clone();
    env(bad, 'platform').PP_INFLUX_TOKN = 'x';
    env(bad, 'grafana').PP_SIMULATR = 'true';
    env(bad, agents[0]![0]).PP_AGENT_PASWORD = 'x';
    const problems = ppVarProblems(bad);
    expect(problems).toContain('platform: PP_INFLUX_TOKN is not a variable the platform knows');
    expect(problems).toContain('grafana: PP_SIMULATR is not a variable the platform knows');
    expect(problems.some((p) => p.includes('PP_AGENT_PASWORD, which plantpulse-agent does not read'))).toBe(true);
  });

  it('a platform value its configuration refuses', () => {
    const good = platformEnv(service('platform'));
    expect(platformConfigProblems({ ...good, PP_INFLUX_API: 'v3' }).join('\n')).toMatch(/^PP_INFLUX_API:/m);
    expect(platformConfigProblems({ ...good, PP_INFLUX_TOKEN: '' }).join('\n')).toMatch(/PP_INFLUX_TOKEN: required when PP_INFLUX_API=v2/);
    expect(platformConfigProblems({ ...good, PP_MQTT_URL: 'http://mosquitto:1883' }).join('\n')).toMatch(/^PP_MQTT_URL:/m);
  });

  it('a required ${VAR} that .env.example lacks', () => {
    const problems: string[] = [];
    expect(interpolate('a${NOPE:?set it}b$${X}${D:-dflt}${E-}', { E: '' }, problems, 'here')).toBe('ab${X}dflt');
    expect(problems).toEqual(['here: ${NOPE} is required (set it) but not set']);
    expect(interpolate('${EMPTY:?x}', { EMPTY: '' }, problems, 'there')).toBe('');
    expect(problems).toHaveLength(2);
  });

  it('a mount of a missing file, an absolute host path, an undeclared volume', () => {
    const bad = clone();
    bad.services.mosquitto!.volumes!.push('./deploy/mosquitto/nope.conf:/x:ro', '/etc/passwd:/y', 'undeclared:/z');
    expect(mountProblems(bad, ROOT)).toEqual([
      'mosquitto: mounts ./deploy/mosquitto/nope.conf, which does not exist in the repository',
      'mosquitto: mounts the host path /etc/passwd; use a path inside the repository',
      'mosquitto: uses the volume undeclared, which is not declared under volumes:',
    ]);
  });

  it('gateway options plantpulse-agent refuses, or a broker that is not a service', () => {
    const [name, svc] = agents[0]!;
    const names = Object.keys(compose.services);
    const withArgs = (args: string[]): ComposeService => ({ ...svc, command: ['node', 'dist/edge-agent/cli.js', ...args] });
    expect(agentProblems(name, withArgs(['--brokr', 'mqtt://mosquitto:1883']), names, KNOWN)[0]).toMatch(/refuses its options: .*--brokr/);
    expect(agentProblems(name, withArgs(['--broker', 'mqtt://mosquitto:1883', '--sites', '0']), names, KNOWN)[0]).toMatch(/--sites must be an integer/);
    expect(agentProblems(name, withArgs(['--broker', 'mqtt://nosuch:1883']), names, KNOWN)).toEqual([`${name}: --broker mqtt://nosuch:1883 names no service of this compose file`]);
    expect(agentProblems(name, withArgs(['--help']), names, KNOWN)).toEqual([`${name}: the options only print help; the gateway would not run`]);
    // --username given: PP_AGENT_USERNAME would be ignored, so setting it is a mistake too.
    expect(agentProblems(name, { ...withArgs(['--broker', 'mqtt://mosquitto:1883', '--username', 'gw']), environment: { PP_AGENT_USERNAME: 'other' } }, names, KNOWN)[0]).toMatch(/PP_AGENT_USERNAME, which plantpulse-agent does not read/);
  });

  it('a Dockerfile copying what is missing or ignored, on another base, as root, without a readiness check', () => {
    const bad = ['FROM node:18-slim AS build', 'COPY nope ./nope', 'COPY test ./test', 'ENV PP_HTTP_HOTS=0.0.0.0', 'FROM node:20-bookworm-slim', 'COPY --from=build /app/x ./x', 'USER root', 'CMD ["node", "dist/src/nomain.js"]'].join('\n');
    expect(dockerfileProblems(bad, dockerignore, ROOT, { baseImage: BASE_IMAGE, knownVars: KNOWN })).toEqual([
      'line 1: FROM node:18-slim, expected node:20-bookworm-slim',
      'line 2: COPY nope: not in the build context',
      'line 3: COPY test: .dockerignore keeps it out of the build context',
      'line 4: ENV PP_HTTP_HOTS is not a variable the platform knows',
      'line 7: USER root: runs as root',
      'final stage: no HEALTHCHECK on /readyz',
      'line 8: CMD runs dist/src/nomain.js, which no TypeScript source builds',
    ]);
  });

  it('.dockerignore matching: last pattern wins, parents match, ! re-includes', () => {
    const ignore = '*\n!src\n!dashboards/web\nsrc/secret.ts\n';
    expect(dockerignoreExcludes(ignore, 'src/main.ts')).toBe(false);
    expect(dockerignoreExcludes(ignore, 'src/secret.ts')).toBe(true);
    expect(dockerignoreExcludes(ignore, 'dashboards/web/index.html')).toBe(false);
    expect(dockerignoreExcludes(ignore, 'dashboards/grafana/x.json')).toBe(true);
    expect(dockerignoreExcludes('**/*.log\n', 'a/b/c.log')).toBe(true);
  });

  it('InfluxQL naming a wrong measurement, tag, field, tag value, function or variable', () => {
    const vars = ['site', 'line', 'device'];
    const check = (q: string) => influxqlProblems(q, schema, vars);
    const ok = `SELECT mean("power_kw") FROM "telemetry" WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY time($__interval), "device" fill(null)`;
    expect(check(ok)).toEqual([]);
    expect(check(ok.replace('"telemetry"', '"telemetri"'))).toContain('unknown measurement "telemetri"');
    expect(check(ok.replace('"power_kw"', '"power_kwh"'))).toEqual(['"power_kwh" is not a tag or field of telemetry']);
    expect(check(ok.replace(', "device"', ', "host"'))).toEqual(['"host" in GROUP BY is not a tag of telemetry']);
    expect(check(ok.replace(', "device"', ', "window"'))).toEqual(['"window" in GROUP BY is not a tag of telemetry']);
    expect(check(ok.replace('"site" =~', '"power_kw" =~'))).toEqual(['"power_kw" compared with a regex is not a tag of telemetry']);
    expect(check(ok.replace('$site', '$sit'))).toEqual(['unknown variable $sit in /^$sit$/']);
    expect(check(ok.replace('mean(', 'mena('))).toEqual(['unknown function mena()']);
    expect(check(ok.replace(' AND $timeFilter', ''))).toEqual(['SELECT without $timeFilter (reads all of history)']);
    expect(check(`SELECT sum("kwh") FROM "energy" WHERE "window" = '1hr' AND $timeFilter`)).toEqual([`"window" = '1hr': window is one of ${WINDOW_SIZE_NAMES.join(', ')}`]);
    expect(check(`SELECT count("id") FROM "alert" WHERE "transition" = 'open' AND $timeFilter`)[0]).toMatch(/"transition" = 'open': transition is one of opened, resolved, acknowledged/);
    expect(check(`SELECT count("id") FROM "alert" WHERE "severity" = 'critcal' AND $timeFilter`)[0]).toMatch(/severity is one of info, warning, critical/);
    expect(check('SHOW TAG VALUES FROM "telemetry" WITH KEY = "host"')).toEqual(['"host" in WITH KEY is not a tag of telemetry']);
    expect(check('SHOW MEASUREMENTS')[0]).toMatch(/only SELECT and SHOW TAG VALUES/);
    expect(check(`SELECT "k" / "u" FROM (SELECT sum("kwh") AS "k", sum("output_units") AS "u" FROM "energy" WHERE $timeFilter GROUP BY time(1h), "line") WHERE "u" > 0 AND $timeFilter GROUP BY "line"`)).toEqual([]);
    expect(check(`SELECT "k" / "x" FROM (SELECT sum("kwh") AS "k" FROM "energy" WHERE $timeFilter) WHERE $timeFilter`)).toEqual(['"x" is not a tag or field of the subquery on energy']);
    // An alias is a column of its statement for the query around it, not a field of the measurement.
    expect(check(`SELECT "kwh" FROM (SELECT sum("kwhh") AS "kwhh" FROM "energy" WHERE $timeFilter) WHERE $timeFilter`)).toEqual(['"kwh" is not a tag or field of the subquery on energy', '"kwhh" is not a tag or field of energy']);
    expect(check(`SELECT "k" / "u" FROM (SELECT sum("kwh") AS "k", sum("output_units") AS "u" FROM "energy" WHERE $timeFilter GROUP BY time(1h), "host") WHERE $timeFilter GROUP BY "line"`)).toEqual(['"host" in GROUP BY is not a tag of energy']);
  });

  it('a dashboard on another data source, in builder mode, or with a $tag_ alias that is no tag', () => {
    const d = structuredClone(dashboards['machine-health.json']!) as GrafanaDashboard & { panels: { datasource: { uid: string }; targets: { rawQuery: boolean; alias: string }[] }[] };
    d.panels[1]!.datasource = { uid: 'other' };
    d.panels[2]!.targets[0]!.rawQuery = false;
    d.panels[3]!.targets[0]!.alias = '$tag_host';
    const problems = dashboardProblems(d, schema, datasource.uid);
    expect(problems.some((p) => p.includes('is not the provisioned plantpulse-influxdb'))).toBe(true);
    expect(problems.some((p) => p.includes('not a raw InfluxQL query'))).toBe(true);
    expect(problems.some((p) => p.includes('alias uses $tag_host, not a tag'))).toBe(true);
  });

  it('a broker configuration that lost a durability setting, secrets that look real, credentials that differ', () => {
    const shipped = read('deploy/mosquitto/mosquitto.conf');
    const conf = read('deploy/mosquitto/compose.conf').replace(/^max_queued_messages .*$/m, '');
    expect(missingBrokerSettings(shipped, conf, ['allow_anonymous'])).toEqual(['max_queued_messages 10000000']);
    expect(realLookingSecrets({ MQTT_GATEWAY_PASSWORD: 'hunter2hunter2', INFLUXDB_TOKEN: 'change-me-x', PP_BOOTSTRAP_ADMIN_TOKEN: '', INFLUXDB_ORG: 'plantpulse' })).toEqual(['MQTT_GATEWAY_PASSWORD']);
    expect(disagreements([{ what: 'token', a: 'a', b: 'b' }, { what: 'unset', a: undefined, b: undefined }, { what: 'same', a: 'x', b: 'x' }])).toEqual(['token: "a" vs "b"', 'unset: undefined vs undefined']);
  });
});
