import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHttpBody, decodeMqttMessage, ERRORS, isKnownMetric, MAX_TIMESTAMP_MS, METRIC_NAME_PATTERN, MIN_TIMESTAMP_MS, RESERVED_METRIC_NAMES, type DecodeLimits, type DecodeResult } from '../../../src/contract/index.js';
import { fuzz } from '../../support/fuzz.js';
import { anyJson, deepJsonText, hostileString, invalidId, invalidSample, validId, validSample } from '../../support/hostile-input.js';

/**
 * Property-based tests of the contract decoder (MQTT messages and HTTP bodies): whatever arrives,
 * the decoder answers (never throws), accepts only what the contract allows, and a bad sample
 * costs only itself.
 */

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
// Small metric and sample limits so the generators reach them; the byte limit stays out of the way.
const LIMITS: DecodeLimits = { maxBytes: 8 * 1024 * 1024, maxSamples: 40, maxMetricsPerSample: 12, maxFutureSkewMs: 300_000 };
const TOPIC = 'pp/v1/site-1/line-1/press-7/metrics';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What must hold of every decoder answer, whatever the input. */
function expectWellFormed(r: DecodeResult): void {
  for (const rej of r.rejections) {
    expect(Object.keys(ERRORS)).toContain(rej.code);
    expect(typeof rej.reason).toBe('string');
    expect(rej.reason.length).toBeGreaterThan(0);
  }
  if (r.batch === null) {
    expect(r.rejections.length).toBeGreaterThan(0);
    expect(r.rejections.every((x) => x.path === '$' && x.sample === undefined)).toBe(true);
    expect(r.unknownMetrics).toEqual([]);
    return;
  }
  const { site, line, device, samples } = r.batch;
  for (const id of [site, line, device]) expect(id).toMatch(ID);
  expect(samples.length).toBeLessThanOrEqual(LIMITS.maxSamples);
  const names = new Set<string>();
  for (const s of samples) {
    expect(Number.isSafeInteger(s.ts) && s.ts >= MIN_TIMESTAMP_MS && s.ts <= Math.min(MAX_TIMESTAMP_MS, NOW + LIMITS.maxFutureSkewMs)).toBe(true);
    const keys = Object.keys(s.m);
    expect(keys.length).toBeLessThanOrEqual(LIMITS.maxMetricsPerSample);
    expect(keys.length + (s.bad?.length ?? 0)).toBeGreaterThan(0);
    for (const k of [...keys, ...(s.bad ?? [])]) expect(k).toMatch(METRIC_NAME_PATTERN);
    // Reserved names would clash with storage's own columns; in `bad` they are only text.
    for (const k of keys) expect(RESERVED_METRIC_NAMES.has(k)).toBe(false);
    for (const k of keys) {
      expect(Number.isFinite(s.m[k])).toBe(true);
      names.add(k);
    }
    // Own properties only: nothing inherited may pose as a metric.
    expect(Object.getPrototypeOf(s.m) === Object.prototype || Object.getPrototypeOf(s.m) === null).toBe(true);
  }
  for (const u of r.unknownMetrics) {
    expect(names.has(u)).toBe(true);
    expect(isKnownMetric(u)).toBe(false);
  }
  for (const rej of r.rejections) expect(Number.isInteger(rej.sample)).toBe(true);
}

const mqtt = (body: string | Buffer, topic = TOPIC) => decodeMqttMessage(topic, typeof body === 'string' ? Buffer.from(body) : body, LIMITS, NOW);

