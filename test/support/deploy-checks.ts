/**
 * Checks of the docker compose deployment that need no Docker (there is none in CI): compose
 * interpolation, PP_* variables, bind mounts, the Dockerfile and .dockerignore, the agent's
 * command line, Mosquitto settings, and the InfluxQL of the Grafana dashboards. Each check
 * returns a list of problems (empty: fine), so test/unit/deploy/compose.test.ts can run it on
 * the real files and on deliberately broken ones.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { AgentArgsError, parseAgentArgs } from '../../edge-agent/cli-args.js';

// ------------------------------------------------------------------------------------------
// .env files and compose interpolation

/** `KEY=VALUE` lines as docker compose reads an .env file (comments, blank lines, optional quotes). */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not an .env line: ${raw}`);
    let value = m[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2]!;
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]!] = value;
  }
  return out;
}

/**
 * Compose's variable interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. A required variable that is
 * missing is a problem (compose would refuse to start).
 */
export function interpolate(value: string, vars: Readonly<Record<string, string>>, problems: string[], where: string): string {
  return value.replace(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_all, dollar: string, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (dollar === '$') return '$';
    const key = (name ?? bare)!;
    const set = Object.prototype.hasOwnProperty.call(vars, key);
    const v = vars[key];
    const present = colon === ':' ? set && v !== '' : set;
    if (op === '-') return present ? v! : (arg ?? '');
    if (op === '+') return present ? (arg ?? '') : '';
    if (op === '?') {
      if (!present) problems.push(`${where}: \${${key}} is required (${arg}) but not set`);
      return present ? v! : '';
    }
    if (!set) problems.push(`${where}: \${${key}} is not set (compose would substitute an empty string)`);
    return v ?? '';
  });
}

/** Every string in a parsed YAML value, interpolated (keys are left alone, as compose does). */
export function interpolateDeep<T>(value: T, vars: Readonly<Record<string, string>>, problems: string[], where = ''): T {
  if (typeof value === 'string') return interpolate(value, vars, problems, where) as T;
  if (Array.isArray(value)) return value.map((v, i) => interpolateDeep(v, vars, problems, `${where}[${i}]`)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, interpolateDeep(v, vars, problems, where ? `${where}.${k}` : k)])) as T;
  }
  return value;
}

// ------------------------------------------------------------------------------------------
// compose services

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  healthcheck?: { disable?: boolean; test?: unknown };
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | number | Record<string, unknown>)[];
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A service's environment as strings, from either compose form (map or `KEY=value` list). */
export function serviceEnv(svc: ComposeService): Record<string, string> {
  const env = svc.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, ''])));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `PP_*` names in `env` that are not in `known`. */
export function unknownPpVars(env: Readonly<Record<string, string>>, known: ReadonlySet<string>): string[] {
  return Object.keys(env).filter((k) => k.startsWith('PP_') && !known.has(k));
}

/** The platform's own validation (loadConfig) of an environment: the messages it would stop with. */
export function platformConfigProblems(env: Readonly<Record<string, string>>): string[] {
  try {
    loadConfig({ ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.variable}: ${p.message}`);
    throw err;
  }
}

/** Command words of a service (compose's string form is split on spaces). */
export function commandWords(svc: ComposeService): string[] | null {
  if (svc.command === undefined) return null;
  return Array.isArray(svc.command) ? svc.command.map(String) : svc.command.trim().split(/\s+/);
}

export const AGENT_SCRIPT = 'dist/edge-agent/cli.js';

/** The agent's arguments when the service runs `node dist/edge-agent/cli.js ...`, else null. */
export function agentArgs(svc: ComposeService): string[] | null {
  const words = commandWords(svc);
  if (!words) return null;
  const at = words.findIndex((w) => w === AGENT_SCRIPT || w.endsWith(`/${AGENT_SCRIPT}`));
  return at < 0 ? null : words.slice(at + 1);
}

/**
 * A service running `plantpulse-agent`: its options must parse (parseAgentArgs, the CLI's own
 * parser), describe a running gateway (not --help), name a broker that is a service of this
 * compose file, and every PP_* variable it sets must be one the agent actually reads.
 */
