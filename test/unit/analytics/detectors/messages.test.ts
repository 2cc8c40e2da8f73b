import { describe, expect, it } from 'vitest';
import { formatDuration, formatNumber, formatValue, messages } from '../../../../src/analytics/detectors/messages.js';

describe('detector messages', () => {
  it('formats numbers without float noise', () => {
    expect(formatNumber(97.2)).toBe('97.2');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(95)).toBe('95');
    expect(formatNumber(12345.678)).toBe('12345.7');
    expect(formatNumber(0.000012)).toBe('1.2e-5');
    expect(formatNumber(-3.456)).toBe('-3.46');
  });

  it('units: catalogue units, derived metrics, fractions as percent', () => {
    expect(formatValue('gas_lel_pct', 10)).toBe('10 %LEL');
    expect(formatValue('idle_share', 0.42)).toBe('42 %');
    expect(formatValue('power_factor_avg', 0.812)).toBe('0.812');
    expect(formatValue('not_in_catalogue', 3)).toBe('3');
  });

  it('durations in both languages', () => {
    expect(formatDuration(30_000)).toEqual({ en: '30 s', zh: '30 秒' });
    expect(formatDuration(600_000)).toEqual({ en: '10 min', zh: '10 分钟' });
    expect(formatDuration(3 * 3_600_000)).toEqual({ en: '3 h', zh: '3 小时' });
    expect(formatDuration(3 * 86_400_000)).toEqual({ en: '3 d', zh: '3 天' });
  });

  it('the limit message of the issue', () => {
    expect(messages.limitRaised('temperature_c', 97.2, 95, 'high', 30_000)).toEqual({
      en: 'temperature_c 97.2 °C above limit 95 °C for 30 s',
      zh: '温度 97.2 °C 超过上限 95 °C 持续 30 秒',
    });
    expect(messages.limitRaised('power_factor_avg', 0.8, 0.85, 'low', 900_000).zh).toBe('平均功率因数 0.8 低于下限 0.85 持续 15 分钟');
  });
});
