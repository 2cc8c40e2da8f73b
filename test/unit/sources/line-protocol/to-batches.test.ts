import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../../src/contract/index.js';
import { DEFAULT_LINE_PROTOCOL_MAPPING, parseLineProtocol, toTelemetryBatches, type LineProtocolMapping, type Precision } from '../../../../src/sources/line-protocol/index.js';

const NOW = 1_795_910_400_000;
const T = '1795910000000'; // 400 s before NOW, in ms
function map(body: string, opts: { precision?: Precision; mapping?: Partial<LineProtocolMapping>; limits?: Partial<typeof DEFAULT_LIMITS> } = {}) {
  return toTelemetryBatches(parseLineProtocol(body), {
    mapping: { ...DEFAULT_LINE_PROTOCOL_MAPPING, ...opts.mapping },
    precision: opts.precision ?? 'ms',
    now: NOW,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
  });
}

describe('line protocol → telemetry batches: device from tags', () => {
  it('site, line and device tags name the device; other tags are not kept', () => {
    const r = map(`telemetry,site=s1,line=l1,device=d1,region=eu power_kw=41.7 ${T}`);
    expect(r.rejections).toEqual([]);
    expect(r.batches).toEqual([{ site: 's1', line: 'l1', device: 'd1', deviceKey: 's1/l1/d1', seq: null, samples: [{ ts: Number(T), m: { power_kw: 41.7 } }] }]);
  });
  it("falls back to Telegraf's host tag for the device, and prefers device when both are there", () => {
    expect(map(`telemetry,site=s1,line=l1,host=gw-7 power_kw=1 ${T}`).batches[0]).toMatchObject({ device: 'gw-7' });
    expect(map(`telemetry,host=gw-7,site=s1,line=l1,device=press-2 power_kw=1 ${T}`).batches[0]).toMatchObject({ device: 'press-2' });
  });
  it('takes its tag keys from the mapping', () => {
    const r = map(`telemetry,plant=p9,cell=c3,machine=m1 power_kw=1 ${T}`, { mapping: { siteTags: ['plant'], lineTags: ['cell'], deviceTags: ['machine'] } });
    expect(r.batches[0]).toMatchObject({ site: 'p9', line: 'c3', device: 'm1' });
  });
  it('groups lines into one batch per device, in body order', () => {
    const body = [`telemetry,site=s,line=l,device=a power_kw=1 ${T}`, `telemetry,site=s,line=l,device=b power_kw=2 ${T}`, `telemetry,site=s,line=l,device=a power_kw=3 ${Number(T) + 1}`].join('\n');
    const r = map(body);
    expect(r.batches.map((b) => [b.device, b.samples.map((s) => s.m.power_kw)])).toEqual([['a', [1, 3]], ['b', [2]]]);
    expect({ lines: r.lines, stored: r.stored }).toEqual({ lines: 3, stored: 3 });
  });
  it.each([
    ['telemetry,line=l,device=d power_kw=1', 'line', 'no site tag'],
    ['telemetry,site=s,device=d power_kw=1', 'line', 'no line tag'],
    ['telemetry,site=s,line=l power_kw=1', 'line', 'no device tag: PlantPulse looks for "device" or "host"'],
    ['telemetry,site=s\\ 1,line=l,device=d power_kw=1', 'tag value', 'site tag site="s 1" is not a valid id'],
    ['telemetry,site=s,line=l/../x,device=d power_kw=1', 'tag value', 'line tag line="l/../x" is not a valid id'],
    [`telemetry,site=s,line=l,device=${'d'.repeat(65)} power_kw=1`, 'tag value', 'is not a valid id'],
    ['telemetry,site=s,line=l,device=d\\,x power_kw=1', 'tag value', 'is not a valid id'],
  ])('rejects the line %s (%s): %s', (line, part, reason) => {
    const r = map(line);
    expect(r.batches).toEqual([]);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).toMatchObject({ code: 'PP_ERR_INVALID_ID', line: 1, part });
    expect(r.rejections[0]!.reason).toContain(reason);
  });
});

