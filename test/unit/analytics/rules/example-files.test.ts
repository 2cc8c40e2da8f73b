import { describe, expect, it } from 'vitest';
import { loadAnalyticsConfig } from '../../../../src/analytics/config.js';
import { resolveRules, validateRulesConfig } from '../../../../src/analytics/rules/resolve.js';

describe('the example analytics files under deploy/analytics', () => {
  it('slow-faults.yaml adds the residual rule to the defaults of every device', () => {
    const config = loadAnalyticsConfig('deploy/analytics/slow-faults.yaml');
    expect(validateRulesConfig(config.rules)).toEqual([]);
    const rules = resolveRules(config.rules, 'site-01/line-01/m-001');
    const rule = rules.find((r) => r.id === 'off-prediction');
    expect(rule).toMatchObject({ detector: 'residual', metric: '+', params: { raiseSamples: 90, alpha: 0.0005, zRaise: 10 } });
    // The defaults stay: the file only adds.
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(['deviation', 'joint-deviation', 'distribution-change']));
  });
});
