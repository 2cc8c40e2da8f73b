import { describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../../../src/contract/metrics.js';
import { DEFAULT_RULES, DERIVED_ENERGY_METRICS, intensityQuotaRule, parseRulesConfig, resolveRules, ruleSchema } from '../../../../src/analytics/rules/index.js';
import { detectorFor } from '../../../../src/analytics/detectors/index.js';

const rules = resolveRules(parseRulesConfig({}), 'site/line/device');
const byId = (id: string) => rules.find((r) => r.id === id);

describe('built-in default rules', () => {
  it('have unique ids and valid params', () => {
    expect(new Set(DEFAULT_RULES.map((r) => r.id)).size).toBe(DEFAULT_RULES.length);
    expect(rules).toHaveLength(DEFAULT_RULES.length);
  });

  it('check the physical range of every catalogue metric that has one', () => {
    const ranged = Object.entries(METRIC_CATALOGUE).filter(([, d]) => 'range' in d).map(([m]) => m);
    expect(rules.filter((r) => r.detector === 'range').map((r) => r.metric).sort()).toEqual(ranged.sort());
    expect(rules.filter((r) => r.detector === 'range').every((r) => r.category === 'sensor')).toBe(true);
  });

  it('include the documented safety levels', () => {
    expect(byId('vibration-high-warning')?.params).toMatchObject({ high: 7.1 });
    expect(byId('vibration-high-critical')).toMatchObject({ severity: 'critical', params: { high: 11.2 } });
    expect(byId('gas-lel-warning')).toMatchObject({ severity: 'warning', params: { high: 10 } });
    expect(byId('gas-lel-critical')).toMatchObject({ severity: 'critical', params: { high: 25 } });
    expect(byId('silence')).toMatchObject({ metric: '*', category: 'data', params: { timeoutS: 120 } });
    expect(byId('deviation')).toMatchObject({ metric: '+', detector: 'robust', states: [2], settleS: 5400 });
    expect(byId('baseline-vibration')).toMatchObject({ metric: 'vibration_mm_s', detector: 'baseline', states: [2], params: { zRaise: 4, minStd: 0.1, direction: 'above' } });
    // The multivariate rule keeps one model per machine state itself: not limited to running.
    expect(byId('joint-deviation')).toMatchObject({ metric: '+', detector: 'multivariate' });
    expect(byId('joint-deviation')).toMatchObject({ states: [2], settleS: 3600 });
    expect(byId('flatline-temperature')?.category).toBe('sensor');
  });

  it('watch the derived energy window metrics, and no quota by default', () => {
    const energy = rules.filter((r) => r.category === 'energy');
    expect(energy.map((r) => r.metric).sort()).toEqual([...DERIVED_ENERGY_METRICS].sort());
    expect(byId('power-factor-low')?.params).toMatchObject({ low: 0.85 });
    expect(byId('idle-share-high')?.params).toMatchObject({ high: 0.3 });
    expect(byId('intensity-above-quota')).toBeUndefined();
    expect(ruleSchema.safeParse(intensityQuotaRule(1.8)).success).toBe(true);
  });

  it('the power factor rule raises after two consecutive low windows and clears with hysteresis', () => {
    const rule = byId('power-factor-low');
    if (!rule) throw new Error('missing rule');
    const def = detectorFor(rule.detector);
    let s = def.initial(rule.params);
    const kinds: string[] = [];
    for (const [i, pf] of [0.9, 0.8, 0.82, 0.86, 0.88].entries()) {
      const step = def.step(rule.params, s, { ts: (i + 1) * 900_000, value: pf });
      s = step.state;
      kinds.push(step.events.map((e) => e.kind).join('') || '-');
    }
    expect(kinds).toEqual(['-', '-', 'raise', '-', 'clear']);
  });
});
