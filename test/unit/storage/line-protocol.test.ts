import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { TelemetryBatch } from '../../../src/contract/index.js';
import { telemetryPoints } from '../../../src/pipeline/to-points.js';
import { LineProtocolError, pointsToLineProtocol, toLineProtocol, type Point } from '../../../src/storage/index.js';

const TS = 1795910400000;
const p = (over: Partial<Point> = {}): Point => ({ measurement: 'telemetry', tags: { site: 's1' }, fields: { power_kw: 1.5 }, ts: TS, ...over });
const lp = (over: Partial<Point>) => toLineProtocol(p(over));

describe('line protocol: layout', () => {
  it('writes measurement, tags sorted by key, fields in order, and the ms timestamp', () => {
    expect(lp({ tags: { site: 's1', device: 'd1', line: 'l1' }, fields: { power_kw: 12.5, state: 2 } })).toBe('telemetry,device=d1,line=l1,site=s1 power_kw=12.5,state=2 1795910400000');
  });
  it('writes a point without tags', () => expect(lp({ tags: {} })).toBe('telemetry power_kw=1.5 1795910400000'));
  it('leaves out empty tag values (InfluxDB stores no tag for them either way)', () => {
    expect(lp({ tags: { site: 's1', line: '' } })).toBe('telemetry,site=s1 power_kw=1.5 1795910400000');
    expect(lp({ tags: { line: '' } })).toBe('telemetry power_kw=1.5 1795910400000');
  });
  it('sorts tag keys the way InfluxDB compares them (numeric-looking keys too)', () => {
    expect(lp({ tags: { b: '1', a: '2', '10': 'x', '9': 'y', B: 'z' } })).toBe('telemetry,10=x,9=y,B=z,a=2,b=1 power_kw=1.5 1795910400000');
  });
  it('sorts tags of every point, whatever order each object has (the sort works in place on its own key list)', () => {
    const points = [p({ tags: { site: 's1', line: 'l1', device: 'd1' } }), p({ tags: { device: 'd2', site: 's2', line: 'l2' } }), p({ tags: { line: 'l3', device: 'd3', site: 's3' } })];
    expect(pointsToLineProtocol(points).split('\n').map((l) => l.split(' ')[0])).toEqual(['telemetry,device=d1,line=l1,site=s1', 'telemetry,device=d2,line=l2,site=s2', 'telemetry,device=d3,line=l3,site=s3']);
  });
  it("telemetry lines carry their tags in influxd's own order (bytewise by key), so influxd does not sort them for every line", () => {
    const batch = { site: 'Site-B', line: 'line_2', device: 'M-10', seq: 1, samples: [{ ts: TS, m: { power_kw: 1 } }, { ts: TS + 1000, m: { power_kw: 2 } }] } as TelemetryBatch;
    for (const line of pointsToLineProtocol(telemetryPoints(batch)).split('\n')) {
      const keys = line.slice(0, line.indexOf(' ')).split(',').slice(1).map((t) => t.slice(0, t.indexOf('=')));
      expect(keys).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect(keys).toEqual(['device', 'line', 'site']);
    }
  });
  it('writes a field key the same way first and later in a line, escaped, in every line (keys are escaped once and remembered)', () => {
    const a = p({ fields: { 'a b': 1, c: 2 } });
    const b = p({ fields: { c: 3, 'a b': 4 } });
    expect(pointsToLineProtocol([a, b, a])).toBe(['telemetry,site=s1 a\\ b=1,c=2 1795910400000', 'telemetry,site=s1 c=3,a\\ b=4 1795910400000', 'telemetry,site=s1 a\\ b=1,c=2 1795910400000'].join('\n'));
    expect(() => lp({ fields: { c: 1, time: 2 } })).toThrow(LineProtocolError);
  });
  it('accepts timestamps 0 and before 1970', () => {
    expect(lp({ ts: 0 })).toBe('telemetry,site=s1 power_kw=1.5 0');
    expect(lp({ ts: -5 })).toBe('telemetry,site=s1 power_kw=1.5 -5');
  });
});

