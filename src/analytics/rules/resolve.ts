import { DETECTORS, type DetectorKind, type DetectorParams } from '../detectors/index.js';
import type { Category, Severity } from '../types.js';
import { DEFAULT_RULES } from './defaults.js';
import { paramsWithMetric, type ClassConfig, type DeviceConfig, type RuleConfig, type RulesConfig } from './schema.js';

/**
 * From a parsed rules configuration and a device key ("site/line/device") to the device's effective
 * rules, with params parsed by their detector (defaults applied, metric filled in).
 *
 * Layers, later replacing earlier by rule id (a replaced rule keeps its place in the list):
 *   built-in defaults → `default` class → the device's class → the device's own rules;
 * a class (or `default`) with `inherit: false` starts from nothing instead; its `disable` drops
 * inherited rules. Then the device's `override` merges params (key by key) and may change severity
 * or category, and its `disable` drops rules.
 */

interface ResolvedRuleBase {
  id: string;
  metric: string;
  category: Category;
  severity: Severity;
  description?: string;
  /** Machine states in which the rule judges (unset: all); see the rules schema. */
  states?: readonly number[];
  /** Seconds after entering one of `states` before the rule learns or judges; see the rules schema. */
  settleS?: number;
  /** The class the device fell into (for explanations and the alert's context). */
  className: string;
}

/** One effective rule, its params typed by its detector kind. */
export type ResolvedRule = { [K in DetectorKind]: ResolvedRuleBase & { detector: K; params: DetectorParams<K> } }[DetectorKind];

export interface RuleProblem {
  /** Where in the configuration, e.g. `devices.site-01/line-01/m-003.override.temperature-high.params.high`. */
  path: string;
  message: string;
}

export class RuleResolutionError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    this.name = 'RuleResolutionError';
  }
}

/** `*` matches within one level of "site/line/device", `**` across levels, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const DEFAULT_CLASS: ClassConfig = { match: [], inherit: true, disable: [], rules: [] };

/** The class a device takes: its explicit `class`, else the first class (file order) whose glob matches, else `default`. */
export function classOf(config: RulesConfig, key: string): string {
  const explicit = config.devices[key]?.class;
  if (explicit !== undefined) return explicit;
  for (const [name, c] of Object.entries(config.classes)) {
    if (name !== 'default' && c.match.some((g) => globToRegExp(g).test(key))) return name;
  }
  return 'default';
}

/** Later rules replace earlier ones of the same id in place; new ids are appended. */
function layer(base: readonly RuleConfig[], top: readonly RuleConfig[]): RuleConfig[] {
  const out = [...base];
  for (const rule of top) {
    const at = out.findIndex((r) => r.id === rule.id);
    if (at >= 0) out[at] = rule;
    else out.push(rule);
  }
  return out;
}

function knownIds(rules: readonly RuleConfig[]): string {
  return rules.length === 0 ? 'none' : rules.map((r) => r.id).join(', ');
}

/** A class's rules before any device-level change; problems (unknown class, bad disable) are collected. */
function classRules(config: RulesConfig, name: string, problems: RuleProblem[]): RuleConfig[] {
  const c = name === 'default' ? (config.classes.default ?? DEFAULT_CLASS) : config.classes[name];
  if (!c) {
    problems.push({ path: `classes`, message: `unknown class ${JSON.stringify(name)} (known: ${[...Object.keys(config.classes), 'default'].filter((v, i, a) => a.indexOf(v) === i).join(', ')})` });
    return [];
  }
  const inherited = !c.inherit ? [] : name === 'default' ? DEFAULT_RULES : classRules(config, 'default', problems);
  c.disable.forEach((id, i) => {
    if (!inherited.some((r) => r.id === id)) problems.push({ path: `classes.${name}.disable[${i}]`, message: `no inherited rule ${JSON.stringify(id)} to disable (inherited: ${knownIds(inherited)})` });
  });
  return layer(
    inherited.filter((r) => !c.disable.includes(r.id)),
    c.rules,
  );
}

