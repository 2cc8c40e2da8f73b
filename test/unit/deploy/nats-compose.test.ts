/**
 * deploy/nats/compose.yml (scale-out on a 3-node NATS cluster), checked by parsing (there is no
 * Docker here): interpolated from .env.example; three NATS nodes running the shipped nats.conf,
 * each with its own name and store volume, one cluster name and routes to all three; workers whose
 * settings pass the platform's own validation and point at every node over TLS with three
 * replicas; an API node; credentials that agree. The last block runs the checks on broken copies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_VARS, loadConfig } from '../../../src/config/index.js';
import { commandWords, interpolateDeep, mountProblems, parseDotEnv, platformConfigProblems, serviceEnv, unknownPpVars, type ComposeFile, type ComposeService } from '../../support/deploy-checks.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(ROOT, 'deploy/nats');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const example = parseDotEnv(read('.env.example'));

const KNOWN = new Set(Object.keys(ENV_VARS));

function load(text: string): { compose: ComposeFile; problems: string[] } {
  const problems: string[] = [];
  const compose = interpolateDeep(parseYaml(text, { merge: true }) as ComposeFile, example, problems);
  return { compose, problems };
}

/** The value of `--flag` in a nats-server command line. */
function flag(words: readonly string[], name: string): string | undefined {
  const i = words.indexOf(name);
  return i === -1 ? undefined : words[i + 1];
}

interface NodeFacts {
  name: string;
  service: string;
  cluster: string | undefined;
  routes: string[];
  conf: string | undefined;
  store: string | undefined;
}

function natsNodes(c: ComposeFile): NodeFacts[] {
  return Object.entries(c.services)
    .filter(([, s]) => typeof s.image === 'string' && s.image.startsWith('nats:'))
    .map(([service, s]) => {
      const words = commandWords(s) ?? [];
      const volumes = (s.volumes ?? []).filter((v): v is string => typeof v === 'string');
      return {
        service,
        name: flag(words, '--name') ?? '',
        cluster: flag(words, '--cluster_name'),
        routes: (flag(words, '--routes') ?? '').split(',').filter(Boolean),
        conf: volumes.find((v) => v.split(':')[1] === flag(words, '-c'))?.split(':')[0],
        store: volumes.find((v) => v.split(':')[1] === '/var/lib/nats')?.split(':')[0],
      };
    });
}

/** Problems of the NATS nodes: distinct names and stores, one cluster, routes to every node by service name, the shipped nats.conf. */
function clusterProblems(c: ComposeFile): string[] {
  const nodes = natsNodes(c);
  const problems: string[] = [];
  if (nodes.length !== 3) problems.push(`${nodes.length} NATS nodes, not 3`);
  if (new Set(nodes.map((n) => n.name)).size !== nodes.length || nodes.some((n) => !n.name)) problems.push('NATS nodes need distinct server names (--name)');
  if (new Set(nodes.map((n) => n.store)).size !== nodes.length || nodes.some((n) => !n.store)) problems.push('each NATS node needs its own store volume at /var/lib/nats');
  if (new Set(nodes.map((n) => n.cluster)).size !== 1 || !nodes[0]?.cluster) problems.push('NATS nodes need one cluster name (--cluster_name)');
  const wanted = nodes.map((n) => `nats://${n.service}:6222`).sort();
  for (const n of nodes) {
    if (JSON.stringify([...n.routes].sort()) !== JSON.stringify(wanted)) problems.push(`${n.service}: routes ${n.routes.join(',')} do not name every node (${wanted.join(',')})`);
    if (n.conf !== './nats.conf') problems.push(`${n.service}: runs ${n.conf ?? 'no config'}, not the shipped deploy/nats/nats.conf`);
  }
  return problems;
}

const workersOf = (c: ComposeFile) => Object.entries(c.services).filter(([, s]) => serviceEnv(s).PP_SOURCE === 'nats' && serviceEnv(s).PP_ROLE !== 'api');

