import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRulesConfig, resolveRules, RulesConfigError } from '../../../../src/analytics/rules/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pp-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function loadError(path: string): RulesConfigError {
  try {
    loadRulesConfig(path);
  } catch (err) {
    if (err instanceof RulesConfigError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('loading a rules file', () => {
  it('reads the YAML of the issue', () => {
    const path = file(
      'rules.yaml',
      `classes:
  furnace:
    match: ['*/*/furnace-*']
    rules:
      - {id: temperature-high, metric: temperature_c, detector: limit, category: safety, severity: critical, params: {high: 260, hysteresis: 5, minDurationS: 30}}
  default:
    rules: []
devices:
  site-01/line-01/m-003:
    class: furnace
    override: { temperature-high: { params: { high: 280 } } }
    disable: [flatline-temperature]
`,
    );
    const config = loadRulesConfig(path);
    const rules = resolveRules(config, 'site-01/line-01/m-003');
    expect(rules.find((r) => r.id === 'temperature-high')?.params).toMatchObject({ high: 280, hysteresis: 5 });
    expect(rules.map((r) => r.id)).not.toContain('flatline-temperature');
  });

  it('reads JSON, and an empty file means the built-in defaults', () => {
    const json = loadRulesConfig(file('rules.json', JSON.stringify({ devices: { 'a/b/c': { disable: ['silence'] } } })));
    expect(resolveRules(json, 'a/b/c').map((r) => r.id)).not.toContain('silence');
    expect(resolveRules(loadRulesConfig(file('empty.yaml', '')), 'a/b/c').map((r) => r.id)).toContain('silence');
  });

  it('a syntax error names the file and the line', () => {
    const err = loadError(file('broken.yaml', 'classes:\n  furnace: {match: [\n'));
    expect(err.message).toMatch(/broken\.yaml/);
    expect(err.problems[0]?.path).toBe('(syntax)');
    expect(err.problems[0]?.message).toMatch(/not valid YAML\/JSON: .*line/);
  });

  it('a bad value names the file, the path and the problem', () => {
    const path = file('bad.yaml', 'classes:\n  furnace:\n    rules:\n      - {id: t, metric: temperature_c, detector: limit, params: {high: hot}}\n');
    const err = loadError(path);
    expect(err.message).toContain(`${path}: classes.furnace.rules[0].params.high: Invalid input: expected number, received string`);
  });

  it('an unknown top-level key and a missing file are errors', () => {
    expect(loadError(file('extra.yaml', 'clases: {}\n')).problems[0]?.message).toMatch(/Unrecognized key: "clases"/);
    const missing = loadError(join(dir, 'nope.yaml'));
    expect(missing.problems[0]?.message).toMatch(/cannot read: .*ENOENT/);
  });
});
