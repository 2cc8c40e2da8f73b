import { describe, expect, it } from 'vitest';
import { classOf, createRuleResolver, DEFAULT_RULES, globToRegExp, parseRulesConfig, resolveRules, RulesConfigError } from '../../../../src/analytics/rules/index.js';

const furnaceConfig = {
  classes: {
    furnace: {
      match: ['*/*/furnace-*'],
      disable: ['flatline-temperature'],
      rules: [{ id: 'temperature-high', metric: 'temperature_c', detector: 'limit', category: 'safety', severity: 'critical', params: { high: 260, hysteresis: 5, minDurationS: 30 } }],
    },
    bare: { match: ['site-02/**'], inherit: false, rules: [{ id: 'pressure-high', metric: 'pressure_kpa', detector: 'limit', params: { high: 900 } }] },
    // A later class whose glob also fits a furnace: the first match wins.
    everything: { match: ['**'], rules: [{ id: 'pressure-low', metric: 'pressure_kpa', detector: 'limit', params: { low: 10 } }] },
  },
  devices: {
    'site-01/line-01/m-003': { class: 'furnace', override: { 'temperature-high': { params: { high: 280 }, severity: 'warning' } }, disable: ['silence'] },
    'site-01/line-01/furnace-9': { rules: [{ id: 'temperature-high', metric: 'temperature_c', detector: 'limit', params: { high: 300 } }] },
  },
};

const ids = (key: string, cfg = parseRulesConfig(furnaceConfig)) => resolveRules(cfg, key).map((r) => r.id);