/** Problems of the workers: valid settings, every node over TLS, three replicas, distinct ids and data volumes, the cluster's password. */
function workerProblems(c: ComposeFile): string[] {
  const problems: string[] = [];
  const workers = workersOf(c);
  const nodes = natsNodes(c);
  const platformPassword = serviceEnv(c.services[nodes[0]?.service ?? ''] ?? ({} as ComposeService)).PP_NATS_PLATFORM_PASSWORD;
  for (const [name, svc] of workers) {
    const env = serviceEnv(svc);
    const invalid = [...unknownPpVars(env, KNOWN).map((v) => `${name}: ${v} is not a variable the platform knows`), ...platformConfigProblems(env).map((p) => `${name}: ${p}`)];
    problems.push(...invalid);
    if (invalid.length > 0) continue;
    const config = loadConfig(env);
    const hosts = config.nats.servers.map((u) => new URL(u));
    if (hosts.some((u) => u.protocol !== 'tls:')) problems.push(`${name}: PP_NATS_URL must use tls:// (the shipped nats.conf requires TLS)`);
    if (JSON.stringify(hosts.map((u) => u.hostname).sort()) !== JSON.stringify(nodes.map((n) => n.service).sort())) problems.push(`${name}: PP_NATS_URL does not list every NATS node`);
    if (config.nats.replicas !== 3) problems.push(`${name}: PP_NATS_REPLICAS is ${config.nats.replicas}, not 3`);
    if (config.nats.password !== platformPassword) problems.push(`${name}: PP_NATS_PASSWORD is not the nodes' PP_NATS_PLATFORM_PASSWORD`);
    const tlsMount = (svc.volumes ?? []).find((v) => typeof v === 'string' && v.startsWith('nats-tls:'));
    if (!config.nats.tlsCaFile || !tlsMount || !config.nats.tlsCaFile.startsWith(String(tlsMount).split(':')[1]!)) problems.push(`${name}: PP_NATS_TLS_CA_FILE must lie in the nats-tls volume`);
    if (new URL(config.influx.url!).hostname !== 'influxdb') problems.push(`${name}: PP_INFLUX_URL is not the influxdb service`);
  }
  const ids = workers.map(([, s]) => serviceEnv(s).PP_NATS_WORKER_ID);
  if (new Set(ids).size !== ids.length || ids.some((id) => !id)) problems.push('workers need distinct PP_NATS_WORKER_ID');
  const data = workers.map(([, s]) => (s.volumes ?? []).find((v) => typeof v === 'string' && v.endsWith(':/var/lib/plantpulse')));
  if (new Set(data).size !== data.length || data.some((d) => !d)) problems.push('workers need their own data volume');
  return problems;
}

const shipped = read('deploy/nats/compose.yml');
const { compose, problems: interpolation } = load(shipped);

