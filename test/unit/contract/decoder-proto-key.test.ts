import { describe, expect, it } from 'vitest';
import { decodeHttpBody } from '../../../src/contract/index.js';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const decode = (json: string) => decodeHttpBody(json, { site: 'a', line: 'b', device: 'c' }, undefined, NOW);

// Regression (found by test/unit/fuzz/decoder-fuzz.test.ts): zod's record skips a `__proto__` key
// unchecked, so `{"m": {"__proto__": 0, "power_kw": 1}}` was accepted with that metric silently
// dropped, with no rejection to say so.
describe('decoder: a metric named __proto__', () => {
  it('rejects the sample, naming the field, instead of dropping the metric silently', () => {
    const r = decode(`{"samples":[{"ts":${NOW},"m":{"power_kw":1}},{"ts":${NOW},"m":{"__proto__":0,"power_kw":1}}]}`);
    expect(r.batch?.samples).toEqual([{ ts: NOW, m: { power_kw: 1 } }]);
    expect(r.rejections).toEqual([{ code: 'PP_ERR_INVALID_METRIC_NAME', path: 'samples[1].m.__proto__', sample: 1, reason: expect.stringContaining('"__proto__"') }]);
  });
  it('reports it beside the sample\'s other problems', () => {
    const r = decode(`{"samples":[{"ts":"now","m":{"__proto__":{"polluted":1}}}]}`);
    expect(r.rejections.map((x) => x.code).sort()).toEqual(['PP_ERR_INVALID_METRIC_NAME', 'PP_ERR_INVALID_TIMESTAMP']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