describe('rules resolution', () => {
  it('an empty configuration gives every device the built-in defaults, params parsed with defaults and metric', () => {
    const rules = resolveRules(parseRulesConfig({}), 'a/b/c');
    expect(rules.map((r) => r.id)).toEqual(DEFAULT_RULES.map((r) => r.id));
    const vib = rules.find((r) => r.id === 'vibration-high-critical');
    expect(vib).toMatchObject({ detector: 'limit', severity: 'critical', category: 'safety', className: 'default', params: { metric: 'vibration_mm_s', high: 11.2, hysteresis: 1, minDurationS: 10 } });
  });

  it('globs: * within a level, ** across levels', () => {
    expect(globToRegExp('*/*/furnace-*').test('s/l/furnace-1')).toBe(true);
    expect(globToRegExp('*/*/furnace-*').test('s/l/x/furnace-1')).toBe(false);
    expect(globToRegExp('*/furnace-*').test('s/l/furnace-1')).toBe(false);
    expect(globToRegExp('site-02/**').test('site-02/l/d')).toBe(true);
    expect(globToRegExp('a.b/*/?').test('aXb/l/d')).toBe(false);
  });

  it('a device takes the first matching class in file order, else default; an explicit class wins', () => {
    const cfg = parseRulesConfig(furnaceConfig);
    expect(classOf(cfg, 'site-09/l/furnace-2')).toBe('furnace');
    expect(classOf(cfg, 'site-02/l/press-1')).toBe('bare');
    expect(classOf(cfg, 'site-09/l/press-1')).toBe('everything');
    expect(classOf(cfg, 'site-01/line-01/m-003')).toBe('furnace');
    expect(classOf(parseRulesConfig({ classes: { furnace: { match: ['*/*/furnace-*'] } } }), 'x/y/z')).toBe('default');
  });

  it('a class inherits the defaults, drops what it disables, adds its own', () => {
    const rules = ids('site-09/l/furnace-2');
    expect(rules).toContain('temperature-high');
    expect(rules).toContain('silence');
    expect(rules).not.toContain('flatline-temperature');
    expect(rules).not.toContain('pressure-low');
  });

  it('inherit: false starts from nothing', () => {
    expect(ids('site-02/l/press-1')).toEqual(['pressure-high']);
  });

  it('device overrides merge params key by key and may change severity; device disable removes', () => {
    const rules = resolveRules(parseRulesConfig(furnaceConfig), 'site-01/line-01/m-003');
    const high = rules.find((r) => r.id === 'temperature-high');
    expect(high).toMatchObject({ severity: 'warning', params: { high: 280, hysteresis: 5, minDurationS: 30 } });
    expect(rules.map((r) => r.id)).not.toContain('silence');
    // Another furnace keeps the class's values.
    expect(resolveRules(parseRulesConfig(furnaceConfig), 'site-09/l/furnace-2').find((r) => r.id === 'temperature-high')).toMatchObject({ severity: 'critical', params: { high: 260 } });
  });

  it("a device's own rule replaces the class rule of the same id", () => {
    const high = resolveRules(parseRulesConfig(furnaceConfig), 'site-01/line-01/furnace-9').find((r) => r.id === 'temperature-high');
    expect(high?.params).toMatchObject({ high: 300, hysteresis: 0 });
  });

  it('a default class in the config is layered on the built-ins, or replaces them with inherit: false', () => {
    const extra = parseRulesConfig({ classes: { default: { rules: [{ id: 'silence', metric: '*', detector: 'silence', params: { timeoutS: 600 } }] } } });
    const silence = resolveRules(extra, 'a/b/c').find((r) => r.id === 'silence');
    expect(silence?.params).toMatchObject({ timeoutS: 600 });
    expect(resolveRules(extra, 'a/b/c')).toHaveLength(DEFAULT_RULES.length);
    const only = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'x', metric: 'power_kw', detector: 'range' }] } } });
    expect(ids('a/b/c', only)).toEqual(['x']);
  });

  it('the category defaults by detector kind', () => {
    const cfg = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'r', metric: 'power_kw', detector: 'range' }, { id: 's', metric: '*', detector: 'silence' }, { id: 'l', metric: 'power_kw', detector: 'limit', params: { high: 1 } }] } } });
    expect(resolveRules(cfg, 'a/b/c').map((r) => r.category)).toEqual(['sensor', 'data', 'safety']);
  });

  it('the memoising resolver returns the same list for the same device, and one shared list per class for devices without their own entry', () => {
    const cfg = parseRulesConfig(furnaceConfig);
    const resolve = createRuleResolver(cfg);
    expect(resolve('a/b/furnace-1')).toBe(resolve('a/b/furnace-1'));
    // Same class, no device entry: the same (frozen) list, which is what 100k devices cost in memory.
    expect(resolve('a/b/furnace-1')).toBe(resolve('a/b/furnace-2'));
    expect(Object.isFrozen(resolve('a/b/furnace-1'))).toBe(true);
    expect(resolve('a/b/furnace-1')).toEqual(resolveRules(cfg, 'a/b/furnace-2'));
    // Another class, or a device with its own entry: its own list.
    expect(resolve('x/y/z')).not.toBe(resolve('a/b/furnace-1'));
    expect(resolve('site-01/line-01/furnace-9')).not.toBe(resolve('a/b/furnace-1'));
    expect(resolve('site-01/line-01/furnace-9').find((r) => r.id === 'temperature-high')?.params).toMatchObject({ high: 300 });
  });

  describe('errors found at load time, each naming its path', () => {
    function problems(raw: unknown): string[] {
      try {
        parseRulesConfig(raw, 'rules.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(RulesConfigError);
        return (err as RulesConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      throw new Error('expected the configuration to be rejected');
    }

    it('a bad param names classes.<class>.rules[i].params.<name>', () => {
      expect(problems({ classes: { furnace: { rules: [{ id: 't', metric: 'temperature_c', detector: 'limit', params: { high: 'hot' } }] } } })).toEqual([
        'classes.furnace.rules[0].params.high: Invalid input: expected number, received string',
      ]);
    });

    it('a misspelt param is rejected', () => {
      expect(problems({ classes: { default: { rules: [{ id: 't', metric: 'temperature_c', detector: 'limit', params: { hihg: 5, high: 4 } }] } } })[0]).toMatch(/^classes\.default\.rules\[0\]\.params: Unrecognized key: "hihg"/);
    });

    it('an unknown detector kind lists the known ones', () => {
      expect(problems({ classes: { x: { rules: [{ id: 't', metric: 'temperature_c', detector: 'spike' }] } } })).toEqual([
        'classes.x.rules[0].detector: unknown detector "spike" (known: limit, rate-of-change, baseline, flatline, range, silence, robust, multivariate, distribution, residual, dynamics)',
      ]);
    });

    it('rule ids are unique per class', () => {
      const rule = { id: 'dup', metric: 'temperature_c', detector: 'limit', params: { high: 1 } };
      expect(problems({ classes: { x: { rules: [rule, rule] } } })).toEqual(['classes.x.rules[1].id: rule id "dup" appears twice']);
    });

    it('a merged device override is checked against the detector schema', () => {
      expect(problems({ ...furnaceConfig, devices: { 'site-01/line-01/m-003': { class: 'furnace', override: { 'temperature-high': { params: { hysteresis: -1 } } } } } })).toEqual([
        'devices.site-01/line-01/m-003.override.temperature-high.params.hysteresis: Too small: expected number to be >=0',
      ]);
    });

    it('overrides and disables must name an existing rule; classes must exist', () => {
      const p = problems({
        classes: { x: { disable: ['nope'] } },
        devices: { 's/l/d': { override: { ghost: { params: {} } }, disable: ['gone'] }, 's/l/e': { class: 'missing' } },
      });
      expect(p).toHaveLength(4);
      expect(p[0]).toMatch(/^classes\.x\.disable\[0\]: no inherited rule "nope" to disable/);
      expect(p[1]).toMatch(/^devices\.s\/l\/d\.override\.ghost: no rule "ghost" to override/);
      expect(p[2]).toMatch(/^devices\.s\/l\/d\.disable\[0\]: no rule "gone" to disable/);
      expect(p[3]).toMatch(/^devices\.s\/l\/e\.class: unknown class "missing" \(known: x, default\)/);
    });

    it('bad device keys, digit-only class names and a default class with match', () => {
      const p = problems({ classes: { '7': {} }, devices: { 'no-slashes': {} } });
      expect(p.some((x) => x.startsWith('classes.7: bad key: class names must not be all digits'))).toBe(true);
      expect(p.some((x) => x.startsWith('devices.no-slashes: bad key: device keys are "site/line/device"'))).toBe(true);
      expect(problems({ classes: { default: { match: ['*'] } } })).toEqual(['classes.default.match: the default class takes every device no other class matches: it has no match']);
    });

    it('a range rule on a metric without a catalogue range needs bounds', () => {
      expect(problems({ classes: { x: { rules: [{ id: 'r', metric: 'energy_kwh', detector: 'range' }] } } })[0]).toMatch(/^classes\.x\.rules\[0\]\.params\.min: set min and\/or max/);
    });
  });
});
