import { describe, expect, it } from 'vitest';
import { parseLineProtocol, type ParsedPoint } from '../../../../src/sources/line-protocol/index.js';

/** The one point of a one-line body (fails the test if the line did not parse). */
function one(line: string): ParsedPoint {
  const r = parseLineProtocol(line);
  expect(r.errors).toEqual([]);
  expect(r.points).toHaveLength(1);
  return r.points[0]!;
}
/** The one error of a one-line body. */
function error(line: string) {
  const r = parseLineProtocol(line);
  expect(r.points).toEqual([]);
  expect(r.errors).toHaveLength(1);
  return r.errors[0]!;
}
const tags = (p: ParsedPoint) => Object.fromEntries(p.tags.map((t) => [t.key, t.value]));
const fields = (p: ParsedPoint) => Object.fromEntries(p.fields.map((f) => [f.key, f.value]));

describe('line protocol parser: elements', () => {
  it('reads measurement, tag set, field set and timestamp (the reference example)', () => {
    const p = one('myMeasurement,tag1=value1,tag2=value2 fieldKey="fieldValue" 1556813561098000000');
    expect(p).toEqual({
      line: 1,
      measurement: 'myMeasurement',
      tags: [{ key: 'tag1', value: 'value1' }, { key: 'tag2', value: 'value2' }],
      fields: [{ key: 'fieldKey', type: 'string', value: 'fieldValue', column: 39 }],
      timestamp: '1556813561098000000',
    });
  });
  it('tags and timestamp are optional', () => {
    expect(one('m f=1')).toEqual({ line: 1, measurement: 'm', tags: [], fields: [{ key: 'f', type: 'float', value: 1, column: 3 }], timestamp: null });
  });
  it('reads several fields, keeping their order, with the column of each key', () => {
    const p = one('cpu,host=a usage_idle=98.5,usage_user=1.25,cores=8i 1');
    expect(p.fields.map((f) => [f.key, f.value, f.column])).toEqual([['usage_idle', 98.5, 12], ['usage_user', 1.25, 28], ['cores', 8, 44]]);
  });
  it('accepts runs of spaces between sections, leading spaces and trailing spaces (like the reference parser)', () => {
    expect(one('  m,t=v   f=1    5  ')).toMatchObject({ measurement: 'm', timestamp: '5' });
    expect(one('m f=1 ')).toMatchObject({ timestamp: null });
  });
});

describe('line protocol parser: special characters (reference "Special characters")', () => {
  it.each([
    ['space in a measurement', 'my\\ Measurement fieldKey="string value"', { measurement: 'my Measurement' }],
    ['comma in a measurement', 'wea\\,ther temperature=82', { measurement: 'wea,ther' }],
    ['equals sign in a measurement is literal', 'a=b v=1', { measurement: 'a=b' }],
    ['quotes in a measurement are part of the name', '"weather" temperature=82', { measurement: '"weather"' }],
    ['a hash inside a measurement', 'a#b v=1', { measurement: 'a#b' }],
  ])('%s', (_name, line, expected) => {
    expect(one(line)).toMatchObject(expected);
  });

  it('tag keys and values with spaces (the reference example)', () => {
    expect(tags(one('myMeasurement,tag\\ Key1=tag\\ Value1,tag\\ Key2=tag\\ Value2 fieldKey=100'))).toEqual({ 'tag Key1': 'tag Value1', 'tag Key2': 'tag Value2' });
  });
  it('commas, equals signs and spaces in tag keys and values', () => {
    expect(tags(one('m,my\\ tag\\,x\\==a\\,b\\=c\\ d f=1'))).toEqual({ 'my tag,x=': 'a,b=c d' });
  });
  it('commas, equals signs and spaces in field keys', () => {
    expect(fields(one('weather temp\\=rature=82,a\\ b\\,c=1'))).toEqual({ 'temp=rature': 82, 'a b,c': 1 });
  });
  it('double quotes and backslashes in string field values', () => {
    expect(fields(one('myMeasurement fieldKey="\\"string\\" within a string"'))).toEqual({ fieldKey: '"string" within a string' });
    expect(fields(one('m s="C:\\\\temp\\\\",t="a\\b"'))).toEqual({ s: 'C:\\temp\\', t: 'a\\b' });
    expect(fields(one('m s="a,b=c d"'))).toEqual({ s: 'a,b=c d' });
    expect(fields(one('m s=""'))).toEqual({ s: '' });
  });
  it('emojis and other unicode everywhere', () => {
    const p = one('myMeasurement,tagKey=🍭 fieldKey="Launch 🚀",温度=1 1556813561098000000');
    expect(tags(p)).toEqual({ tagKey: '🍭' });
    expect(fields(p)).toEqual({ fieldKey: 'Launch 🚀', 温度: 1 });
  });
  it('quotes inside tag values and field keys are literal', () => {
    expect(tags(one('m,t="q" f=1'))).toEqual({ t: '"q"' });
    expect(fields(one("m 'f'=1"))).toEqual({ "'f'": 1 });
  });

  // The reference table "Escaping backslashes": with two contiguous backslashes the first escapes.
  it.each([
    ['\\', '\\'],
    ['\\\\', '\\'],
    ['\\\\\\', '\\\\'],
    ['\\\\\\\\', '\\\\'],
    ['\\\\\\\\\\', '\\\\\\'],
    ['\\\\\\\\\\\\', '\\\\\\'],
  ])('backslashes %s read as %s in a measurement, tag and field key', (written, read) => {
    const p = one(`my${written}m,t${written}k=v${written}x f${written}k=1`);
    expect(p.measurement).toBe(`my${read}m`);
    expect(p.tags).toEqual([{ key: `t${read}k`, value: `v${read}x` }]);
    expect(p.fields[0]!.key).toBe(`f${read}k`);
  });
  it('a backslash before an ordinary character is kept', () => {
    expect(one('m\\x,t=a\\b f\\k=1')).toMatchObject({ measurement: 'm\\x', tags: [{ key: 't', value: 'a\\b' }], fields: [{ key: 'f\\k' }] });
  });
  it('a backslash before "=" escapes it in tag keys but not in a measurement', () => {
    expect(one('a\\=b v=1').measurement).toBe('a\\=b');
  });
});

