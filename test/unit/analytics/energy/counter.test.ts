import { describe, expect, it } from 'vitest';
import { counterDelta, type CounterRules } from '../../../../src/analytics/energy/index.js';

const T0 = Date.UTC(2026, 0, 6, 0, 0, 0);
const MIN = 60_000;
const r = (minutes: number, value: number) => ({ ts: T0 + minutes * MIN, value });
const plain: CounterRules = { rolloverNearFraction: 0.1 };
/** A 6+1 digit register: shows 999,999.9, then 0.0, so it wraps at 1,000,000.0. */
const sixPlusOne: CounterRules = { rolloverModulus: 1_000_000, rolloverNearFraction: 0.1 };
/** A 32-bit register counting 0.001 kWh: 2³² × 0.001 = 4,294,967.296 kWh. */
const bits32: CounterRules = { rolloverModulus: 4_294_967.296, rolloverNearFraction: 0.1 };

describe('counterDelta: ordinary readings', () => {
  it('the first reading counts nothing', () => {
    expect(counterDelta(undefined, r(0, 1234.5), plain)).toEqual({ delta: 0, reason: 'first' });
  });
  it('an increase is the difference: 100 → 100.5 is 0.5', () => {
    expect(counterDelta(r(0, 100), r(1, 100.5), plain)).toEqual({ delta: 0.5, reason: 'normal' });
  });
  it('an unchanged reading is a normal zero', () => {
    expect(counterDelta(r(0, 100), r(1, 100), plain)).toEqual({ delta: 0, reason: 'normal' });
  });
});

describe('counterDelta: rollover', () => {
  it('6+1 digits: 999,999.5 → 0.7 is 1,000,000 − 999,999.5 + 0.7 = 1.2', () => {
    const d = counterDelta(r(0, 999_999.5), r(1, 0.7), sixPlusOne);
    expect(d.reason).toBe('rollover');
    expect(d.delta).toBeCloseTo(1.2, 9);
  });
  it('32-bit: 4,294,960.000 → 3.000 is 4,294,967.296 − 4,294,960 + 3 = 10.296', () => {
    const d = counterDelta(r(0, 4_294_960), r(1, 3), bits32);
    expect(d.reason).toBe('rollover');
    expect(d.delta).toBeCloseTo(10.296, 9);
  });
  it('a drop from mid-range is a reset even with a modulus: 500,000 → 10 would wrap by 500,010 (> 10% of 1,000,000)', () => {
    expect(counterDelta(r(0, 500_000), r(1, 10), sixPlusOne)).toEqual({ delta: 10, reason: 'reset' });
  });
  it('without a modulus a drop near the top is a reset, counted from zero: 999,999.5 → 0.7 is 0.7', () => {
    expect(counterDelta(r(0, 999_999.5), r(1, 0.7), plain)).toEqual({ delta: 0.7, reason: 'reset' });
  });
  it('a previous reading above the modulus cannot wrap at it (wrong modulus): a reset', () => {
    expect(counterDelta(r(0, 1_200_000), r(1, 5), sixPlusOne)).toEqual({ delta: 5, reason: 'reset' });
  });
});

describe('counterDelta: reset (meter replaced, PLC restart)', () => {
  it('a decrease counts the new reading from zero, as Prometheus increase() does: 5,000 → 2.5 is 2.5', () => {
    expect(counterDelta(r(0, 5_000), r(1, 2.5), plain)).toEqual({ delta: 2.5, reason: 'reset' });
  });
  it('a reset to exactly zero counts zero', () => {
    expect(counterDelta(r(0, 5_000), r(1, 0), plain)).toEqual({ delta: 0, reason: 'reset' });
  });
});

describe('counterDelta: implausible jumps', () => {
  const max100: CounterRules = { rolloverNearFraction: 0.1, maxRatePerHour: 100 };
  it('2 kWh in 1 min is 120 kWh/h: above a 100 kW limit, not counted', () => {
    expect(counterDelta(r(0, 10), r(1, 12), max100)).toEqual({ delta: 0, reason: 'implausible', rejected: 2 });
  });
  it('1.5 kWh in 1 min is 90 kWh/h: counted', () => {
    expect(counterDelta(r(0, 10), r(1, 11.5), max100)).toEqual({ delta: 1.5, reason: 'normal' });
  });
  it('exactly at the limit is plausible: 10 kWh in 5 min is 120 kWh/h with a 120 limit; 10.5 is 126 and is not', () => {
    const max120: CounterRules = { rolloverNearFraction: 0.1, maxRatePerHour: 120 };
    expect(counterDelta(r(0, 0), r(5, 10), max120).reason).toBe('normal');
    expect(counterDelta(r(0, 0), r(5, 10.5), max120).reason).toBe('implausible');
  });
  it('a glitch cannot add a year: 1,000 → 9,999,999 kWh in 1 min is ≈ 6×10⁸ kW, above the default 100,000 kW', () => {
    const d = counterDelta(r(0, 1_000), r(1, 9_999_999), { rolloverNearFraction: 0.1, maxRatePerHour: 100_000 });
    expect(d).toEqual({ delta: 0, reason: 'implausible', rejected: 9_998_999 });
  });
  it('a reset to a meter already at 50,000 (swap) is implausible: 50,000 kWh in 1 min', () => {
    const d = counterDelta(r(0, 80_000), r(1, 50_000), { rolloverNearFraction: 0.1, maxRatePerHour: 100_000 });
    expect(d).toEqual({ delta: 0, reason: 'implausible', rejected: 50_000 });
  });
  it('a rollover delta is checked too: 999,999.5 → 90,000 wraps by 90,000.5, in 1 min above 100,000 kW', () => {
    const d = counterDelta(r(0, 999_999.5), r(1, 90_000), { ...sixPlusOne, maxRatePerHour: 100_000 });
    expect(d.reason).toBe('implausible');
    expect(d.rejected).toBeCloseTo(90_000.5, 6);
  });
  it('a positive delta in no time is an infinite rate (only with a limit)', () => {
    expect(counterDelta(r(0, 10), r(0, 11), max100).reason).toBe('implausible');
    expect(counterDelta(r(0, 10), r(0, 11), plain)).toEqual({ delta: 1, reason: 'normal' });
  });
  it('impossible readings (negative, NaN, Infinity) are implausible', () => {
    for (const v of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const d = counterDelta(r(0, 10), r(1, v), plain);
      expect(d.reason).toBe('implausible');
      expect(d.delta).toBe(0);
    }
  });
});
