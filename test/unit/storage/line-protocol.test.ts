import { describe, expect, it } from 'vitest';
import { pointsToLineProtocol, toLineProtocol, type Point } from '../../../src/storage/index.js';

const p = (over: Partial<Point>): Point => ({ measurement: 'telemetry', tags: { site: 's1' }, fields: { power_kw: 1.5 }, ts: 1795910400000, ...over });

describe('line protocol', () => {
  it('writes measurement, sorted tags, fields and a ms timestamp', () => {
    expect(toLineProtocol(p({ tags: { site: 's1', device: 'd1', line: 'l1' }, fields: { power_kw: 12.5, state: 2 } }))).toBe(
      'telemetry,device=d1,line=l1,site=s1 power_kw=12.5,state=2 1795910400000',
    );
  });
  it.each([
    ['comma in measurement', { measurement: 'tele,metry' }, 'tele\\,metry,site=s1 power_kw=1.5 1795910400000'],
    ['space in measurement', { measurement: 'tele metry' }, 'tele\\ metry,site=s1 power_kw=1.5 1795910400000'],
    ['equals sign in measurement is literal', { measurement: 'a=b' }, 'a=b,site=s1 power_kw=1.5 1795910400000'],
    ['comma, equals, space in a tag value', { tags: { site: 'a,b=c d' } }, 'telemetry,site=a\\,b\\=c\\ d power_kw=1.5 1795910400000'],
    ['special characters in a tag key', { tags: { 'my tag,x=': 'v' } }, 'telemetry,my\\ tag\\,x\\==v power_kw=1.5 1795910400000'],
    ['special characters in a field key', { fields: { 'a b,c=d': 1 } }, 'telemetry,site=s1 a\\ b\\,c\\=d=1 1795910400000'],
    ['backslash in a tag value', { tags: { site: 'a\\b' } }, 'telemetry,site=a\\\\b power_kw=1.5 1795910400000'],
    ['quotes and backslashes in a string field', { fields: { note: 'say "hi" \\ bye\\' } }, 'telemetry,site=s1 note="say \\"hi\\" \\\\ bye\\\\" 1795910400000'],
    ['newline inside a string field is kept', { fields: { note: 'a\nb' } }, 'telemetry,site=s1 note="a\nb" 1795910400000'],
    ['unicode', { tags: { site: '工厂' }, fields: { note: '温度' } }, 'telemetry,site=工厂 note="温度" 1795910400000'],
    ['booleans', { fields: { ok: true, bad: false } }, 'telemetry,site=s1 ok=true,bad=false 1795910400000'],
    ['empty tag value is omitted', { tags: { site: 's1', line: '' } }, 'telemetry,site=s1 power_kw=1.5 1795910400000'],
  ] as [string, Partial<Point>, string][])('%s', (_name, over, expected) => {
    expect(toLineProtocol(p(over))).toBe(expected);
  });
  it.each([
    [0, '0'],
    [-0.5, '-0.5'],
    [1e21, '1e+21'],
    [5e-324, '5e-324'],
    [123456789012, '123456789012'],
    [0.1 + 0.2, '0.30000000000000004'],
  ])('writes %s as the float %s (no integer suffix)', (value, text) => {
    expect(toLineProtocol(p({ fields: { v: value } }))).toBe(`telemetry,site=s1 v=${text} 1795910400000`);
  });
  it.each([
    ['NaN', { fields: { v: NaN } }, /not finite/],
    ['Infinity', { fields: { v: Infinity } }, /not finite/],
    ['no fields', { fields: {} }, /no fields/],
    ['newline in a tag value', { tags: { site: 'a\nb' } }, /newline/],
    ['newline in a measurement', { measurement: 'a\nb' }, /newline/],
    ['fractional timestamp', { ts: 1.5 }, /not an integer/],
  ] as [string, Partial<Point>, RegExp][])('refuses %s', (_name, over, error) => {
    expect(() => toLineProtocol(p(over))).toThrow(error);
  });
  it('joins points with newlines', () => {
    expect(pointsToLineProtocol([p({ ts: 1 }), p({ ts: 2 })])).toBe('telemetry,site=s1 power_kw=1.5 1\ntelemetry,site=s1 power_kw=1.5 2');
  });
});