describe('line protocol parser: field types (reference "Data types and format")', () => {
  it.each([
    ['1.0', 1],
    ['1', 1],
    ['-1.234456e+78', -1.234456e78],
    ['1E5', 1e5],
    ['1e-3', 0.001],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['1.', 1],
    ['-0', -0],
    ['0.1', 0.1],
    ['1.7976931348623157e308', Number.MAX_VALUE],
  ])('float %s', (text, value) => {
    expect(one(`m f=${text}`).fields[0]).toMatchObject({ type: 'float', value });
  });
  it.each([
    ['1i', 1],
    ['12485903i', 12485903],
    ['-12485903i', -12485903],
    ['0i', 0],
    ['007i', 7],
    ['9223372036854775807i', 2 ** 63], // the nearest double
    ['-9223372036854775808i', -9223372036854775808],
  ])('integer %s', (text, value) => {
    expect(one(`m f=${text}`).fields[0]).toMatchObject({ type: 'integer', value });
  });
  it.each([
    ['1u', 1],
    ['12485903u', 12485903],
    ['0u', 0],
    ['18446744073709551615u', 2 ** 64], // the nearest double
  ])('unsigned %s', (text, value) => {
    expect(one(`m f=${text}`).fields[0]).toMatchObject({ type: 'unsigned', value });
  });
  it.each(['t', 'T', 'true', 'True', 'TRUE'])('boolean true: %s', (text) => {
    expect(one(`m f=${text}`).fields[0]).toMatchObject({ type: 'boolean', value: true });
  });
  it.each(['f', 'F', 'false', 'False', 'FALSE'])('boolean false: %s', (text) => {
    expect(one(`m f=${text}`).fields[0]).toMatchObject({ type: 'boolean', value: false });
  });
  it('a quoted boolean is a string', () => {
    expect(one('m f="true"').fields[0]).toMatchObject({ type: 'string', value: 'true' });
  });

  it.each([
    ['9223372036854775808i', 'out of the signed 64-bit integer range'],
    ['-9223372036854775809i', 'out of the signed 64-bit integer range'],
    ['18446744073709551616u', 'out of the unsigned 64-bit integer range'],
    ['-1u', 'is not an unsigned integer'],
    ['1.5i', 'is not an integer'],
    ['1e3i', 'is not an integer'],
    ['-i', 'is not an integer'],
    ['1e999', 'out of the 64-bit float range'],
    ['1.5.3', 'is not a number'],
    ['1e', 'is not a number'],
    ['0x10', 'is not a number'],
    ['1_000', 'is not a number'],
    ['-', 'is not a number'],
    ['NaN', 'of no known type'],
    ['-Inf', 'is not a number'],
    ['Infinity', 'of no known type'],
    ['+1', 'of no known type'],
    ['tru', 'is not a boolean'],
    ['yes', 'of no known type'],
    ['FaLsE', 'is not a boolean'],
    ['hello', 'of no known type'],
    ["'single'", 'double quotes, not single quotes'],
    ['', 'has no value'],
  ])('rejects the value %s', (text, reason) => {
    const e = error(`m f=${text}`);
    expect(e).toMatchObject({ line: 1, column: 5, part: 'field value' });
    expect(e.reason).toContain(reason);
  });
});

describe('line protocol parser: timestamps', () => {
  it.each([
    ['m f=1 1556813561098000000', '1556813561098000000'],
    ['m f=1 -1', '-1'],
    ['m f=1 0', '0'],
    ['m f=1 9223372036854775806', '9223372036854775806'],
    ['m f=1 -9223372036854775806', '-9223372036854775806'],
  ])('%s', (line, ts) => {
    expect(one(line).timestamp).toBe(ts);
  });
  it.each([
    ['m f=1 12.5', 'must be an integer'],
    ['m f=1 "1"', 'must be an integer'],
    ['m f=1 1e9', 'must be an integer'],
    ['m f=1 9223372036854775807', 'out of range'],
    ['m f=1 -9223372036854775807', 'out of range'],
    ['m f=1 1 2', 'after the timestamp'],
  ])('rejects %s', (line, reason) => {
    const e = error(line);
    expect(e.part).toBe('timestamp');
    expect(e.reason).toContain(reason);
  });
});

