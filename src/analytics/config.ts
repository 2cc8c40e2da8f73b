import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EnergyConfigError, parseEnergyConfig, type EnergyConfig } from './energy/index.js';
import { EMPTY_RULES_CONFIG, parseRulesConfig, RulesConfigError, type RulesConfig } from './rules/index.js';

export interface AnalyticsConfig {
  rules: RulesConfig;
  energy: EnergyConfig;
}

/** An unusable analytics file: start-up stops with every problem, each with its place. */
export class AnalyticsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalyticsConfigError';
  }
}

/**
 * The analytics file (PP_ANALYTICS_FILE), YAML or JSON: the rules document (`classes`,
 * `devices`) and an `energy` section (coefficients, grid factor, per-site settings, windows).
 * No file: built-in default rules and reference coefficients.
 */
export function loadAnalyticsConfig(path: string | undefined): AnalyticsConfig {
  if (!path) return { rules: EMPTY_RULES_CONFIG, energy: parseEnergyConfig({}) };
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new AnalyticsConfigError(`${path}: cannot read as YAML/JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AnalyticsConfigError(`${path}: expected a mapping with classes, devices and energy`);
  const { energy, ...rules } = raw as Record<string, unknown>;
  try {
    return { rules: parseRulesConfig(rules, path), energy: parseEnergyConfig(energy) };
  } catch (err) {
    if (err instanceof RulesConfigError) throw new AnalyticsConfigError(err.message);
    if (err instanceof EnergyConfigError) throw new AnalyticsConfigError(`${path} is invalid:\n${err.problems.map((p) => `  ${path}: energy.${p.path}: ${p.message}`).join('\n')}`);
    throw err;
  }
}
