import { describe, expect, it } from 'vitest';
import { sampleSchema } from '../../../src/contract/payload.js';
import { lastAccepted, validSampleOrNull } from '../../../src/contract/sample-fast-path.js';

const TS = Date.UTC(2026, 10, 29);

// The fast path may only say "valid" where zod says valid, with the same result; anything it is
// unsure of must come back null (and then goes through zod for its precise rejection).
const cases: [string, unknown][] = [
  ['plain sample', { ts: TS, m: { power_kw: 1.5, state: 2 } }],
  ['with bad', { ts: TS, m: { power_kw: 1 }, bad: ['temperature_c'] }],
  ['empty m', { ts: TS, m: {} }],
  ['unknown metric name', { ts: TS, m: { custom_metric_9: 3 } }],
  ['extra key', { ts: TS, m: { power_kw: 1 }, x: 1 }],
  ['string value', { ts: TS, m: { power_kw: '1' } }],
  ['null value', { ts: TS, m: { power_kw: null } }],
  ['NaN', { ts: TS, m: { power_kw: Number.NaN } }],
  ['Infinity', { ts: TS, m: { power_kw: Infinity } }],
  ['ts in seconds', { ts: Math.floor(TS / 1000), m: { power_kw: 1 } }],
  ['ts after 2100', { ts: 4_102_444_800_001, m: { power_kw: 1 } }],
  ['fractional ts', { ts: TS + 0.5, m: { power_kw: 1 } }],
  ['ts as string', { ts: String(TS), m: { power_kw: 1 } }],
  ['bad metric name', { ts: TS, m: { '9lives': 1 } }],
  ['name too long', { ts: TS, m: { [`a${'b'.repeat(64)}`]: 1 } }],
  ['__proto__ key', JSON.parse(`{"ts":${TS},"m":{"__proto__":1,"power_kw":2}}`)],
  ['m is an array', { ts: TS, m: [1, 2] }],
  ['m is null', { ts: TS, m: null }],
  ['sample is an array', [TS, { power_kw: 1 }]],
  ['sample is null', null],
  ['bad not an array', { ts: TS, m: { power_kw: 1 }, bad: 'x' }],
  ['bad with a bad name', { ts: TS, m: { power_kw: 1 }, bad: ['no spaces'] }],
  ['bad too long', { ts: TS, m: { power_kw: 1 }, bad: Array.from({ length: 257 }, (_, i) => `m${i}`) }],
  ['bad undefined', { ts: TS, m: { power_kw: 1 }, bad: undefined }],
  ['m with a class prototype', { ts: TS, m: Object.assign(Object.create({ inherited: 1 }) as object, { power_kw: 1 }) }],
];

describe('decoder fast path (valid samples without zod)', () => {
  it.each(cases)('%s: agrees with the schema', (_name, raw) => {
    const fast = validSampleOrNull(raw);
    const zod = sampleSchema.safeParse(raw);
    if (fast !== null) {
      expect(zod.success).toBe(true);
      expect(fast).toEqual(zod.data);
    }
  });

  it('takes the common valid samples itself (that is its point)', () => {
    for (const [name, raw] of cases.slice(0, 4)) expect(validSampleOrNull(raw), name).not.toBeNull();
  });

  it('keeps the parsed object as the sample, not a copy (one allocation fewer per sample)', () => {
    for (const [name, raw] of cases.slice(0, 4)) expect(validSampleOrNull(raw), name).toBe(raw);
  });

  it('leaves every invalid sample to zod', () => {
    for (const [name, raw] of cases) if (!sampleSchema.safeParse(raw).success) expect(validSampleOrNull(raw), name).toBeNull();
  });

  it("tells the decoder each accepted sample's metric count, first reserved name and whether a name is outside the catalogue", () => {
    const seen = (raw: unknown) => (validSampleOrNull(raw) === null ? null : { ...lastAccepted });
    expect(seen({ ts: TS, m: { power_kw: 1.5, state: 2 } })).toEqual({ metrics: 2, reserved: undefined, unknown: false });
    expect(seen({ ts: TS, m: { power_kw: 1, custom_metric_9: 3 } })).toEqual({ metrics: 2, reserved: undefined, unknown: true });
    expect(seen({ ts: TS, m: { power_kw: 1, bad: 2, time: 3 } })).toEqual({ metrics: 3, reserved: 'bad', unknown: false });
    expect(seen({ ts: TS, m: {}, bad: ['power_kw'] })).toEqual({ metrics: 0, reserved: undefined, unknown: false });
    // Asked again, a name is answered from what was learnt of it, the same way.
    expect(seen({ ts: TS, m: { custom_metric_9: 3, time: 1 } })).toEqual({ metrics: 2, reserved: 'time', unknown: true });
  });
});