describe('line protocol parser: lines, comments, blank lines', () => {
  it('skips comments and blank lines, and numbers lines as written', () => {
    const r = parseLineProtocol('# header\n\nm f=1\n   \n  # indented comment\nm f=2\n# trailing');
    expect(r.points.map((p) => [p.line, p.fields[0]!.value])).toEqual([[3, 1], [6, 2]]);
    expect(r.entries).toBe(2);
  });
  it('reads CRLF line ends, and a CR that ends the input', () => {
    const r = parseLineProtocol('m f=1\r\nm f=2 5\r\n\r\n# c\r\nm f=3\r');
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => [p.line, p.fields[0]!.value, p.timestamp])).toEqual([[1, 1, null], [2, 2, '5'], [5, 3, null]]);
  });
  it('a final newline is optional', () => {
    expect(parseLineProtocol('m f=1\n').points).toHaveLength(1);
    expect(parseLineProtocol('').entries).toBe(0);
  });
  it('a newline inside a string value belongs to it, and the line count goes on', () => {
    const r = parseLineProtocol('m s="a\nb"\nm f=1\nbad');
    expect(r.points.map((p) => [p.line, p.fields[0]!.value])).toEqual([[1, 'a\nb'], [3, 1]]);
    expect(r.errors.map((e) => e.line)).toEqual([4]);
  });
});

describe('line protocol parser: bad lines are named and cost only themselves', () => {
  it('reports each bad line with its number, column and part, and keeps the good lines around it', () => {
    const body = ['m f=1', 'm', 'm f=2', 'm,t f=1', 'm f=3', 'm f=abc', '# fine', 'm f=4 x'].join('\n');
    const r = parseLineProtocol(body);
    expect(r.points.map((p) => p.line)).toEqual([1, 3, 5]);
    expect(r.errors.map((e) => [e.line, e.column, e.part])).toEqual([[2, 2, 'line'], [4, 4, 'tag key'], [6, 5, 'field value'], [8, 7, 'timestamp']]);
    expect(r.entries).toBe(7);
  });
  it.each([
    [',t=v f=1', 1, 'measurement', 'expected a measurement name'],
    [' ,t=v f=1', 2, 'measurement', 'expected a measurement name'],
    ['m', 2, 'line', 'a line needs at least one field'],
    ['m,t=v', 6, 'line', 'a line needs at least one field'],
    ['m ', 3, 'field key', 'a line needs at least one field'],
    ['m,t=v,', 7, 'tag key', 'expected a tag key'],
    ['m, t=v f=1', 3, 'tag key', 'expected a tag key after ",", found a space'],
    ['m,t f=1', 4, 'tag key', 'must be followed by "="'],
    ['m,t= f=1', 5, 'tag value', 'has no value'],
    ['m,t=a=b f=1', 6, 'tag value', 'must be escaped'],
    ['m,t=a,t=b f=1', 7, 'tag key', 'appears twice'],
    ['m f=1,f=2', 7, 'field key', 'appears twice'],
    ['m f', 4, 'field key', 'must be followed by "="'],
    ['m f=1,', 7, 'field key', 'expected a field key'],
    ['m f=1, g=2', 7, 'field key', 'expected a field key'],
    ['m =1', 3, 'field key', 'expected a field key'],
    ['m f=1,g', 8, 'field key', 'must be followed by "="'],
    ['m f="x"y', 8, 'field value', 'after the value of field "f"'],
    ['m f="open', 5, 'field value', 'no closing double quote'],
    ['_m f=1', 1, 'measurement', 'begins with "_"'],
    ['m,_t=v f=1', 3, 'tag key', 'begins with "_"'],
    ['m _f=1', 3, 'field key', 'begins with "_"'],
    ['m\tx f=1', 2, 'measurement', 'control character U+0009'],
    ['m,t=a\u0000 f=1', 6, 'tag value', 'control character U+0000'],
    ['m f=1\rx', 6, 'field value', 'a carriage return without a newline'],
  ])('%j: column %i, %s: %s', (line, column, part, reason) => {
    const e = error(line);
    expect({ line: e.line, column: e.column, part: e.part }).toEqual({ line: 1, column, part });
    expect(e.reason).toContain(reason);
  });
  it('an unclosed quote costs its own line only', () => {
    const r = parseLineProtocol('m s="open\nm f=1\nm f=2');
    expect(r.errors.map((e) => [e.line, e.reason])).toEqual([[1, 'string value has no closing double quote']]);
    expect(r.points.map((p) => p.line)).toEqual([2, 3]);
  });
  it('columns count from the start of the line the error is on', () => {
    const r = parseLineProtocol('m f=1\nm f=1 bad');
    expect(r.errors).toEqual([{ line: 2, column: 7, part: 'timestamp', reason: expect.stringContaining('"bad"') }]);
  });
});
