import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/alerts/index.js';
import { readCsv } from '../../support/csv.js';
import { alertsCsv, csvCell, ENERGY_COLUMNS, headerRow, localTime, neutralizeFormula, offsetLabel, reportRange, toCsv } from '../../../src/reports/index.js';

/** Exports read back; every line must end with CRLF. */
function parseCsv(text: string): string[][] {
  const { rows, rest } = readCsv(text);
  expect(rest).toBe(''); // every line ended with CRLF
  return rows;
}

describe('csvCell: RFC 4180 quoting', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rlf', '"cr\rlf"'],
    ['', ''],
    ['电耗(kWh)', '电耗(kWh)'],
  ])('%j → %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('numbers as numbers (6 decimals, no float noise), null and undefined empty, booleans as words', () => {
    expect(csvCell(0.1 + 0.2)).toBe('0.3');
    expect(csvCell(1234.5678901234)).toBe('1234.56789');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(-0.0000001)).toBe('0');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(true)).toBe('true');
  });
});

describe('formula injection', () => {
  it.each(['=1+1', '+1', '-2+3+cmd|\' /C calc\'!A0', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://evil","x")'])('text %j gets a leading apostrophe', (text) => {
    expect(neutralizeFormula(text)).toBe(`'${text}`);
    const cell = csvCell(text);
    // Quoted or not, the field's content starts with the apostrophe.
    expect(cell.replace(/^"/, '').startsWith("'")).toBe(true);
  });

  it('leaves ordinary text, and computed numbers (a negative number is not a formula), alone', () => {
    expect(neutralizeFormula('note = fine')).toBe('note = fine');
    expect(neutralizeFormula("'quoted")).toBe("'quoted");
    expect(csvCell(-12.5)).toBe('-12.5');
  });

  it('a hostile, quoted, multi-line cell survives a round trip, neutralized', () => {
    const hostile = '=cmd|"/C calc"!A0,\r\nsecond line';
    const text = toCsv(['a', 'b'], [[hostile, 1]]);
    expect(parseCsv(text)).toEqual([
      ['a', 'b'],
      [`'${hostile}`, '1'],
    ]);
  });
});

describe('toCsv', () => {
  it('header row, CRLF after every line, a BOM only when asked', () => {
    expect(toCsv(['x', 'y'], [[1, 'a'], [null, 'b']])).toBe('x,y\r\n1,a\r\n,b\r\n');
    const zh = toCsv(['站点'], [['site-01']], { bom: true });
    expect(zh.charCodeAt(0)).toBe(0xfeff);
    expect(Buffer.from(zh, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });
});

describe('columns and times', () => {
  it('Chinese headers carry the expected terms; time columns name their offset', () => {
    const zh = headerRow(ENERGY_COLUMNS, 'zh', 8 * 3_600_000);
    for (const name of ['站点', '产线', '电耗(kWh)', '综合能耗(tce)', '二氧化碳(kg)', '产量', '单位产品电耗(kWh/件)', '待机能耗占比']) expect(zh).toContain(name);
    expect(zh).toContain('开始时间(UTC+08:00)');
    expect(headerRow(ENERGY_COLUMNS, 'en', 8 * 3_600_000).slice(0, 5)).toEqual(['site', 'line', 'from(UTC+08:00)', 'to(UTC+08:00)', 'electricity_kwh']);
    expect(offsetLabel(-210 * 60_000)).toBe('-03:30');
    expect(localTime(Date.UTC(2026, 11, 4, 16, 0, 0), 8 * 3_600_000)).toBe('2026-12-05 00:00:00');
    expect(localTime(null, 0)).toBeNull();
  });

  it('alerts CSV: a typed acknowledgement note cannot become a formula; zh translates values and adds a BOM', () => {
    const alert = {
      id: 'a1', key: 'k', site: 's', line: 'l', device: 'd', rule: 'r', metric: 'm', category: 'safety', severity: 'critical', state: 'resolved',
      openedAt: Date.UTC(2026, 0, 1, 0, 0, 0), lastSeen: Date.UTC(2026, 0, 1, 0, 5, 0), resolvedAt: null, count: 3, value: -4.5, peak: -7, threshold: -3, baseline: null,
      message: { en: 'too cold, "really"', zh: '温度过低' }, flapping: false, clearPendingSince: null, ackedAt: null, ackedBy: '@admin', ackNote: '=HYPERLINK("x")', updatedAt: 0,
    } as Alert;
    const [header, row] = parseCsv(alertsCsv([alert], 'en', 0));
    const cell = (name: string) => row![header!.indexOf(name)];
    expect(cell('ack_note')).toBe('\'=HYPERLINK("x")');
    expect(cell('acked_by')).toBe("'@admin");
    expect(cell('value')).toBe('-4.5');
    expect(cell('message')).toBe('too cold, "really"');
    expect(cell('opened_at(UTC+00:00)')).toBe('2026-01-01 00:00:00');
    expect(cell('resolved_at(UTC+00:00)')).toBe('');
    const zh = alertsCsv([alert], 'zh', 8 * 3_600_000);
    expect(zh.charCodeAt(0)).toBe(0xfeff);
    const [zhHeader, zhRow] = parseCsv(zh.slice(1));
    expect(zhRow![zhHeader!.indexOf('类别')]).toBe('安全');
    expect(zhRow![zhHeader!.indexOf('级别')]).toBe('严重');
    expect(zhRow![zhHeader!.indexOf('状态')]).toBe('已解除');
    expect(zhRow![zhHeader!.indexOf('说明')]).toBe('温度过低');
    expect(zhRow![zhHeader!.indexOf('发生时间(UTC+08:00)')]).toBe('2026-01-01 08:00:00');
  });
});

describe('reportRange: whole plant-local hours only', () => {
  const CST = 8 * 3_600_000;
  const now = Date.UTC(2026, 11, 5, 3, 20, 0); // 11:20 in UTC+8
  it('defaults to yesterday, plant-local', () => {
    expect(reportRange({}, CST, now)).toEqual({ from: Date.UTC(2026, 11, 3, 16), to: Date.UTC(2026, 11, 4, 16) });
    expect(reportRange({ from: Date.UTC(2026, 11, 1, 16) }, CST, now)).toEqual({ from: Date.UTC(2026, 11, 1, 16), to: Date.UTC(2026, 11, 2, 16) });
  });
  it('refuses a period that cuts an hour, or runs backwards, or is too long', () => {
    expect(() => reportRange({ from: Date.UTC(2026, 11, 4, 1, 30), to: Date.UTC(2026, 11, 4, 3) }, CST, now)).toThrow(/from .* whole plant-local hour/);
    expect(() => reportRange({ from: Date.UTC(2026, 11, 4, 1), to: Date.UTC(2026, 11, 4, 1, 0, 1) }, CST, now)).toThrow(/to .* whole plant-local hour/);
    expect(() => reportRange({ from: Date.UTC(2026, 11, 4, 3), to: Date.UTC(2026, 11, 4, 1) }, CST, now)).toThrow(/before/);
    expect(() => reportRange({ from: Date.UTC(2024, 0, 1), to: Date.UTC(2026, 0, 1) }, CST, now)).toThrow(/400 days/);
  });
  it('a half-hour offset moves the hour boundaries', () => {
    const IST = 330 * 60_000;
    expect(() => reportRange({ from: Date.UTC(2026, 11, 4, 1), to: Date.UTC(2026, 11, 4, 2) }, IST, now)).toThrow(/whole plant-local hour/);
    expect(reportRange({ from: Date.UTC(2026, 11, 4, 0, 30), to: Date.UTC(2026, 11, 4, 2, 30) }, IST, now)).toEqual({ from: Date.UTC(2026, 11, 4, 0, 30), to: Date.UTC(2026, 11, 4, 2, 30) });
  });
});