describe('deploy/nats/compose.yml', () => {
  it('interpolates from .env.example, every required ${VAR} in it', () => {
    expect(Object.keys(compose.services).length).toBeGreaterThanOrEqual(8);
    expect(interpolation).toEqual([]);
  });

  it('runs a 3-node NATS cluster: the shipped nats.conf, distinct names and stores, one cluster, routes to all', () => {
    expect(natsNodes(compose).map((n) => n.name)).toEqual(['pp-nats-1', 'pp-nats-2', 'pp-nats-3']);
    expect(clusterProblems(compose)).toEqual([]);
    expect(mountProblems(compose, DIR)).toEqual([]);
  });

  it('runs three workers (PP_ROLE=worker) on every node over TLS with R3 streams, and an API node (PP_ROLE=api)', () => {
    expect(workersOf(compose).map(([n]) => n)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    for (const [, svc] of workersOf(compose)) expect(serviceEnv(svc).PP_ROLE).toBe('worker');
    expect(workerProblems(compose)).toEqual([]);
    const api = serviceEnv(compose.services.api!);
    expect(api.PP_ROLE).toBe('api');
    expect(platformConfigProblems(api)).toEqual([]);
    expect(loadConfig(api).role).toBe('api');
    expect(compose.services.influxdb).toBeDefined();
  });

  it('checks every secret .env.example lists for it before anything starts', () => {
    const check = compose.services['nats-tls']!;
    expect(commandWords(check)?.join(' ') ?? (check.entrypoint as string[]).join(' ')).toContain('make-auth.sh --check');
    const checked = new Set(Object.values(serviceEnv(check)));
    const used = new Set(Object.values(compose.services).flatMap((s) => Object.values(serviceEnv(s))));
    const secrets = Object.entries(example).filter(([k, v]) => /(_PASSWORD|_TOKEN)$/.test(k) && v !== '' && used.has(v));
    expect(secrets.map(([k]) => k).sort()).toEqual(['INFLUXDB_ADMIN_PASSWORD', 'INFLUXDB_TOKEN', 'NATS_GW_SITE01_PASSWORD', 'NATS_PLATFORM_PASSWORD']);
    for (const [k, v] of secrets) expect(checked.has(v), `${k} is not checked by nats-tls`).toBe(true);
    for (const name of ['nats-1', 'nats-2', 'nats-3', 'influxdb']) expect((compose.services[name]!.depends_on as Record<string, { condition?: string }>)['nats-tls']?.condition, name).toBe('service_completed_successfully');
  });

  it('makes the TLS certificate the shipped nats.conf names before any node starts', () => {
    const conf = read('deploy/nats/nats.conf');
    expect(conf).toContain('/etc/nats/tls/server.crt');
    expect(read('deploy/nats/make-tls.sh')).toMatch(/server\.crt[\s\S]*DNS:nats-1,DNS:nats-2,DNS:nats-3/);
    for (const n of natsNodes(compose)) {
      const svc = compose.services[n.service]!;
      expect(svc.volumes, n.service).toContain('nats-tls:/etc/nats/tls:ro');
      expect((svc.depends_on as Record<string, { condition?: string }>)['nats-tls']?.condition).toBe('service_completed_successfully');
    }
  });
});

describe('the checks catch what they are for', () => {
  const broken = (edit: (text: string) => string) => load(edit(shipped)).compose;
  it('a node without routes to all, a repeated name, a missing store', () => {
    expect(clusterProblems(broken((t) => t.replace('"nats://nats-1:6222,nats://nats-2:6222,nats://nats-3:6222"]\n    volumes:\n      - ./nats.conf:/etc/nats/nats.conf:ro\n      - nats-tls:/etc/nats/tls:ro\n      - nats-2-data', '"nats://nats-1:6222"]\n    volumes:\n      - ./nats.conf:/etc/nats/nats.conf:ro\n      - nats-tls:/etc/nats/tls:ro\n      - nats-2-data')))).toEqual([expect.stringMatching(/nats-2: routes nats:\/\/nats-1:6222 do not name every node/)]);
    expect(clusterProblems(broken((t) => t.replace('"pp-nats-3"', '"pp-nats-1"')))).toEqual(['NATS nodes need distinct server names (--name)']);
    expect(clusterProblems(broken((t) => t.replace('nats-3-data:/var/lib/nats', 'nats-3-data:/data')))).toEqual(['each NATS node needs its own store volume at /var/lib/nats']);
  });
  it('a worker with one replica, a plain URL, a shared id, a wrong password', () => {
    expect(workerProblems(broken((t) => t.replace('PP_NATS_REPLICAS: "3"', 'PP_NATS_REPLICAS: "1"')))).toEqual(['worker-1', 'worker-2', 'worker-3'].map((w) => `${w}: PP_NATS_REPLICAS is 1, not 3`));
    expect(workerProblems(broken((t) => t.replace('tls://nats-1:4222,tls://nats-2:4222,tls://nats-3:4222', 'nats://nats-1:4222,nats://nats-2:4222')))).toContain('worker-1: PP_NATS_URL must use tls:// (the shipped nats.conf requires TLS)');
    expect(workerProblems(broken((t) => t.replace('PP_NATS_WORKER_ID: worker-2', 'PP_NATS_WORKER_ID: worker-1')))).toEqual(['workers need distinct PP_NATS_WORKER_ID']);
    expect(workerProblems(broken((t) => t.replace('PP_NATS_PASSWORD: ${NATS_PLATFORM_PASSWORD', 'PP_NATS_PASSWORD: ${NATS_GW_SITE01_PASSWORD')))).toContain("worker-1: PP_NATS_PASSWORD is not the nodes' PP_NATS_PLATFORM_PASSWORD");
    expect(workerProblems(broken((t) => t.replace('PP_NATS_REPLICAS: "3"', 'PP_NATS_REPLICAS: "three"')))[0]).toMatch(/worker-1: .*PP_NATS_REPLICAS/);
  });
});
