import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHttpBody, type DecodeLimits, type TelemetryBatch } from '../../../src/contract/index.js';
import { telemetryPoints } from '../../../src/pipeline/to-points.js';
import { parseLineProtocol, type ParsedPoint } from '../../../src/sources/line-protocol/index.js';
import { LineProtocolError, pointsToLineProtocol, toLineProtocol, type Point } from '../../../src/storage/index.js';
import { fuzz } from '../../support/fuzz.js';
import { finiteNumber, invalidSample, validId, validSample } from '../../support/hostile-input.js';

/**
 * "Never write a malformed point": whatever the storage serializer (src/storage/line-protocol.ts)
 * writes must read back, with the project's own line protocol parser (which follows InfluxDB's
 * reference parser), as exactly the point that was meant: same measurement, tags, fields and
 * timestamp, one line per point. For anything it cannot write faithfully it must throw instead.
 */

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const LIMITS: DecodeLimits = { maxBytes: 8 * 1024 * 1024, maxSamples: 40, maxMetricsPerSample: 12, maxFutureSkewMs: 300_000 };

/** Line protocol has no negative zero: `-0` is written `0`, which is the same number to everyone. */
const sameNumber = (a: number, b: number) => a === b;

function expectSamePoint(parsed: ParsedPoint, p: Point): void {
  expect(parsed.measurement).toBe(p.measurement);
  const tags = Object.entries(p.tags)
    .filter(([, v]) => v !== '') // the serializer leaves out empty tag values (InfluxDB stores none)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  expect(parsed.tags.map((t) => [t.key, t.value])).toEqual(tags);
  expect(parsed.fields.map((f) => f.key)).toEqual(Object.keys(p.fields));
  for (const f of parsed.fields) {
    const want = p.fields[f.key]!;
    if (typeof want === 'number') {
      expect(f.type).toBe('float'); // no `i` suffix: a field never changes type between points
      expect(sameNumber(f.value as number, want), `${f.key}: ${String(f.value)} vs ${want}`).toBe(true);
    } else {
      expect({ type: f.type, value: f.value }).toEqual({ type: typeof want, value: want });
    }
  }
  expect(parsed.timestamp === null ? null : Number(parsed.timestamp)).toBe(p.ts === 0 ? 0 : p.ts);
}

function expectRoundTrip(points: Point[]): void {
  const text = pointsToLineProtocol(points);
  const r = parseLineProtocol(text);
  expect(r.errors).toEqual([]);
  expect(r.points).toHaveLength(points.length);
  // One entry per point, starting where the point's text starts (a string value may hold a newline).
  let line = 1;
  r.points.forEach((parsed, i) => {
    expect(parsed.line).toBe(line);
    expectSamePoint(parsed, points[i]!);
    line += toLineProtocol(points[i]!).split('\n').length;
  });
}

describe('serializer fuzz: every sample the decoder accepts is written as exactly that sample', () => {
  it('decoded batches (valid and invalid samples mixed) → telemetry points → line protocol → the same points', () => {
    const samples = fc.array(fc.oneof(validSample(NOW, LIMITS), invalidSample(NOW, LIMITS)), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(validId, validId, validId, samples, (site, line, device, raw) => {
        const r = decodeHttpBody(JSON.stringify({ site, line, device, samples: raw }), {}, LIMITS, NOW);
        fc.pre(r.batch !== null && r.batch.samples.length > 0);
        const points = telemetryPoints(r.batch as TelemetryBatch);
        expectRoundTrip(points);
        // And the storage form holds the sample: every metric, the bad list, the millisecond timestamp.
        points.forEach((p, i) => {
          const s = r.batch!.samples[i]!;
          expect(p.ts).toBe(s.ts);
          expect(Object.keys(p.fields)).toEqual([...Object.keys(s.m), ...(s.bad?.length ? ['bad'] : [])]);
        });
      }),
      fuzz(150),
    );
  });
});

/** Names with every character that means something in line protocol, plus non-ASCII. */
const NAME_CHARS = ['a', 'Z', '0', '-', '_', ',', '=', ' ', '\\', '"', "'", '#', 'é', '中', '😀', '\u2028', '\ufeff'];
// Not generated, on purpose: control characters and a leading `_`. The parser refuses them (as
// InfluxDB's reference parser does) while the serializer never receives them: names it writes
// are validated ids, metric names and the platform's own constants.
const name = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 0, maxLength: 10 }).filter((s) => !s.startsWith('_'));
const fieldValue = fc.oneof(finiteNumber, fc.boolean(), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\r', ' ', ',', '=', 'x'), maxLength: 10 }));
const point: fc.Arbitrary<Point> = fc.record({
  measurement: name,
  tags: fc.uniqueArray(fc.tuple(name, name), { maxLength: 4, selector: ([k]) => k }).map((e) => Object.fromEntries(e) as Record<string, string>),
  fields: fc.uniqueArray(fc.tuple(name, fieldValue), { minLength: 0, maxLength: 4, selector: ([k]) => k }).map((e) => Object.fromEntries(e) as Record<string, number | string | boolean>),
  ts: fc.oneof(fc.integer({ min: -1e15, max: 1e15 }), fc.constantFrom(0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.5, NaN)),
});

describe('serializer fuzz: any point is written faithfully or refused, never garbled', () => {
  it('a point with hostile names and values either throws LineProtocolError or reads back as itself', () => {
    let written = 0;
    fc.assert(
      fc.property(point, (p) => {
        let text: string;
        try {
          text = toLineProtocol(p);
        } catch (err) {
          expect(err).toBeInstanceOf(LineProtocolError);
          return;
        }
        written++;
        expect(text).not.toMatch(/^#/); // a comment line would be dropped by the server silently
        expectRoundTrip([p]);
      }),
      fuzz(1000),
    );
    expect(written).toBeGreaterThan(100); // the property is not vacuous: most points are written
  });

  it('a batch of points joined by newlines reads back as the same points, one per line', () => {
    const writable = point.filter((p) => {
      try {
        toLineProtocol(p);
        return true;
      } catch {
        return false;
      }
    });
    fc.assert(fc.property(fc.array(writable, { minLength: 1, maxLength: 10 }), (points) => expectRoundTrip(points)), fuzz(100));
  });
});
