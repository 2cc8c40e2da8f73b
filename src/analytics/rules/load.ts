import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { validateRulesConfig, type RuleProblem } from './resolve.js';
import { rulesConfigSchema, type RulesConfig } from './schema.js';

/**
 * Reading the rules configuration: YAML or JSON (JSON is YAML). Every problem is reported at
 * once, each with its place: `rules.yaml: classes.furnace.rules[0].params.high: expected number`.
 */
export class RulesConfigError extends Error {
  constructor(
    readonly where: string,
    readonly problems: RuleProblem[],
  ) {
    super(`${where} is invalid:\n${problems.map((p) => `  ${where}: ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'RulesConfigError';
  }
}

/** `classes.furnace.rules[0].params.high` from zod's path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(root)';
}

function problemsOf(error: z.ZodError): RuleProblem[] {
  return error.issues.map((i) => {
    // A bad record key: zod says only "Invalid key in record"; the key's own issue says why.
    const why = i.code === 'invalid_key' ? i.issues.map((k) => k.message).join('; ') : '';
    return { path: formatPath(i.path), message: why ? `bad key: ${why}` : i.message };
  });
}

/** Validate an already parsed document (an empty document means "built-in defaults only"). */
export function parseRulesConfig(raw: unknown, where = 'rules'): RulesConfig {
  const parsed = rulesConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new RulesConfigError(where, problemsOf(parsed.error));
  const problems = validateRulesConfig(parsed.data);
  if (problems.length > 0) throw new RulesConfigError(where, problems);
  return parsed.data;
}

/** Read, parse and validate a rules file. */
export function loadRulesConfig(path: string): RulesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesConfigError(path, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new RulesConfigError(path, [{ path: '(syntax)', message: `not valid YAML/JSON: ${(err as Error).message}` }]);
  }
  return parseRulesConfig(raw, path);
}