function applyDevice(key: string, device: DeviceConfig | undefined, base: RuleConfig[], problems: RuleProblem[]): RuleConfig[] {
  if (!device) return base;
  const at = `devices.${key}`;
  let rules = layer(base, device.rules);
  for (const [id, o] of Object.entries(device.override)) {
    const i = rules.findIndex((r) => r.id === id);
    const rule = rules[i];
    if (!rule) {
      problems.push({ path: `${at}.override.${id}`, message: `no rule ${JSON.stringify(id)} to override (rules of this device: ${knownIds(rules)})` });
      continue;
    }
    rules = rules.with(i, { ...rule, params: { ...rule.params, ...o.params }, severity: o.severity ?? rule.severity, category: o.category ?? rule.category });
  }
  device.disable.forEach((id, i) => {
    if (!rules.some((r) => r.id === id)) problems.push({ path: `${at}.disable[${i}]`, message: `no rule ${JSON.stringify(id)} to disable (rules of this device: ${knownIds(rules)})` });
  });
  return rules.filter((r) => !device.disable.includes(r.id));
}

/** Parse a rule's params with its detector's schema; a failure is reported at `paramsPath`. */
function finish(rule: RuleConfig, className: string, paramsPath: string, problems: RuleProblem[]): ResolvedRule | undefined {
  const def = DETECTORS[rule.detector];
  const parsed = def.paramsSchema.safeParse(paramsWithMetric(rule.params, rule.metric));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: [paramsPath, ...issue.path.map(String)].join('.'), message: issue.message });
    return undefined;
  }
  const resolved = {
    id: rule.id,
    metric: rule.metric,
    detector: rule.detector,
    category: rule.category ?? def.defaultCategory,
    severity: rule.severity,
    ...(rule.description === undefined ? {} : { description: rule.description }),
    ...(rule.states === undefined ? {} : { states: rule.states }),
    ...(rule.settleS === undefined ? {} : { settleS: rule.settleS }),
    className,
    params: parsed.data,
  };
  // The params were produced by this detector's own schema: the pairing the union type describes.
  return resolved as ResolvedRule;
}

function resolveCollecting(config: RulesConfig, key: string, problems: RuleProblem[]): ResolvedRule[] {
  const className = classOf(config, key);
  const device = config.devices[key];
  const rules = applyDevice(key, device, classRules(config, className, problems), problems);
  const out: ResolvedRule[] = [];
  for (const rule of rules) {
    const where = device?.override[rule.id] ? `devices.${key}.override.${rule.id}.params` : `rules.${rule.id}.params`;
    const r = finish(rule, className, where, problems);
    if (r) out.push(r);
  }
  return out;
}

/** The effective rules of one device. Throws RuleResolutionError if the configuration is inconsistent for it. */
export function resolveRules(config: RulesConfig, key: string): ResolvedRule[] {
  const problems: RuleProblem[] = [];
  const rules = resolveCollecting(config, key, problems);
  if (problems.length > 0) throw new RuleResolutionError(problems);
  return rules;
}

/**
 * Everything that can only be checked across the document (rule params themselves were checked by
 * the schema): each class's inheritance and `disable`, each configured device's class, overrides
 * (merged params against the detector's schema) and `disable`. Run at load time, so a mistake
 * stops start-up instead of surfacing when that device first reports.
 */
export function validateRulesConfig(config: RulesConfig): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const name of new Set([...Object.keys(config.classes), 'default'])) classRules(config, name, problems);
  for (const [key, device] of Object.entries(config.devices)) {
    if (device.class !== undefined && device.class !== 'default' && !config.classes[device.class]) {
      problems.push({ path: `devices.${key}.class`, message: `unknown class ${JSON.stringify(device.class)} (known: ${[...new Set([...Object.keys(config.classes), 'default'])].join(', ')})` });
      continue;
    }
    resolveCollecting(config, key, problems);
  }
  // The same class problem is found once per device of that class: report each once.
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\n${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * A memoising resolver for the engine: one resolution per device key for the life of the config.
 * Devices with no entry of their own under `devices` get exactly their class's rules, so they
 * share one resolved list per class: with 100k devices this is most of the analytics memory
 * (each list is some 20 rules with parsed params), and the lists are never mutated.
 */
export function createRuleResolver(config: RulesConfig): (key: string) => readonly ResolvedRule[] {
  const cache = new Map<string, readonly ResolvedRule[]>();
  const byClass = new Map<string, readonly ResolvedRule[]>();
  return (key) => {
    let rules = cache.get(key);
    if (!rules) {
      if (config.devices[key] === undefined) {
        const className = classOf(config, key);
        rules = byClass.get(className);
        if (!rules) {
          rules = Object.freeze(resolveRules(config, key));
          byClass.set(className, rules);
        }
      } else rules = resolveRules(config, key);
      cache.set(key, rules);
    }
    return rules;
  };
}