export function agentProblems(name: string, svc: ComposeService, serviceNames: readonly string[], platformVars: ReadonlySet<string>): string[] {
  const args = agentArgs(svc);
  if (!args) return [`${name}: does not run ${AGENT_SCRIPT}`];
  if (args.includes('--config') || args.some((a) => a.startsWith('--config='))) return [`${name}: --config gateways are not checked here`];
  const env = serviceEnv(svc);
  const problems: string[] = [];
  let parsed;
  try {
    parsed = parseAgentArgs(args, env);
  } catch (err) {
    if (err instanceof AgentArgsError) return [`${name}: plantpulse-agent refuses its options: ${err.message}`];
    throw err;
  }
  if (parsed.kind !== 'run') return [`${name}: the options only print ${parsed.kind}; the gateway would not run`];
  const broker = new URL(parsed.options.brokerUrl);
  if (!serviceNames.includes(broker.hostname)) problems.push(`${name}: --broker ${parsed.options.brokerUrl} names no service of this compose file`);
  for (const v of Object.keys(env).filter((k) => k.startsWith('PP_') && !platformVars.has(k))) {
    const sentinel = `sentinel-${v}-${Math.random().toString(36).slice(2)}`;
    const probe = parseAgentArgs(args, { ...env, [v]: sentinel });
    if (!JSON.stringify(probe).includes(sentinel)) problems.push(`${name}: sets ${v}, which plantpulse-agent does not read (misspelt, or overridden by an option)`);
  }
  return problems;
}

/**
 * Relative bind mounts whose source is not in the repository, and named volumes that are not
 * declared at the top level. Absolute host paths are reported too: a checkout must be enough.
 */
export function mountProblems(compose: ComposeFile, root: string): string[] {
  const problems: string[] = [];
  const named = new Set(Object.keys(compose.volumes ?? {}));
  for (const [name, svc] of Object.entries(compose.services)) {
    for (const v of svc.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0]! : (v.source ?? '');
      const type = typeof v === 'string' ? (source.startsWith('.') || source.startsWith('/') || source.startsWith('~') ? 'bind' : 'volume') : (v.type ?? 'volume');
      if (type === 'bind') {
        if (isAbsolute(source) || source.startsWith('~')) problems.push(`${name}: mounts the host path ${source}; use a path inside the repository`);
        else if (!existsSync(join(root, source))) problems.push(`${name}: mounts ${source}, which does not exist in the repository`);
      } else if (type === 'volume' && source !== '' && !named.has(source)) {
        problems.push(`${name}: uses the volume ${source}, which is not declared under volumes:`);
      }
    }
  }
  return problems;
}

/** Names a service depends on, from either compose form. */
export function dependsOn(svc: ComposeService): string[] {
  const d = svc.depends_on;
  if (!d) return [];
  return Array.isArray(d) ? d : Object.keys(d);
}

// ------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

