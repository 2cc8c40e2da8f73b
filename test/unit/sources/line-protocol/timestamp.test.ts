import { describe, expect, it } from 'vitest';
import { timestampToMs, type Precision } from '../../../../src/sources/line-protocol/index.js';

describe('timestamps: precision → epoch milliseconds', () => {
  const ms = 1_795_910_400_123;
  it.each([
    ['ns', '1795910400123456789', ms],
    ['us', '1795910400123456', ms],
    ['u', '1795910400123456', ms],
    ['ms', '1795910400123', ms],
    ['s', '1795910400', 1_795_910_400_000],
    ['m', '29931840', 1_795_910_400_000],
    ['h', '498864', 1_795_910_400_000],
  ] as [Precision, string, number][])('%s: %s → %i', (precision, digits, expected) => {
    expect(timestampToMs(digits, precision)).toBe(expected);
  });

  it('floors sub-millisecond digits (ns and us), exactly, beyond 2^53', () => {
    expect(timestampToMs('1795910400123999999', 'ns')).toBe(ms);
    expect(timestampToMs('9223372036854775806', 'ns')).toBe(9_223_372_036_854);
    expect(timestampToMs('999999', 'ns')).toBe(0);
    expect(timestampToMs('1000000', 'ns')).toBe(1);
    expect(timestampToMs('0', 'us')).toBe(0);
  });
  it('floors negative timestamps towards the past', () => {
    expect(timestampToMs('-1', 'ns')).toBe(-1);
    expect(timestampToMs('-1000000', 'ns')).toBe(-1);
    expect(timestampToMs('-1000001', 'ns')).toBe(-2);
    expect(timestampToMs('-1500', 'us')).toBe(-2);
    expect(timestampToMs('-5', 's')).toBe(-5000);
  });
  it('refuses what no date can be (rather than handing the decoder a number Date cannot print)', () => {
    expect(timestampToMs('9223372036854775806', 'ms')).toBeNull();
    expect(timestampToMs('9223372036854775806', 's')).toBeNull();
    expect(timestampToMs('8640000000000001', 'ms')).toBeNull();
    expect(timestampToMs('8640000000000000', 'ms')).toBe(8.64e15);
    expect(timestampToMs('2562047788016', 'h')).toBeNull();
  });
});
