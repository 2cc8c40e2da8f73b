import { describe, expect, it } from 'vitest';
import { parseTime, timeRange } from '../../../src/api/query-params.js';
import { PlantPulseError } from '../../../src/contract/index.js';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

describe('query parameters: times', () => {
  it('reads epoch ms, ISO 8601, now and now-<duration>', () => {
    expect(parseTime('1795910400000', NOW)).toBe(1_795_910_400_000);
    expect(parseTime('2026-11-29T08:00:00Z', NOW)).toBe(Date.UTC(2026, 10, 29, 8));
    expect(parseTime('now', NOW)).toBe(NOW);
    expect(parseTime('now-24h', NOW)).toBe(NOW - 86_400_000);
    expect(parseTime('yesterday', NOW)).toBeNull();
  });

  // Regression (found by test/unit/fuzz/query-params-fuzz.test.ts): `from=9999999999999999` (or
  // `now-999999999w`) passed validation, then `new Date(from).toISOString()` in the range check
  // threw a RangeError: GET /api/v1/series and /api/v1/energy answered 500.
  it('refuses times beyond what a date can hold, so the range check answers 400', () => {
    expect(parseTime('9999999999999999', NOW)).toBeNull();
    expect(parseTime('now-999999999w', NOW)).toBeNull();
    expect(parseTime('8640000000000000', NOW)).toBe(8.64e15); // the last date there is
    expect(() => timeRange({ from: '8640000000000000' }, 3_600_000, 400 * 86_400_000, NOW)).toThrow(PlantPulseError);
  });
});