describe('decoder fuzz: anything in, a well-formed answer out', () => {
  it('random bytes as an MQTT payload or HTTP body', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const buf = Buffer.from(bytes);
        expectWellFormed(mqtt(buf));
        expectWellFormed(decodeHttpBody(buf, { site: 's', line: 'l', device: 'd' }, LIMITS, NOW));
      }),
      fuzz(300),
    );
  });

  it('random JSON, deeply nested JSON and hostile strings as the whole body', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, hostileString), (value) => {
        const text = JSON.stringify(value);
        const r = mqtt(text);
        expectWellFormed(r);
        expect(r.batch).toBeNull(); // nothing but an envelope with seq and samples can pass
        expectWellFormed(decodeHttpBody(text, {}, LIMITS, NOW));
      }),
      fuzz(200),
    );
  });

  it('JSON nested 100,000 deep, as the body, a sample, a value or seq', () => {
    fc.assert(
      fc.property(deepJsonText, (deep) => {
        const bodies = [deep('1'), `{"seq":1,"samples":[${deep('1')}]}`, `{"seq":1,"samples":[{"ts":${NOW},"m":{"power_kw":${deep('1')}}}]}`, `{"seq":${deep('1')},"samples":[]}`];
        for (const body of bodies) {
          expectWellFormed(mqtt(body));
          expectWellFormed(decodeHttpBody(body, { site: 's', line: 'l', device: 'd' }, LIMITS, NOW));
        }
      }),
      fuzz(8),
    );
  });

  it('random JSON inside an envelope: as samples, as the samples list, as seq', () => {
    fc.assert(
      fc.property(anyJson, fc.array(anyJson, { maxLength: 5 }), (value, list) => {
        for (const body of [{ seq: 1, samples: list }, { seq: 1, samples: value }, { seq: value, samples: [] }, { seq: 1, samples: [value] }]) {
          expectWellFormed(mqtt(JSON.stringify(body)));
          expectWellFormed(decodeHttpBody(JSON.stringify({ ...body, site: 'a', line: 'b', device: 'c' }), {}, LIMITS, NOW));
        }
      }),
      fuzz(120),
    );
  });

  it('hostile ids in the topic, the HTTP path or the body are rejected as a whole message', () => {
    const body = JSON.stringify({ seq: 1, samples: [{ ts: NOW, m: { power_kw: 1 } }] });
    fc.assert(
      fc.property(invalidId, fc.integer({ min: 0, max: 2 }), (bad, at) => {
        const ids = ['site-1', 'line-1', 'press-7'];
        ids[at] = bad;
        const r = mqtt(body, `pp/v1/${ids.join('/')}/metrics`);
        // Ids are topic levels: a bad one (a `/` in it shifts the levels) makes the topic invalid.
        expect(r.rejections.map((x) => x.code)).toEqual(['PP_ERR_INVALID_TOPIC']);
        const [site, line, device] = ids as [string, string, string];
        const fromPath = decodeHttpBody(body, { site, line, device }, LIMITS, NOW);
        const fromBody = decodeHttpBody(JSON.stringify({ site, line, device, samples: [{ ts: NOW, m: { power_kw: 1 } }] }), {}, LIMITS, NOW);
        for (const x of [fromPath, fromBody]) {
          expect(x.batch).toBeNull();
          expect(x.rejections.map((y) => y.code)).toEqual(['PP_ERR_INVALID_ID']);
        }
      }),
      fuzz(200),
    );
  });
});

describe('decoder fuzz: a bad sample costs only itself', () => {
  const mixed = fc
    .array(fc.oneof(validSample(NOW, LIMITS).map((s) => ({ valid: true as const, s })), invalidSample(NOW, LIMITS).map((s) => ({ valid: false as const, s }))), { maxLength: LIMITS.maxSamples })
    .filter((xs) => xs.length > 0);

  it('every valid sample is kept, unchanged and in order; every invalid one is rejected by index', () => {
    fc.assert(
      fc.property(mixed, validId, validId, validId, fc.boolean(), (items, site, line, device, overMqtt) => {
        const samples = items.map((x) => x.s);
        const text = JSON.stringify(overMqtt ? { seq: 3, samples } : { site, line, device, samples });
        const r = overMqtt ? mqtt(text, `pp/v1/${site}/${line}/${device}/metrics`) : decodeHttpBody(text, {}, LIMITS, NOW);
        expectWellFormed(r);
        expect(r.batch).not.toBeNull();
        // JSON is what travels, so compare with what JSON makes of the generated samples.
        const expected = items.filter((x) => x.valid).map((x) => JSON.parse(JSON.stringify(x.s)) as unknown);
        expect(r.batch!.samples).toEqual(expected);
        expect(r.batch).toMatchObject({ site, line, device });
        const invalid = items.flatMap((x, i) => (x.valid ? [] : [i]));
        expect([...new Set(r.rejections.map((x) => x.sample))]).toEqual(invalid);
      }),
      fuzz(150),
    );
  });

  it('more samples than the limit rejects the message as a whole, whatever they hold', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(validSample(NOW, LIMITS), invalidSample(NOW, LIMITS)), { minLength: LIMITS.maxSamples + 1, maxLength: LIMITS.maxSamples + 3 }), (samples) => {
        const r = mqtt(JSON.stringify({ seq: 1, samples }));
        expect(r.batch).toBeNull();
        expect(r.rejections.map((x) => x.code)).toEqual(['PP_ERR_TOO_MANY_SAMPLES']);
      }),
      fuzz(20),
    );
  });
});