describe('line protocol → telemetry batches: metrics from fields', () => {
  const dev = 'site=s,line=l,device=d';
  it('passthrough measurements keep field names; others prefix them with the measurement', () => {
    expect(map(`telemetry,${dev} power_kw=1,state=2i ${T}`).batches[0]!.samples[0]!.m).toEqual({ power_kw: 1, state: 2 });
    expect(map(`cpu,${dev} usage_idle=98.5 ${T}`).batches[0]!.samples[0]!.m).toEqual({ cpu_usage_idle: 98.5 });
    expect(map(`plc,${dev} temperature_c=61.2 ${T}`, { mapping: { passthroughMeasurements: ['telemetry', 'plc'] } }).batches[0]!.samples[0]!.m).toEqual({ temperature_c: 61.2 });
  });
  it('every numeric type becomes a number and booleans become 0/1', () => {
    const r = map(`telemetry,${dev} a=1.5,b=-2i,c=3u,on=true,off=F ${T}`);
    expect(r.batches[0]!.samples[0]!.m).toEqual({ a: 1.5, b: -2, c: 3, on: 1, off: 0 });
  });
  it('drops string fields, each with a rejection, and stores the rest of the line', () => {
    const line = `telemetry,${dev} power_kw=1,status="running",note="x" ${T}`;
    const r = map(line);
    expect(r.batches[0]!.samples[0]!.m).toEqual({ power_kw: 1 });
    expect(r.rejections).toEqual([
      { code: 'PP_ERR_UNSUPPORTED_FIELD_TYPE', line: 1, column: line.indexOf('status=') + 1, part: 'field value', field: 'status', reason: 'field "status" is a string; PlantPulse metrics are numbers, so this field was dropped' },
      { code: 'PP_ERR_UNSUPPORTED_FIELD_TYPE', line: 1, column: line.indexOf('note=') + 1, part: 'field value', field: 'note', reason: expect.stringContaining('"note" is a string') },
    ]);
    expect({ stored: r.stored, storedInPart: r.storedInPart }).toEqual({ stored: 1, storedInPart: 1 });
  });
  it('a line whose every field is a string stores nothing', () => {
    const r = map(`telemetry,${dev} status="ok" ${T}`);
    expect(r.batches).toEqual([]);
    expect({ lines: r.lines, stored: r.stored, rejections: r.rejections.length }).toEqual({ lines: 1, stored: 0, rejections: 1 });
  });
  it.each([
    ['telemetry', 'temp.c', '"temp.c" (field "temp.c") must match'],
    ['telemetry', '9lives', 'must match'],
    ['telemetry', 'f'.repeat(65), '(65 characters; the limit is 64)'],
    ['telemetry', 'time', '"time" (field "time") is reserved'],
    ['telemetry', 'bad', 'is reserved'],
  ])('drops the field of %s with key %s: %s', (measurement, field, reason) => {
    const r = map(`${measurement},${dev} ${field}=1,ok=2 ${T}`);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).toMatchObject({ code: 'PP_ERR_INVALID_METRIC_NAME', line: 1, part: 'field key', field });
    expect(r.rejections[0]!.reason).toContain(reason);
    expect(Object.values(r.batches[0]!.samples[0]!.m)).toEqual([2]);
  });
  it('names built from a measurement are checked as a whole, never truncated or rewritten', () => {
    const dashed = map(`disk-io,${dev} reads=1 ${T}`);
    expect(dashed.batches).toEqual([]);
    expect(dashed.rejections[0]!.reason).toContain('metric name "disk-io_reads" (measurement "disk-io" + "_" + field "reads") must match');
    const long = map(`${'m'.repeat(40)},${dev} ${'f'.repeat(30)}=1 ${T}`);
    expect(long.rejections[0]!.reason).toContain('(71 characters; the limit is 64)');
  });
});