describe('line protocol: escaping (the reference examples, with ms timestamps)', () => {
  it.each([
    ['space in a tag key', { measurement: 'weather', tags: { 'location place': 'us-midwest' }, fields: { temperature: 82 } }, 'weather,location\\ place=us-midwest temperature=82'],
    ['comma in a tag value', { measurement: 'weather', tags: { location: 'us,midwest' }, fields: { temperature: 82 } }, 'weather,location=us\\,midwest temperature=82'],
    ['equals sign in a field key', { measurement: 'weather', tags: { location: 'us-midwest' }, fields: { 'temp=rature': 82 } }, 'weather,location=us-midwest temp\\=rature=82'],
    ['double quotes in a string field', { measurement: 'weather', tags: { location: 'us-midwest' }, fields: { temperature: 'too"hot"' } }, 'weather,location=us-midwest temperature="too\\"hot\\""'],
    ['comma in a measurement', { measurement: 'wea,ther', tags: { location: 'us-midwest' }, fields: { temperature: 82 } }, 'wea\\,ther,location=us-midwest temperature=82'],
    ['space in a measurement', { measurement: 'wea ther', tags: { location: 'us-midwest' }, fields: { temperature: 82 } }, 'wea\\ ther,location=us-midwest temperature=82'],
    ['quotes in a measurement are literal', { measurement: '"weather"', tags: { location: 'us-midwest' }, fields: { temperature: 82 } }, '"weather",location=us-midwest temperature=82'],
    ['equals sign in a measurement is literal', { measurement: 'a=b', tags: {}, fields: { v: 1 } }, 'a=b v=1'],
    ['quotes in a tag value are literal', { measurement: 'm', tags: { t: '"q"' }, fields: { v: 1 } }, 'm,t="q" v=1'],
  ] as [string, Omit<Point, 'ts'>, string][])('%s', (_name, point, expected) => {
    expect(toLineProtocol({ ...point, ts: 1 })).toBe(`${expected} 1`);
  });

  it.each([
    ['comma, equals and space in a tag value', { tags: { site: 'a,b=c d' } }, 'telemetry,site=a\\,b\\=c\\ d power_kw=1.5'],
    ['comma, equals and space in a tag key', { tags: { 'my tag,x=': 'v' } }, 'telemetry,my\\ tag\\,x\\==v power_kw=1.5'],
    ['comma, equals and space in a field key', { fields: { 'a b,c=d': 1 } }, 'telemetry,site=s1 a\\ b\\,c\\=d=1'],
    ['leading and trailing spaces', { tags: { site: ' s ' } }, 'telemetry,site=\\ s\\  power_kw=1.5'],
    ['a lone backslash in a tag value is written as is', { tags: { site: 'a\\b' } }, 'telemetry,site=a\\b power_kw=1.5'],
    ['a lone backslash in a measurement, tag key and field key', { measurement: 'm\\x', tags: { 't\\k': 'v\\w' }, fields: { 'f\\k': 1 } }, 'm\\x,t\\k=v\\w f\\k=1'],
    ['unicode everywhere', { measurement: '能耗', tags: { site: '工厂' }, fields: { 温度: 1, note: '温度 ✓ 😀' } }, '能耗,site=工厂 温度=1,note="温度 ✓ 😀"'],
    ['a hash inside a measurement', { measurement: 'a#b' }, 'a#b,site=s1 power_kw=1.5'],
  ] as [string, Partial<Point>, string][])('%s', (_name, over, expected) => {
    expect(lp(over)).toBe(`${expected} 1795910400000`);
  });
});

describe('line protocol: string fields', () => {
  it.each([
    ['quotes', 'say "hi"', '"say \\"hi\\""'],
    ['a backslash', 'a\\b', '"a\\\\b"'],
    ['a backslash at the end', 'bye\\', '"bye\\\\"'],
    ['only backslashes', '\\\\', '"\\\\\\\\"'],
    ['a backslash before a quote', '\\"', '"\\\\\\""'],
    ['a newline (kept: it is part of the quoted value)', 'a\nb', '"a\nb"'],
    ['carriage return and tab', 'a\r\tb', '"a\r\tb"'],
    ['commas, equals signs and spaces need no escape inside quotes', 'a, b=c', '"a, b=c"'],
    ['the empty string', '', '""'],
    ['line protocol inside a string stays inside', 'x" 1\nm v=1 2', '"x\\" 1\nm v=1 2"'],
  ])('%s', (_name, value, expected) => {
    expect(lp({ fields: { note: value } })).toBe(`telemetry,site=s1 note=${expected} 1795910400000`);
  });

  it('booleans are true and false', () => expect(lp({ fields: { ok: true, bad: false } })).toBe('telemetry,site=s1 ok=true,bad=false 1795910400000'));
});

