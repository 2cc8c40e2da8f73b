import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../../src/config/env-schema.js';
import { ERRORS } from '../../../src/contract/errors.js';

// The names a reader copies from the docs into a shell or a search: a variable, an npm script,
// a file. A page that names one the repository no longer has sends the reader nowhere, so each
// must exist where the code keeps it.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const filesUnder = (dir: string, ext: RegExp): string[] =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => ext.test(f) && !f.includes('node_modules'))
    .map((f) => `${dir}/${f}`);

const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const pages = PAGES.map((path) => ({ path, text: read(path) }));

/** `name` → the pages that mention it. */
function mentions(pattern: RegExp): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const { path, text } of pages) {
    for (const m of text.matchAll(pattern)) {
      const name = m[1]!;
      found.set(name, [...new Set([...(found.get(name) ?? []), path])]);
    }
  }
  return found;
}

const envVars = new Set(Object.keys(ENV_VARS));
const srcText = filesUnder('src', /\.ts$/).map(read).join('\n');
// Variables read by the edge agent, the scripts, the benchmarks (k6's __ENV too) and the tests:
// build, test and tool variables, not the platform's configuration.
const toolText = ['edge-agent', 'scripts', 'load-tests', 'test'].flatMap((d) => filesUnder(d, /\.(ts|mjs|js|sh)$/)).map(read).join('\n');
const toolVars = new Set([...toolText.matchAll(/(?:env\.|env\[['"])(PP_[A-Z0-9_]+)/g)].map((m) => m[1]!));
// Secrets nats-server takes from its environment ($NAME in its configuration).
const serverVars = new Set([...read('deploy/nats/nats.conf').matchAll(/\$(PP_[A-Z0-9_]+)/g)].map((m) => m[1]!));
// JetStream streams are named PP_*: the constants that name them.
const streams = new Set([...srcText.matchAll(/_STREAM = '(PP_[A-Z0-9_]+)'/g)].map((m) => m[1]!));
const errorCodes = new Set(Object.keys(ERRORS));

/** Where a PP_ name a page uses is defined, or undefined when nowhere. */
function definedAs(name: string): string | undefined {
  if (name.endsWith('_*') || name.endsWith('_')) {
    // A family (`PP_LIVE_*`): at least one variable or error code of it must exist.
    const prefix = name.replace(/\*$/, '');
    return [...envVars, ...errorCodes].some((v) => v.startsWith(prefix)) ? 'family' : undefined;
  }
  if (name.startsWith('PP_ERR_')) return errorCodes.has(name) ? 'error code' : undefined;
  if (envVars.has(name)) return 'env-schema';
  if (streams.has(name)) return 'stream';
  if (serverVars.has(name)) return 'nats.conf';
  if (toolVars.has(name)) return 'tool';
  return undefined;
}

describe('names the docs use exist', () => {
  it('every PP_ name in README.md and docs/*.md is a variable of env-schema.ts, a tool or server variable, a stream or an error code', () => {
    const names = mentions(/\b(PP_[A-Z0-9_]*[A-Z0-9](?:_\*|_(?=[^A-Za-z0-9_]))?)/g);
    expect(names.size).toBeGreaterThan(100);
    const unknown = [...names].filter(([name]) => definedAs(name) === undefined).map(([name, where]) => `${name} (${where.join(', ')})`);
    expect(unknown, `named in the docs, defined nowhere:\n${unknown.join('\n')}`).toEqual([]);
  });

  it('every `npm run <script>` in README.md and docs/*.md is a script of package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = mentions(/\bnpm run (?:-s |--silent )?([a-z][a-z0-9:-]*)/g);
    expect(named.size).toBeGreaterThan(10);
    const unknown = [...named].filter(([script]) => !scripts.includes(script)).map(([script, where]) => `${script} (${where.join(', ')})`);
    expect(unknown, `npm scripts named in the docs, missing from package.json:\n${unknown.join('\n')}`).toEqual([]);
  });

  it('every repository file the docs name (src/, test/, load-tests/, deploy/, scripts/, edge-agent/) exists', () => {
    // A path with an extension or a trailing slash; one inside another path (dist/src/cli.js, a
    // build output) is not a repository file. A `*` in the last segment matches as a shell would.
    const named = mentions(/(?<![\w./-])((?:src|test|load-tests|deploy|scripts|edge-agent)\/[\w./*-]*(?:\.[a-z]{1,5}|\/))(?![\w*])/g);
    expect(named.size).toBeGreaterThan(50);
    const missing = [...named].filter(([path]) => !pathExists(path)).map(([path, where]) => `${path} (${where.join(', ')})`);
    expect(missing, `files named in the docs, not in the repository:\n${missing.join('\n')}`).toEqual([]);
  });
});

function pathExists(path: string): boolean {
  if (!path.includes('*')) return existsSync(join(ROOT, path));
  const slash = path.lastIndexOf('/');
  const dir = join(ROOT, path.slice(0, slash));
  const pattern = new RegExp(`^${path.slice(slash + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return existsSync(dir) && readdirSync(dir).some((f) => pattern.test(f));
}

describe('the checks themselves', () => {
  it('tell a defined name from one defined nowhere', () => {
    expect(definedAs('PP_NATS_URL')).toBe('env-schema');
    expect(definedAs('PP_LIVE_*')).toBe('family');
    expect(definedAs('PP_TELEMETRY')).toBe('stream');
    expect(definedAs('PP_NATS_PLATFORM_PASSWORD')).toBe('nats.conf');
    expect(definedAs('PP_AGENT_PASSWORD')).toBe('tool');
    expect(definedAs('PP_ERR_NOT_ON_THIS_NODE')).toBe('error code');
    expect(definedAs('PP_NATS_URLS')).toBeUndefined();
    expect(definedAs('PP_ERR_NO_SUCH_THING')).toBeUndefined();
    expect(definedAs('PP_NOPE_*')).toBeUndefined();
  });

  it('match file paths, globs included, and nothing else', () => {
    expect(pathExists('src/config/env-schema.ts')).toBe(true);
    expect(pathExists('test/faults/nats-*.test.ts')).toBe(true);
    expect(pathExists('src/config/')).toBe(true);
    expect(pathExists('src/config/env-schema.js')).toBe(false);
    expect(pathExists('test/faults/nope-*.test.ts')).toBe(false);
  });
});
