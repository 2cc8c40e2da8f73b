import { describe, expect, it } from 'vitest';
import { decodeHttpBody, decodeHttpValue, decodeMqttMessage, DEFAULT_LIMITS, deviceKey, type DecodeLimits, type DeviceRef } from '../../../src/contract/index.js';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const TOPIC = 'pp/v1/site-1/line-1/press-7/metrics';
const mqtt = (body: unknown, topic = TOPIC, limits: DecodeLimits = DEFAULT_LIMITS) =>
  decodeMqttMessage(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), limits, NOW);
const good = (ts = NOW - 1000) => ({ ts, m: { power_kw: 12.5, state: 2 } });

describe('decoder: valid input', () => {
  it('decodes ids from the topic and keeps every valid sample', () => {
    const r = mqtt({ seq: 7, samples: [good(NOW - 2000), good(NOW - 1000)] });
    expect(r.rejections).toEqual([]);
    expect(r.batch).toEqual({ site: 'site-1', line: 'line-1', device: 'press-7', deviceKey: 'site-1/line-1/press-7', seq: 7, samples: [good(NOW - 2000), good(NOW - 1000)] });
  });
  it('the batch carries its device key, found once with the topic (the same string for every message), which deviceKey hands on', () => {
    const a = mqtt({ seq: 1, samples: [good()] }).batch!;
    const b = mqtt({ seq: 2, samples: [good()] }).batch!;
    expect(a.deviceKey).toBe('site-1/line-1/press-7');
    expect(deviceKey(a)).toBe(a.deviceKey);
    expect(Object.is(a.deviceKey, b.deviceKey)).toBe(true);
    // deviceKey takes the carried key as it is, without looking the ids up again.
    expect(deviceKey({ site: 's', line: 'l', device: 'd', deviceKey: 'carried' } as DeviceRef)).toBe('carried');
    expect(decodeHttpBody(JSON.stringify({ site: 'h1', line: 'l1', device: 'd1', samples: [good()] }), {}, DEFAULT_LIMITS, NOW).batch!.deviceKey).toBe('h1/l1/d1');
  });
  it('keeps metrics outside the catalogue but flags them', () => {
    const r = mqtt({ seq: 1, samples: [{ ts: NOW, m: { spindle_rpm: 1200, power_kw: 3 } }] });
    expect(r.batch?.samples).toHaveLength(1);
    expect(r.unknownMetrics).toEqual(['spindle_rpm']);
  });
  it('accepts a timestamp exactly at the allowed future skew', () => {
    const r = mqtt({ seq: 1, samples: [good(NOW + DEFAULT_LIMITS.maxFutureSkewMs)] });
    expect(r.rejections).toEqual([]);
  });
});