describe('line protocol: numbers are always floats', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-0.5, '-0.5'],
    [12.5, '12.5'],
    [1e20, '100000000000000000000'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [5e-324, '5e-324'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [Number.MAX_SAFE_INTEGER + 2, '9007199254740992'],
    [123456789012, '123456789012'],
    [0.1 + 0.2, '0.30000000000000004'],
    // Readings with up to three decimals (written from integers), and the edges of that path.
    [19.31, '19.31'],
    [-19.31, '-19.31'],
    [0.001, '0.001'],
    [-0.05, '-0.05'],
    [474806.745, '474806.745'],
    [999999999.999, '999999999.999'],
    [1e9 + 0.5, '1000000000.5'],
    [0.0005, '0.0005'],
    [1.0001, '1.0001'],
    [2.675, '2.675'],
  ])('writes %s as %s (no integer suffix)', (value, text) => {
    expect(lp({ fields: { v: value } })).toBe(`telemetry,site=s1 v=${text} 1795910400000`);
  });

  it('writes a number with one to three decimals exactly as String does (the shortest decimal that reads back the same)', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const scale = 10 ** (1 + (i % 4)); // 1 to 4 decimals: the fourth falls back to String
      const magnitude = 10 ** (i % 11); // up to 1e10, past the fast path's 1e9
      values.push(Math.round((rand() - 0.5) * 2 * magnitude * scale) / scale);
      values.push((rand() - 0.5) * magnitude); // any double of that size
    }
    const text = pointsToLineProtocol(values.map((v, i) => p({ fields: { v }, ts: i })))
      .split('\n')
      .map((l) => l.split(' ')[1]!.slice(2));
    expect(text).toEqual(values.map((v) => String(v)));
  });

  it('writes every reading of one to three decimals as String does, for every fraction and sign', () => {
    const values: number[] = [];
    for (const whole of [0, 7, 52, 474806, 999_999_998]) {
      for (let f = 1; f < 1000; f++) values.push((whole * 1000 + f) / 1000, -(whole * 1000 + f) / 1000, whole + f / 1000);
    }
    const text = pointsToLineProtocol(values.map((v, i) => p({ fields: { v }, ts: i })))
      .split('\n')
      .map((l) => l.split(' ')[1]!.slice(2));
    expect(text).toEqual(values.map((v) => String(v)));
  });

  it('writes integers exactly as String does, at every magnitude up to 2^53 and past it', () => {
    const values: number[] = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e9, 1e9 - 1, 1e9 + 1, -1e9, 999_999_999_999, 1_000_000_000_000_000];
    for (let digits = 1; digits <= 16; digits++) {
      for (const v of [10 ** (digits - 1), 10 ** digits - 1, Math.floor(10 ** (digits - 1) * 1.234567891234567)]) values.push(v, -v);
    }
    const text = pointsToLineProtocol(values.map((v, i) => p({ fields: { v }, ts: i })))
      .split('\n')
      .map((l) => l.split(' ')[1]!.slice(2));
    expect(text).toEqual(values.map((v) => String(v)));
  });

  it('every finite double round-trips and has float syntax', () => {
    // Float syntax InfluxDB reads: optional sign, digits with optional fraction, optional exponent.
    const float = /^-?\d+(\.\d+)?(e[+-]\d+)?$/;
    const buf = new DataView(new ArrayBuffer(8));
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 ** 32;
    for (let i = 0; i < 5000; i++) {
      buf.setUint32(0, rand());
      buf.setUint32(4, rand());
      const v = buf.getFloat64(0);
      if (!Number.isFinite(v)) continue;
      const text = lp({ fields: { v } }).split(' ')[1]!.slice(2);
      expect(text).toMatch(float);
      expect(Number(text)).toBe(v === 0 ? 0 : v);
    }
  });
});