export interface DockerInstruction {
  instruction: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i]!)) continue;
      line += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    if (m) out.push({ instruction: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  return out;
}

/** `KEY=value` pairs set by the ENV instructions (of every stage; later ones win). */
export function dockerfileEnv(dockerfile: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of parseDockerfile(dockerfile).filter((x) => x.instruction === 'ENV')) {
    for (const m of e.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Words of an instruction's arguments: the JSON (exec) form or whitespace-separated. */
export function instructionWords(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return args.split(/\s+/).filter((w) => w !== '');
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether .dockerignore keeps `path` out of the build context, as Docker decides: the last
 * matching pattern wins (`!` re-includes), and a pattern matching a parent directory matches
 * everything beneath it.
 */
export function dockerignoreExcludes(dockerignore: string, path: string): boolean {
  const patterns = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const body = normalize(negate ? l.slice(1).trim() : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegExp(body) };
    });
  const parts = normalize(path).replace(/^\.\/?/, '').replace(/\/+$/, '').split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const p of patterns) if (prefixes.some((prefix) => p.re.test(prefix))) excluded = !p.negate;
  return excluded;
}

export interface DockerfileExpectations {
  /** Base image every stage must use. */
  baseImage: string;
  /** PP_* variables the image may set (ENV). */
  knownVars: ReadonlySet<string>;
}

/**
 * COPY/ADD sources (other than `--from` a stage) exist in the build context and are not kept out
 * by .dockerignore; every stage builds on the expected base; the final stage runs as a non-root
 * user, has a HEALTHCHECK on /readyz and a CMD whose script is built from a TypeScript source;
 * ENV sets only PP_* variables the platform knows.
 */
export function dockerfileProblems(dockerfile: string, dockerignore: string, root: string, expect: DockerfileExpectations): string[] {
  const problems: string[] = [];
  const ins = parseDockerfile(dockerfile);
  const froms = ins.filter((i) => i.instruction === 'FROM');
  if (froms.length === 0) return ['no FROM'];
  const stages = new Set<string>();
  for (const f of froms) {
    const [image, as, stage] = instructionWords(f.args.replace(/^--platform=\S+\s+/, ''));
    if (image !== expect.baseImage && !stages.has(image!)) problems.push(`line ${f.line}: FROM ${image}, expected ${expect.baseImage}`);
    if (as?.toUpperCase() === 'AS' && stage) stages.add(stage);
  }
  for (const i of ins.filter((x) => x.instruction === 'COPY' || x.instruction === 'ADD')) {
    const words = instructionWords(i.args);
    const flags = words.filter((w) => w.startsWith('--'));
    if (flags.some((f) => f.startsWith('--from='))) continue;
    const paths = words.filter((w) => !w.startsWith('--'));
    for (const src of paths.slice(0, -1)) {
      if (/^https?:\/\//.test(src)) continue;
      if (!existsSync(join(root, src))) problems.push(`line ${i.line}: ${i.instruction} ${src}: not in the build context`);
      else if (dockerignoreExcludes(dockerignore, src)) problems.push(`line ${i.line}: ${i.instruction} ${src}: .dockerignore keeps it out of the build context`);
    }
  }
  for (const e of ins.filter((x) => x.instruction === 'ENV')) {
    for (const m of e.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)) {
      if (m[1]!.startsWith('PP_') && !expect.knownVars.has(m[1]!)) problems.push(`line ${e.line}: ENV ${m[1]} is not a variable the platform knows`);
    }
  }
  const lastFrom = ins.lastIndexOf(froms[froms.length - 1]!);
  const final = ins.slice(lastFrom + 1);
  const user = final.filter((x) => x.instruction === 'USER').pop();
  if (!user) problems.push('final stage: no USER (the platform would run as root)');
  else if (/^(root|0)(:.*)?$/.test(user.args)) problems.push(`line ${user.line}: USER ${user.args}: runs as root`);
  const health = final.filter((x) => x.instruction === 'HEALTHCHECK').pop();
  if (!health || !health.args.includes('/readyz')) problems.push('final stage: no HEALTHCHECK on /readyz');
  const cmd = final.filter((x) => x.instruction === 'CMD').pop();
  if (!cmd) problems.push('final stage: no CMD');
  else {
    const script = instructionWords(cmd.args).find((w) => w.startsWith('dist/') && w.endsWith('.js'));
    if (!script) problems.push(`line ${cmd.line}: CMD runs no dist/*.js script`);
    else if (!existsSync(join(root, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')))) problems.push(`line ${cmd.line}: CMD runs ${script}, which no TypeScript source builds`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------
// Mosquitto

/** Directive lines of a mosquitto.conf (comments and blank lines dropped). */
export function mosquittoDirectives(conf: string): string[] {
  return conf
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Settings of the shipped mosquitto.conf (what the tests run against) that the compose
 * configuration lacks; `except` names directives compose is meant to set differently.
 */
export function missingBrokerSettings(shipped: string, compose: string, except: readonly string[]): string[] {
  const have = new Set(mosquittoDirectives(compose));
  return mosquittoDirectives(shipped).filter((d) => !except.includes(d.split(/\s+/)[0]!) && !have.has(d));
}

/** The `user` blocks of a Mosquitto ACL file. */
export function aclUsers(acl: string): string[] {
  return mosquittoDirectives(acl)
    .filter((l) => l.startsWith('user '))
    .map((l) => l.slice(5).trim());
}

// ------------------------------------------------------------------------------------------
// secrets

/** Names that hold secrets in .env files and compose environments. */
export const isSecretName = (name: string): boolean => /(_PASSWORD|_TOKEN)$/.test(name);

/** Secrets in an example .env that are not obviously placeholders (empty or `change-me...`). */
export function realLookingSecrets(example: Readonly<Record<string, string>>): string[] {
  return Object.entries(example)
    .filter(([k, v]) => isSecretName(k) && v !== '' && !v.startsWith('change-me'))
    .map(([k]) => k);
}

/** Pairs of values that must be equal (the same secret seen by two services); the differing ones. */
export function disagreements(pairs: readonly { what: string; a: string | undefined; b: string | undefined }[]): string[] {
  return pairs.filter((p) => p.a === undefined || p.a === '' || p.a !== p.b).map((p) => `${p.what}: ${JSON.stringify(p.a)} vs ${JSON.stringify(p.b)}`);
}

// ------------------------------------------------------------------------------------------
// InfluxQL in Grafana dashboards

export interface MeasurementSchema {
  tags: readonly string[];
  fields: readonly string[];
}

export interface StorageSchema {
  measurements: Readonly<Record<string, MeasurementSchema>>;
  /** Tags whose values are a closed set (window sizes, transitions, severities...). */
  tagValues: Readonly<Record<string, readonly string[]>>;
}

/** Grafana's own variables, usable in any InfluxQL query. */
export const GRAFANA_BUILTIN_VARS = ['timeFilter', '__timeFilter', '__interval', '__interval_ms', 'interval', '__range', '__range_s', '__range_ms', '__rate_interval', '__from', '__to'];

const KEYWORDS = new Set(
  'select from where and or not group by order asc desc limit offset slimit soffset as fill null none previous linear show tag values with key in tz true false into'.split(' '),
);
const FUNCTIONS = new Set(
  'mean sum count last first max min median mode spread stddev distinct integral percentile sample top bottom difference non_negative_difference derivative non_negative_derivative cumulative_sum moving_average elapsed abs round floor ceil time fill tz'.split(' '),
);

type Tok = { kind: 'ident' | 'qident' | 'string' | 'regex' | 'number' | 'var' | 'op' | 'punct'; text: string };

function tokenize(q: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const readQuoted = (quote: string): string => {
    let s = '';
    i++;
    while (i < q.length && q[i] !== quote) {
      if (q[i] === '\\' && i + 1 < q.length) {
        s += q[i + 1];
        i += 2;
      } else s += q[i++];
    }
    if (i >= q.length) throw new Error(`unterminated ${quote}`);
    i++;
    return s;
  };
  while (i < q.length) {
    const c = q[i]!;
    const prev = toks[toks.length - 1];
    if (/\s/.test(c)) i++;
    else if (c === '"') toks.push({ kind: 'qident', text: readQuoted('"') });
    else if (c === "'") toks.push({ kind: 'string', text: readQuoted("'") });
    else if (c === '/' && prev?.kind === 'op' && (prev.text === '=~' || prev.text === '!~')) toks.push({ kind: 'regex', text: readQuoted('/') });
    else if (c === '$') {
      const m = /^\$(?:\{([A-Za-z0-9_]+)(?::[^}]*)?\}|([A-Za-z0-9_]+))/.exec(q.slice(i));
      if (!m) throw new Error(`bad variable at ${i}`);
      toks.push({ kind: 'var', text: (m[1] ?? m[2])! });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9.]+(?:ns|u|µ|ms|s|m|h|d|w)?/.exec(q.slice(i))!;
      toks.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i))!;
      toks.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else {
      const op = ['=~', '!~', '!=', '<>', '<=', '>='].find((o) => q.startsWith(o, i)) ?? (/[=<>+\-*/%]/.test(c) ? c : null);
      if (op) {
        toks.push({ kind: 'op', text: op });
        i += op.length;
      } else if (/[(),.;]/.test(c)) {
        toks.push({ kind: 'punct', text: c });
        i++;
      } else throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
    }
  }
  return toks;
}

const isKw = (t: Tok | undefined, ...words: string[]) => t?.kind === 'ident' && words.includes(t.text.toLowerCase());
const isName = (t: Tok | undefined) => t !== undefined && (t.kind === 'qident' || (t.kind === 'ident' && !KEYWORDS.has(t.text.toLowerCase())));

/** One SELECT (or SHOW) of a query: its source is a measurement or a subquery. */
interface Statement {
  parent: number | null;
  measurement?: string;
  child?: number;
  /** Names defined with AS in this statement's own SELECT list. */
  aliases: Set<string>;
}

/**
 * What an InfluxQL query (as Grafana sends it, with its variables) refers to, checked against
 * what PlantPulse stores: measurements, tag keys (GROUP BY, WITH KEY, regex and string
 * comparisons), field keys (every other name), values of closed-set tags, functions, and
 * Grafana variables. Subqueries are scoped: a statement reads the tags and fields of its
 * measurement, or the columns of its subquery (its AS aliases, and tags). Only SELECT and
 * SHOW TAG VALUES are expected; a SELECT must be bounded by $timeFilter.
 */
export function influxqlProblems(query: string, schema: StorageSchema, variables: readonly string[]): string[] {
  let toks: Tok[];
  try {
    toks = tokenize(query);
  } catch (err) {
    return [`cannot tokenize: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  const vars = new Set([...variables, ...GRAFANA_BUILTIN_VARS]);
  const isShowTagValues = isKw(toks[0], 'show') && isKw(toks[1], 'tag') && isKw(toks[2], 'values');
  if (!isKw(toks[0], 'select') && !isShowTagValues) return [`only SELECT and SHOW TAG VALUES are expected, got ${JSON.stringify(query.slice(0, 30))}`];
  if (isKw(toks[0], 'select') && !toks.some((t) => t.kind === 'var' && t.text === 'timeFilter')) problems.push('SELECT without $timeFilter (reads all of history)');

  // Statements: the query, and every `FROM ( ... )` subquery; stmtAt[i] is the innermost one holding token i.
  const statements: Statement[] = [{ parent: null, aliases: new Set() }];
  const stmtAt: number[] = [];
  const open: { stmt: number; depth: number }[] = [];
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const current = open.length ? open[open.length - 1]!.stmt : 0;
    if (t.text === '(' && isKw(toks[i - 1], 'from')) {
      statements.push({ parent: current, aliases: new Set() });
      statements[current]!.child = statements.length - 1;
      stmtAt[i] = current;
      open.push({ stmt: statements.length - 1, depth: depth++ });
      continue;
    }
    if (t.text === '(') depth++;
    if (t.text === ')') {
      depth--;
      if (open.length && open[open.length - 1]!.depth === depth) {
        stmtAt[i] = open.pop()!.stmt;
        continue;
      }
    }
    stmtAt[i] = current;
  }
  toks.forEach((t, i) => {
    const st = statements[stmtAt[i]!]!;
    if (isKw(t, 'as') && isName(toks[i + 1])) st.aliases.add(toks[i + 1]!.text);
    if (isKw(t, 'from') && toks[i + 1]?.text !== '(') {
      let j = i + 1;
      let name = toks[j];
      while (toks[j + 1]?.text === '.' && isName(toks[j + 2])) {
        j += 2;
        name = toks[j];
      }
      if (!isName(name)) problems.push(`FROM must name a measurement, got ${JSON.stringify(name?.text)}`);
      else if (!schema.measurements[name!.text]) problems.push(`unknown measurement "${name!.text}"`);
      else st.measurement = name!.text;
    }
  });
  for (const st of statements) if (st.measurement === undefined && st.child === undefined && problems.length === 0) problems.push('no FROM measurement');
  if (problems.some((p) => p.startsWith('unknown measurement') || p.startsWith('FROM must'))) return problems;

  /** The measurement a statement reads, through its subqueries. */
  const source = (s: number): string | undefined => statements[s]!.measurement ?? (statements[s]!.child !== undefined ? source(statements[s]!.child!) : undefined);
  const tagsOf = (s: number) => new Set(schema.measurements[source(s) ?? '']?.tags ?? []);
  /** Names a statement may read: its measurement's tags and fields, or its subquery's columns. */
  const readable = (s: number): Set<string> => {
    const st = statements[s]!;
    if (st.measurement) return new Set([...schema.measurements[st.measurement]!.tags, ...schema.measurements[st.measurement]!.fields]);
    if (st.child === undefined) return new Set();
    // A subquery's columns: what it names with AS (dashboards alias every selected value), and tags.
    return new Set([...statements[st.child]!.aliases, ...tagsOf(st.child)]);
  };
  const where = (s: number) => (statements[s]!.measurement ? statements[s]!.measurement! : `the subquery on ${source(s)}`);
  const needTag = (s: number, name: string, why: string) => {
    if (!tagsOf(s).has(name)) problems.push(`"${name}" ${why} is not a tag of ${source(s) ?? '(no measurement)'}`);
  };

  let groupBy = false;
  let groupDepth = -1;
  depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const next = toks[i + 1];
    const s = stmtAt[i]!;
    if (t.text === '(') depth++;
    if (t.text === ')') {
      depth--;
      if (groupBy && depth < groupDepth) groupBy = false;
    }
    if (isKw(t, 'group') && isKw(next, 'by')) {
      groupBy = true;
      groupDepth = depth;
      i++;
      continue;
    }
    if (groupBy && depth === groupDepth && isKw(t, 'order', 'limit', 'slimit', 'offset', 'soffset', 'fill', 'tz')) groupBy = false;
    if (t.kind === 'var' && !vars.has(t.text)) problems.push(`unknown variable $${t.text}`);
    if (t.kind === 'regex') for (const m of t.text.matchAll(/\$\{?([A-Za-z0-9_]+)/g)) if (!vars.has(m[1]!)) problems.push(`unknown variable $${m[1]} in /${t.text}/`);
    if (t.kind === 'ident' && next?.text === '(' && !KEYWORDS.has(t.text.toLowerCase())) {
      if (!FUNCTIONS.has(t.text.toLowerCase())) problems.push(`unknown function ${t.text}()`);
      if (['time', 'fill', 'tz'].includes(t.text.toLowerCase())) {
        // skip its arguments: durations, offsets, fill values
        let d = 0;
        for (i++; i < toks.length; i++) {
          if (toks[i]!.text === '(') d++;
          if (toks[i]!.text === ')' && --d === 0) break;
        }
      }
      continue;
    }
    if (isKw(t, 'with') && isKw(next, 'key')) {
      const op = toks[i + 2];
      if (op?.text === '=' && isName(toks[i + 3])) {
        needTag(s, toks[i + 3]!.text, 'in WITH KEY');
        i += 3;
      } else if (isKw(op, 'in') && toks[i + 3]?.text === '(') {
        for (i += 4; i < toks.length && toks[i]!.text !== ')'; i++) if (isName(toks[i])) needTag(s, toks[i]!.text, 'in WITH KEY');
      } else {
        problems.push('WITH KEY must be = "tag" or IN ("tag", ...)');
        i += 2;
      }
      continue;
    }
    if (!isName(t)) continue;
    const prev = toks[i - 1];
    if (isKw(prev, 'as')) continue; // an alias being defined
    if (prev?.text === '.' || next?.text === '.') continue; // db.rp.measurement
    if (isKw(prev, 'from')) continue; // the measurement, checked above
    const name = t.text;
    if (name === 'time') continue;
    if (groupBy) {
      needTag(s, name, 'in GROUP BY');
      continue;
    }
    if (next?.kind === 'op' && (next.text === '=~' || next.text === '!~')) {
      needTag(s, name, 'compared with a regex');
      continue;
    }
    if (!readable(s).has(name)) {
      problems.push(`"${name}" is not a tag or field of ${where(s)}`);
      continue;
    }
    if (next?.kind === 'op' && ['=', '!=', '<>'].includes(next.text) && toks[i + 2]?.kind === 'string') {
      const allowed = schema.tagValues[name];
      if (tagsOf(s).has(name) && allowed && !allowed.includes(toks[i + 2]!.text)) problems.push(`"${name}" = '${toks[i + 2]!.text}': ${name} is one of ${allowed.join(', ')}`);
    }
  }
  return problems;
}

interface GrafanaTarget {
  refId?: string;
  query?: string;
  rawQuery?: boolean;
  alias?: string;
  datasource?: { type?: string; uid?: string };
}

interface GrafanaPanel {
  id?: number;
  title?: string;
  type?: string;
  datasource?: { type?: string; uid?: string } | null;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string } | null;
}

export interface GrafanaDashboard {
  uid?: string;
  title?: string;
  panels?: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

/** Every InfluxQL query of a dashboard (panel targets and query variables), with where it is. */
export function dashboardQueries(d: GrafanaDashboard): { where: string; query: string; alias?: string; target?: GrafanaTarget }[] {
  const out: { where: string; query: string; alias?: string; target?: GrafanaTarget }[] = [];
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    out.push({ where: `variable $${v.name}`, query: q });
  }
  const walk = (panels: GrafanaPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId ?? ''}`.trim(), query: t.query ?? '', alias: t.alias, target: t });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels ?? []);
  return out;
}

/**
 * A dashboard: uid and title, unique panel ids, every panel, target and query variable on the
 * provisioned data source, raw InfluxQL only (influxqlProblems), and `$tag_x` in aliases naming
 * a tag.
 */
export function dashboardProblems(d: GrafanaDashboard, schema: StorageSchema, datasourceUid: string): string[] {
  const problems: string[] = [];
  if (!d.uid || !d.title) problems.push('no uid or title');
  const variables = (d.templating?.list ?? []).map((v) => v.name);
  const ids = new Set<number>();
  const dsOk = (ds: { uid?: string } | null | undefined) => ds === undefined || ds === null || ds.uid === datasourceUid || ds.uid === '-- Grafana --';
  const walk = (panels: GrafanaPanel[]) => {
    for (const p of panels) {
      if (p.id !== undefined) {
        if (ids.has(p.id)) problems.push(`panel id ${p.id} used twice`);
        ids.add(p.id);
      }
      if (!dsOk(p.datasource)) problems.push(`panel "${p.title}": data source ${JSON.stringify(p.datasource)} is not the provisioned ${datasourceUid}`);
      for (const t of p.targets ?? []) if (!dsOk(t.datasource)) problems.push(`panel "${p.title}" ${t.refId}: data source ${JSON.stringify(t.datasource)} is not the provisioned ${datasourceUid}`);
      walk(p.panels ?? []);
    }
  };
  walk(d.panels ?? []);
  for (const v of d.templating?.list ?? []) if (v.type === 'query' && !dsOk(v.datasource)) problems.push(`variable $${v.name}: data source is not the provisioned ${datasourceUid}`);
  const allTags = new Set(Object.values(schema.measurements).flatMap((m) => m.tags));
  for (const q of dashboardQueries(d)) {
    if (q.target && q.target.rawQuery !== true) problems.push(`${q.where}: not a raw InfluxQL query (rawQuery must be true)`);
    for (const p of influxqlProblems(q.query, schema, variables)) problems.push(`${q.where}: ${p}`);
    for (const m of (q.alias ?? '').matchAll(/\$tag_([A-Za-z0-9_]+)/g)) if (!allTags.has(m[1]!)) problems.push(`${q.where}: alias uses $tag_${m[1]}, not a tag`);
  }
  return problems;
}

/**
 * A dashboard query as Grafana sends it to InfluxDB: `$timeFilter` as an epoch-ms range,
 * `$__interval`, and template variables formatted for regexes (All → the variable's allValue,
 * several values → `(a|b)`).
 */
export function grafanaInterpolate(query: string, o: { from: number; to: number; interval: string; vars: Readonly<Record<string, readonly string[] | 'all'>>; allValue?: string }): string {
  const esc = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
  return query.replace(/\$(?:\{([A-Za-z0-9_]+)(?::[^}]*)?\}|([A-Za-z0-9_]+))/g, (all, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    if (name === 'timeFilter') return `time >= ${o.from}ms and time <= ${o.to}ms`;
    if (name === '__interval' || name === 'interval') return o.interval;
    const v = o.vars[name];
    if (v === undefined) return all;
    if (v === 'all') return o.allValue ?? '.*';
    return v.length === 1 ? esc(v[0]!) : `(${v.map(esc).join('|')})`;
  });
}