describe('decoder: each sample-level rejection keeps the valid samples beside it', () => {
  const cases: [string, unknown, string, string][] = [
    ['string for a number', { ts: NOW, m: { power_kw: '12.5' } }, 'PP_ERR_INVALID_VALUE', 'samples[1].m.power_kw'],
    ['null value', { ts: NOW, m: { power_kw: null } }, 'PP_ERR_INVALID_VALUE', 'samples[1].m.power_kw'],
    ['boolean value', { ts: NOW, m: { power_kw: true } }, 'PP_ERR_INVALID_VALUE', 'samples[1].m.power_kw'],
    ['hostile metric name', { ts: NOW, m: { 'power kw,x=1': 1 } }, 'PP_ERR_INVALID_METRIC_NAME', 'samples[1].m.power kw,x=1'],
    ['metric name starting with a digit', { ts: NOW, m: { '1power': 1 } }, 'PP_ERR_INVALID_METRIC_NAME', 'samples[1].m.1power'],
    ['timestamp far in the future', { ts: NOW + DEFAULT_LIMITS.maxFutureSkewMs + 1, m: { power_kw: 1 } }, 'PP_ERR_FUTURE_TIMESTAMP', 'samples[1].ts'],
    ['timestamp in seconds', { ts: Math.floor(NOW / 1000), m: { power_kw: 1 } }, 'PP_ERR_INVALID_TIMESTAMP', 'samples[1].ts'],
    ['fractional timestamp', { ts: NOW + 0.5, m: { power_kw: 1 } }, 'PP_ERR_INVALID_TIMESTAMP', 'samples[1].ts'],
    ['string timestamp', { ts: '2026-11-29T12:00:00Z', m: { power_kw: 1 } }, 'PP_ERR_INVALID_TIMESTAMP', 'samples[1].ts'],
    ['missing timestamp', { m: { power_kw: 1 } }, 'PP_ERR_INVALID_TIMESTAMP', 'samples[1].ts'],
    ['timestamp in microseconds (beyond 2100)', { ts: NOW * 1000, m: { power_kw: 1 } }, 'PP_ERR_INVALID_TIMESTAMP', 'samples[1].ts'],
    ['timestamp beyond what a date can hold (9e15)', { ts: 9e15, m: { power_kw: 1 } }, 'PP_ERR_INVALID_TIMESTAMP', 'samples[1].ts'],
    ['reserved metric name time', { ts: NOW, m: { time: 1, power_kw: 1 } }, 'PP_ERR_INVALID_METRIC_NAME', 'samples[1].m.time'],
    ['reserved metric name bad', { ts: NOW, m: { bad: 1 } }, 'PP_ERR_INVALID_METRIC_NAME', 'samples[1].m.bad'],
    ['no metrics', { ts: NOW, m: {} }, 'PP_ERR_EMPTY_SAMPLE', 'samples[1].m'],
    ['unknown key in a sample', { ts: NOW, m: { power_kw: 1 }, extra: 1 }, 'PP_ERR_INVALID_SAMPLE', 'samples[1]'],
    ['sample that is not an object', 42, 'PP_ERR_INVALID_SAMPLE', 'samples[1]'],
  ];
  it.each(cases)('%s', (_name, bad, code, path) => {
    const r = mqtt({ seq: 3, samples: [good(NOW - 2000), bad, good(NOW - 1000)] });
    expect(r.batch?.samples).toEqual([good(NOW - 2000), good(NOW - 1000)]);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).toMatchObject({ code, path, sample: 1 });
    expect(r.rejections[0]!.reason.length).toBeGreaterThan(5);
  });

  it('says micro- or nanoseconds for a timestamp after 2100', () => {
    const r = mqtt({ seq: 1, samples: [{ ts: NOW * 1_000_000, m: { power_kw: 1 } }] });
    expect(r.rejections[0]!.reason).toMatch(/after 2100.*nanoseconds/);
  });

  it('rejects Infinity (1e999 in JSON) and says why', () => {
    const raw = `{"seq":1,"samples":[{"ts":${NOW},"m":{"power_kw":1e999}},{"ts":${NOW},"m":{"power_kw":1}}]}`;
    const r = mqtt(raw);
    expect(r.batch?.samples).toEqual([{ ts: NOW, m: { power_kw: 1 } }]);
    expect(r.rejections[0]).toMatchObject({ code: 'PP_ERR_INVALID_VALUE', sample: 0 });
    expect(r.rejections[0]!.reason).toContain('Infinity');
  });

  it('rejects a sample with more metrics than allowed', () => {
    const m = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x${i}`, i]));
    const r = mqtt({ seq: 1, samples: [{ ts: NOW, m }] }, TOPIC, { ...DEFAULT_LIMITS, maxMetricsPerSample: 4 });
    expect(r.rejections[0]).toMatchObject({ code: 'PP_ERR_TOO_MANY_METRICS', sample: 0 });
  });

  it('reports every problem of every bad sample', () => {
    const r = mqtt({ seq: 1, samples: [{ ts: 'x', m: { a: 'y' } }, { ts: NOW, m: { b: NaN } }] });
    expect(r.batch?.samples).toEqual([]);
    // NaN becomes null in JSON.stringify: still "not a number".
    expect(r.rejections.map((x) => [x.sample, x.code])).toEqual([
      [0, 'PP_ERR_INVALID_TIMESTAMP'],
      [0, 'PP_ERR_INVALID_VALUE'],
      [1, 'PP_ERR_INVALID_VALUE'],
    ]);
  });
});

describe('decoder: whole-message rejections', () => {
  const cases: [string, () => ReturnType<typeof mqtt>, string][] = [
    ['malformed JSON', () => mqtt('{"seq":1,"samples":[', TOPIC), 'PP_ERR_INVALID_JSON'],
    ['invalid UTF-8', () => decodeMqttMessage(TOPIC, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), DEFAULT_LIMITS, NOW), 'PP_ERR_INVALID_JSON'],
    ['body over the size limit', () => mqtt({ seq: 1, samples: [good()] }, TOPIC, { ...DEFAULT_LIMITS, maxBytes: 20 }), 'PP_ERR_BODY_TOO_LARGE'],
    ['too many samples', () => mqtt({ seq: 1, samples: [good(), good(), good()] }, TOPIC, { ...DEFAULT_LIMITS, maxSamples: 2 }), 'PP_ERR_TOO_MANY_SAMPLES'],
    ['missing seq', () => mqtt({ samples: [good()] }), 'PP_ERR_INVALID_ENVELOPE'],
    ['negative seq', () => mqtt({ seq: -1, samples: [good()] }), 'PP_ERR_INVALID_ENVELOPE'],
    ['samples not an array', () => mqtt({ seq: 1, samples: {} }), 'PP_ERR_INVALID_ENVELOPE'],
    ['a JSON array', () => mqtt([1, 2]), 'PP_ERR_INVALID_ENVELOPE'],
    ['a fractional seq', () => mqtt({ seq: 1.5, samples: [good()] }), 'PP_ERR_INVALID_ENVELOPE'],
    ['seq as a string', () => mqtt({ seq: '1', samples: [good()] }), 'PP_ERR_INVALID_ENVELOPE'],
    ['seq beyond 2^53 - 1', () => mqtt({ seq: 2 ** 53, samples: [good()] }), 'PP_ERR_INVALID_ENVELOPE'],
    ['null', () => mqtt(null), 'PP_ERR_INVALID_ENVELOPE'],
    ['missing samples', () => mqtt({ seq: 1 }), 'PP_ERR_INVALID_ENVELOPE'],
    ['hostile id in topic', () => mqtt({ seq: 1, samples: [good()] }, 'pp/v1/site 1,x=2/line-1/d/metrics'), 'PP_ERR_INVALID_TOPIC'],
    ['id longer than 64', () => mqtt({ seq: 1, samples: [good()] }, `pp/v1/${'s'.repeat(65)}/l/d/metrics`), 'PP_ERR_INVALID_TOPIC'],
    ['too few topic levels', () => mqtt({ seq: 1, samples: [good()] }, 'pp/v1/site/line/metrics'), 'PP_ERR_INVALID_TOPIC'],
    ['unknown kind', () => mqtt({ seq: 1, samples: [good()] }, 'pp/v1/s/l/d/other'), 'PP_ERR_INVALID_TOPIC'],
    ['telemetry on the status topic', () => mqtt({ seq: 1, samples: [good()] }, 'pp/v1/s/l/d/status'), 'PP_ERR_INVALID_TOPIC'],
  ];
  it.each(cases)('%s', (_name, run, code) => {
    const r = run();
    expect(r.batch).toBeNull();
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).toMatchObject({ code, path: '$' });
  });
});

describe('decoder: the envelope', () => {
  it('accepts the largest seq and ignores keys beside seq and samples, as the schema does', () => {
    const r = mqtt({ seq: Number.MAX_SAFE_INTEGER, samples: [good()], gateway: 'gw-1' });
    expect(r.rejections).toEqual([]);
    expect(r.batch).toMatchObject({ seq: Number.MAX_SAFE_INTEGER, samples: [good()] });
    expect(r.batch).not.toHaveProperty('gateway');
  });
});

describe('decoder: HTTP bodies', () => {
  const body = (extra: object) => JSON.stringify({ seq: 1, samples: [good()], ...extra });
  it('takes ids from the body', () => {
    const r = decodeHttpBody(body({ site: 's', line: 'l', device: 'd' }), {}, DEFAULT_LIMITS, NOW);
    expect(r.batch).toMatchObject({ site: 's', line: 'l', device: 'd', seq: 1 });
  });
  it('takes ids from the path, and seq is optional', () => {
    const r = decodeHttpBody(JSON.stringify({ samples: [good()] }), { site: 's', line: 'l', device: 'd' }, DEFAULT_LIMITS, NOW);
    expect(r.batch).toMatchObject({ site: 's', line: 'l', device: 'd', seq: null });
  });
  it('rejects ids that disagree between path and body', () => {
    const r = decodeHttpBody(body({ site: 'other' }), { site: 's', line: 'l', device: 'd' }, DEFAULT_LIMITS, NOW);
    expect(r.rejections[0]).toMatchObject({ code: 'PP_ERR_INVALID_ID' });
    expect(r.rejections[0]!.reason).toContain('differs');
  });
  it.each([
    ['hostile id in body', { site: 's"; DROP', line: 'l', device: 'd' }],
    ['missing device', { site: 's', line: 'l' }],
    ['numeric id', { site: 1, line: 'l', device: 'd' }],
  ])('%s', (_n, ids) => {
    const r = decodeHttpBody(body(ids), {}, DEFAULT_LIMITS, NOW);
    expect(r.batch).toBeNull();
    expect(r.rejections[0]!.code).toBe('PP_ERR_INVALID_ID');
  });
  it('rejects a hostile id in the path', () => {
    const r = decodeHttpBody(body({}), { site: '../x', line: 'l', device: 'd' }, DEFAULT_LIMITS, NOW);
    expect(r.rejections[0]!.code).toBe('PP_ERR_INVALID_ID');
  });
});

describe('decoder: bad-quality readings', () => {
  it('keeps a sample whose failed metrics are listed in `bad`, even with no good metric', () => {
    const r = mqtt({ seq: 1, samples: [{ ts: NOW, m: { power_kw: 3 }, bad: ['energy_kwh'] }, { ts: NOW + 1, m: {}, bad: ['power_kw', 'energy_kwh'] }] });
    expect(r.rejections).toEqual([]);
    expect(r.batch?.samples).toEqual([
      { ts: NOW, m: { power_kw: 3 }, bad: ['energy_kwh'] },
      { ts: NOW + 1, m: {}, bad: ['power_kw', 'energy_kwh'] },
    ]);
  });
  it('rejects hostile names in `bad`', () => {
    const r = mqtt({ seq: 1, samples: [{ ts: NOW, m: {}, bad: ['a b'] }] });
    expect(r.rejections[0]).toMatchObject({ code: 'PP_ERR_INVALID_SAMPLE', sample: 0 });
  });
});

describe('decoder: which samples a batch keeps, and in what order, when some are rejected', () => {
  const bad = { ts: NOW, m: { power_kw: 'x' } };
  const emptyBad = (ts: number) => ({ ts, m: { power_kw: 1 }, bad: [] });
  it.each([
    ['valid, rejected, valid', [good(NOW - 3), bad, good(NOW - 1)], [good(NOW - 3), good(NOW - 1)], [1]],
    ['rejected first', [bad, good(NOW - 2), good(NOW - 1)], [good(NOW - 2), good(NOW - 1)], [0]],
    ['rejected last', [good(NOW - 2), good(NOW - 1), bad], [good(NOW - 2), good(NOW - 1)], [2]],
    ['all rejected', [bad, bad], [], [0, 1]],
    // An empty `bad` is dropped from the sample: a copy in the batch, between samples kept as parsed.
    ['a copied sample between ones kept as parsed', [good(NOW - 3), emptyBad(NOW - 2), good(NOW - 1)], [good(NOW - 3), { ts: NOW - 2, m: { power_kw: 1 } }, good(NOW - 1)], []],
    ['a copied sample after a rejection', [bad, emptyBad(NOW - 2), good(NOW - 1)], [{ ts: NOW - 2, m: { power_kw: 1 } }, good(NOW - 1)], [0]],
  ])('%s', (_name, samples, kept, rejected) => {
    const r = mqtt({ seq: 1, samples });
    expect(r.batch?.samples).toEqual(kept);
    expect(r.rejections.map((x) => x.sample)).toEqual(rejected);
  });

  it('a value decoded from a caller (line protocol, Sparkplug) never shares the caller\'s sample array', () => {
    const samples = [good(NOW - 2), good(NOW - 1)];
    const r = decodeHttpValue({ samples }, { site: 's', line: 'l', device: 'd' }, DEFAULT_LIMITS, NOW);
    expect(r.batch?.samples).toEqual(samples);
    expect(r.batch?.samples).not.toBe(samples);
    samples.push(good(NOW));
    expect(r.batch?.samples).toHaveLength(2);
  });

  it('a clean message carries no rejection or unknown-metric list that could be added to', () => {
    const r = mqtt({ seq: 1, samples: [good()] });
    expect(r.rejections).toEqual([]);
    expect(r.unknownMetrics).toEqual([]);
    expect(() => (r.rejections as unknown[]).push(1)).toThrow(TypeError);
  });
});