describe('line protocol: refused loudly, never written wrong', () => {
  it.each([
    ['NaN', { fields: { v: NaN } }, /not finite/],
    ['Infinity', { fields: { v: Infinity } }, /not finite/],
    ['-Infinity', { fields: { v: -Infinity } }, /not finite/],
    ['a field of another type', { fields: { v: null as unknown as number } }, /unsupported type/],
    ['no fields', { fields: {} }, /no fields/],
    ['an empty measurement', { measurement: '' }, /measurement/],
    ['a measurement starting with # (a comment line)', { measurement: '#m' }, /starts with #/],
    ['an empty tag key', { tags: { '': 'v' } }, /tag key is empty/],
    ['an empty field key', { fields: { '': 1 } }, /field key is empty/],
    ['a newline in a tag value', { tags: { site: 'a\nb' } }, /newline/],
    ['a carriage return in a tag key', { tags: { 'a\rb': 'x' } }, /newline/],
    ['a newline in a field key', { fields: { 'a\nb': 1 } }, /newline/],
    ['a newline in a measurement', { measurement: 'a\nb' }, /newline/],
    ['a backslash at the end of a tag value', { tags: { site: 'end\\' } }, /backslash/],
    ['a backslash before a comma', { tags: { site: 'a\\,b' } }, /backslash/],
    ['a backslash before a space', { fields: { 'a\\ b': 1 } }, /backslash/],
    ['a backslash before an equals sign', { tags: { 'a\\=b': 'x' } }, /backslash/],
    ['a double backslash', { measurement: 'a\\\\b' }, /backslash/],
    ['tag key time', { tags: { time: 'x' } }, /reserved/],
    ['tag key _measurement', { tags: { _measurement: 'x' } }, /reserved/],
    ['tag key _field', { tags: { _field: 'x' } }, /reserved/],
    ['field key time', { fields: { time: 1 } }, /reserved/],
    ['a fractional timestamp', { ts: 1.5 }, /not an integer/],
    ['a NaN timestamp', { ts: NaN }, /not an integer/],
    ['a timestamp beyond 2^53', { ts: 2 ** 53 }, /not an integer/],
  ] as [string, Partial<Point>, RegExp][])('%s', (_name, over, error) => {
    expect(() => lp(over)).toThrow(LineProtocolError);
    expect(() => lp(over)).toThrow(error);
  });

  it('names the point in the error', () => {
    expect(() => lp({ measurement: 'energy', ts: 7, fields: {} })).toThrow('point energy at 7 has no fields');
  });
});

describe('pointsToLineProtocol', () => {
  it('joins lines with \\n, without a trailing newline', () => {
    expect(pointsToLineProtocol([p({ ts: 1 }), p({ ts: 2 })])).toBe('telemetry,site=s1 power_kw=1.5 1\ntelemetry,site=s1 power_kw=1.5 2');
  });
  it('gives the empty string for no points', () => expect(pointsToLineProtocol([])).toBe(''));
  it('is the same as toLineProtocol point by point, whether or not points share a tags object', () => {
    const shared = { site: 's', device: 'd 1' };
    const points: Point[] = [
      { measurement: 'telemetry', tags: shared, fields: { a: 1 }, ts: 1 },
      { measurement: 'telemetry', tags: shared, fields: { a: 2 }, ts: 2 },
      { measurement: 'energy', tags: shared, fields: { kwh: 3 }, ts: 3 }, // same tags, other measurement
      { measurement: 'energy', tags: { site: 's', device: 'other' }, fields: { kwh: 4 }, ts: 4 },
      { measurement: 'energy', tags: shared, fields: { kwh: 5 }, ts: 5 },
    ];
    expect(pointsToLineProtocol(points)).toBe(points.map(toLineProtocol).join('\n'));
    expect(pointsToLineProtocol(points).split('\n')[2]).toBe('energy,device=d\\ 1,site=s kwh=3 3');
  });
  it('gives one flat string: one-point bodies held as in the write queue take about their length in heap', () => {
    // A full collection on demand: --expose-gc for a fresh context only (the flag must be on when the context is made).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
    const held: string[] = [];
    let length = 0;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20_000; i++) {
      // A new tags object per call, as the pipeline makes per message.
      const body = pointsToLineProtocol([p({ tags: { site: `s${i % 20}`, line: `l${i % 10}`, device: `d${i % 7}` }, fields: { state: 2, power_kw: 19.31 + i, energy_kwh: 474806.745 + i, temperature_c: 52.59, voltage_v: 396 }, ts: TS + i })]);
      held.push(body);
      length += body.length;
    }
    gc();
    // Flat: about 1.1 bytes per character (one-byte text plus a header). Built as a tree of
    // concatenations it was 4.6.
    expect((process.memoryUsage().heapUsed - before) / length).toBeLessThan(1.6);
    expect(held).toHaveLength(20_000);
  });
  it('writes text beyond U+00FF (and latin1 text) as it is, other points of the call included', () => {
    const points: Point[] = [
      p({ tags: { site: 'café' }, fields: { note: 'naïve', v: 1 }, ts: 1 }),
      p({ tags: { site: '工厂' }, fields: { note: '温度 "高"', v: 2.5 }, ts: 2 }),
      p({ fields: { note: 'gauge 🌡', v: -3, w: 0.05, x: -1.234 }, ts: -3 }),
    ];
    expect(pointsToLineProtocol(points)).toBe(['telemetry,site=café note="naïve",v=1 1', 'telemetry,site=工厂 note="温度 \\"高\\"",v=2.5 2', 'telemetry,site=s1 note="gauge 🌡",v=-3,w=0.05,x=-1.234 -3'].join('\n'));
    // The next call, all one-byte text, is not affected by the one before.
    expect(pointsToLineProtocol([p({ ts: 4 })])).toBe('telemetry,site=s1 power_kw=1.5 4');
  });
  it('writes a call larger than the reused buffer whole, and the calls after it as before', () => {
    const points = Array.from({ length: 5000 }, (_, i) => p({ tags: { site: `s${i % 7}`, device: `device-${i}` }, fields: { a: i + 0.25, b: i * 1000, c: 'x'.repeat(60) }, ts: TS + i }));
    const body = pointsToLineProtocol(points);
    expect(body.length).toBeGreaterThan(256 * 1024);
    expect(body).toBe(points.map(toLineProtocol).join('\n'));
    expect(pointsToLineProtocol([p({ ts: 5 })])).toBe('telemetry,site=s1 power_kw=1.5 5');
  });
  it('lines whose field keys change order or name from the line before keep their own keys; time is refused in any position', () => {
    const points = [p({ fields: { a: 1, b: 2 }, ts: 1 }), p({ fields: { b: 3, a: 4 }, ts: 2 }), p({ fields: { a: 5, 'c d': 6, e: 7 }, ts: 3 }), p({ fields: { a: 8 }, ts: 4 })];
    expect(pointsToLineProtocol(points)).toBe('telemetry,site=s1 a=1,b=2 1\ntelemetry,site=s1 b=3,a=4 2\ntelemetry,site=s1 a=5,c\\ d=6,e=7 3\ntelemetry,site=s1 a=8 4');
    expect(() => pointsToLineProtocol([p({ fields: { a: 1, b: 2 }, ts: 1 }), p({ fields: { a: 1, time: 2 }, ts: 2 })])).toThrow(/field key "time" is reserved/);
    expect(() => pointsToLineProtocol([p({ fields: { time: 2 }, ts: 2 })])).toThrow(/field key "time" is reserved/);
  });
  it('a refused point leaves nothing behind for the next call', () => {
    expect(() => pointsToLineProtocol([p({ ts: 1, fields: { note: 'long text '.repeat(50), v: 1 } }), p({ ts: 2, fields: { v: NaN } })])).toThrow(/not finite/);
    expect(pointsToLineProtocol([p({ ts: 3 })])).toBe('telemetry,site=s1 power_kw=1.5 3');
  });
  it('throws for the whole call if any point is bad (nothing half-written)', () => {
    expect(() => pointsToLineProtocol([p({ ts: 1 }), p({ ts: 2, fields: { v: NaN } })])).toThrow(/not finite/);
  });
});