describe('line protocol → telemetry batches: timestamps and the contract decoder', () => {
  const dev = 'telemetry,site=s,line=l,device=d';
  it('converts timestamps by precision, and gives lines without one the arrival time', () => {
    expect(map(`${dev} f=1 1795910000123456789`, { precision: 'ns' }).batches[0]!.samples[0]!.ts).toBe(1_795_910_000_123);
    expect(map(`${dev} f=1 1795910000`, { precision: 's' }).batches[0]!.samples[0]!.ts).toBe(1_795_910_000_000);
    expect(map(`${dev} f=1`).batches[0]!.samples[0]!.ts).toBe(NOW);
  });
  it("applies the decoder's rules: future skew and timestamps before 2000 (hinting at the precision)", () => {
    const body = [`${dev} f=1 ${NOW + 3_600_000}`, `${dev} f=2 ${T}`, `${dev} f=3 1795910000`].join('\n');
    const r = map(body);
    expect(r.batches[0]!.samples.map((s) => s.m.f)).toEqual([2]);
    expect(r.rejections.map((x) => [x.line, x.code, x.part])).toEqual([
      [1, 'PP_ERR_FUTURE_TIMESTAMP', 'timestamp'],
      [3, 'PP_ERR_INVALID_TIMESTAMP', 'timestamp'],
    ]);
    expect(r.rejections[1]!.reason).toContain('before 2000-01-01');
    expect(r.rejections[1]!.reason).toContain('(timestamp read with precision=ms)');
  });
  it('rejects timestamps beyond any date before they reach the decoder', () => {
    const r = map(`${dev} f=1 9000000000000000`);
    expect(r.rejections).toEqual([{ code: 'PP_ERR_INVALID_TIMESTAMP', line: 1, part: 'timestamp', reason: 'timestamp 9000000000000000 with precision=ms is beyond any date' }]);
  });
  it("applies the decoder's metric and sample limits, naming the lines", () => {
    const wide = map(`${dev} a=1,b=2,c=3 ${T}`, { limits: { maxMetricsPerSample: 2 } });
    expect(wide.rejections).toEqual([{ code: 'PP_ERR_TOO_MANY_METRICS', line: 1, part: 'line', reason: 'sample has 3 metrics; the limit is 2' }]);
    const many = map([1, 2, 3].map((i) => `${dev} f=${i} ${Number(T) + i}`).join('\n') + `\ntelemetry,site=s,line=l,device=other f=1 ${T}`, { limits: { maxSamples: 2 } });
    expect(many.rejections.map((x) => [x.line, x.code])).toEqual([[1, 'PP_ERR_TOO_MANY_SAMPLES'], [2, 'PP_ERR_TOO_MANY_SAMPLES'], [3, 'PP_ERR_TOO_MANY_SAMPLES']]);
    expect(many.rejections[0]!.reason).toContain('device s/l/d');
    expect(many.batches.map((b) => b.device)).toEqual(['other']);
  });
  it('lists syntax and mapping rejections together, in line order, and counts lines', () => {
    const body = [`${dev} f=1 ${T}`, 'garbage', `cpu,host=h f=1 ${T}`, `${dev} f=2,s="x" ${T}`, '# comment'].join('\n');
    const r = map(body);
    expect(r.rejections.map((x) => [x.line, x.code])).toEqual([[2, 'PP_ERR_LINE_PROTOCOL_SYNTAX'], [3, 'PP_ERR_INVALID_ID'], [4, 'PP_ERR_UNSUPPORTED_FIELD_TYPE']]);
    expect({ lines: r.lines, stored: r.stored, storedInPart: r.storedInPart }).toEqual({ lines: 4, stored: 2, storedInPart: 1 });
  });
  it('flags metrics outside the catalogue', () => {
    expect(map(`cpu,site=s,line=l,device=d usage=1,x=2 ${T}`).unknownMetrics.sort()).toEqual(['cpu_usage', 'cpu_x']);
  });
});
