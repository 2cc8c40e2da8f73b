import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRORS, MIN_TIMESTAMP_MS, type DecodeLimits } from '../../../src/contract/index.js';
import { DEFAULT_LINE_PROTOCOL_MAPPING, parseLineProtocol, toTelemetryBatches, type ParseResult } from '../../../src/sources/line-protocol/index.js';
import { fuzz } from '../../support/fuzz.js';
import { finiteNumber, validId, validMetricName } from '../../support/hostile-input.js';

/**
 * Property-based tests of the line protocol parser (POST /write, /api/v2/write) and of the step
 * that maps parsed lines onto the contract: random text never throws, every answer is
 * consistent, and a bad line costs only itself.
 */

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const LIMITS: DecodeLimits = { maxBytes: 8 * 1024 * 1024, maxSamples: 10_000, maxMetricsPerSample: 256, maxFutureSkewMs: 300_000 };

/** Characters that steer the parser (separators, escapes, quotes, line ends, signs, type suffixes), plus non-ASCII. */
const LP_CHARS = ['m', 'f', 't', 'T', 'i', 'u', 'e', 'E', '1', '0', '9', '.', '-', '+', ',', '=', ' ', ' ', '\\', '"', "'", '#', '_', '\n', '\r', '\t', '\0', 'é', '中', '😀', '\ud800'];
const lpText = fc.oneof(fc.string({ unit: fc.constantFrom(...LP_CHARS), maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 80 }));

/** What must hold of every parse, whatever the input. */
function expectConsistent(text: string, r: ParseResult): void {
  expect(r.entries).toBe(r.points.length + r.errors.length);
  const lines = text.split('\n').length;
  for (const e of r.errors) {
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.line).toBeLessThanOrEqual(lines);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.reason.length).toBeGreaterThan(0);
  }
  let last = 0;
  for (const p of r.points) {
    expect(p.line).toBeGreaterThan(last);
    last = p.line;
    expect(p.measurement.length).toBeGreaterThan(0);
    expect(p.measurement.startsWith('_')).toBe(false);
    expect(new Set(p.tags.map((t) => t.key)).size).toBe(p.tags.length);
    for (const t of p.tags) expect(t.key.length > 0 && t.value.length > 0 && !t.key.startsWith('_')).toBe(true);
    expect(p.fields.length).toBeGreaterThan(0);
    expect(new Set(p.fields.map((f) => f.key)).size).toBe(p.fields.length);
    for (const f of p.fields) {
      expect(f.key.length > 0 && !f.key.startsWith('_')).toBe(true);
      if (f.type === 'float' || f.type === 'integer' || f.type === 'unsigned') expect(Number.isFinite(f.value)).toBe(true);
    }
    if (p.timestamp !== null) expect(p.timestamp).toMatch(/^-?\d+$/);
  }
}

describe('line protocol parser fuzz: anything in, a consistent answer out', () => {
  it('random text (separators, escapes, quotes, CR/LF, control characters, unicode)', () => {
    fc.assert(
      fc.property(lpText, (text) => expectConsistent(text, parseLineProtocol(text))),
      fuzz(800),
    );
  });

  it('random text through the mapping onto the contract: only contract-valid batches, every rejection coded', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(lpText, validLine.map((l) => l.text)), { maxLength: 6 }), fc.constantFrom('ns', 'ms', 's', 'h' as const), (lines, precision) => {
        const text = lines.join('\n');
        const parsed = parseLineProtocol(text);
        const r = toTelemetryBatches(parsed, { mapping: DEFAULT_LINE_PROTOCOL_MAPPING, precision, now: NOW, limits: LIMITS });
        expect(r.lines).toBe(parsed.entries);
        expect(r.stored).toBeLessThanOrEqual(r.lines);
        expect(r.storedInPart).toBeLessThanOrEqual(r.stored);
        for (const x of r.rejections) expect(Object.keys(ERRORS)).toContain(x.code);
        for (const b of r.batches) {
          for (const id of [b.site, b.line, b.device]) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
          for (const s of b.samples) {
            expect(s.ts >= MIN_TIMESTAMP_MS && s.ts <= NOW + LIMITS.maxFutureSkewMs).toBe(true);
            for (const v of Object.values(s.m)) expect(Number.isFinite(v)).toBe(true);
          }
        }
      }),
      fuzz(150),
    );
  });
});

/**
 * A line the platform must store: valid ids and metric names, values in every numeric spelling,
 * with its sample (what must come out). Written by hand, independently of the storage serializer.
 * (`String(-0)` is `0`: the sample then holds 0.)
 */
const validLine = fc
  .record({
    site: validId,
    line: validId,
    device: validId,
    fields: fc.uniqueArray(fc.tuple(validMetricName, fc.oneof(finiteNumber.map((v) => [String(v), v === 0 ? 0 : v] as const), fc.integer().map((v) => [`${v}i`, v] as const), fc.nat().map((v) => [`${v}u`, v] as const), fc.boolean().map((v) => [v ? 'true' : 'F', v ? 1 : 0] as const))), { minLength: 1, maxLength: 5, selector: ([k]) => k }),
    ts: fc.integer({ min: MIN_TIMESTAMP_MS, max: NOW }),
  })
  .map((l) => ({
    text: `telemetry,site=${l.site},line=${l.line},device=${l.device} ${l.fields.map(([k, [spelled]]) => `${k}=${spelled}`).join(',')} ${l.ts}`,
    key: `${l.site}/${l.line}/${l.device}`,
    sample: { ts: l.ts, m: Object.fromEntries(l.fields.map(([k, [, v]]) => [k, v])) as Record<string, number> },
  }));

/** A line of garbage: no newline, and no double quote (a quote opens a string that may span lines). */
const garbageLine = fc.string({ unit: fc.constantFrom(...LP_CHARS.filter((c) => c !== '\n' && c !== '"')), minLength: 1, maxLength: 40 });

describe('line protocol parser fuzz: a bad line costs only itself', () => {
  it('valid lines between garbage lines are all stored, each with exactly its own values', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(validLine.map((v) => ({ valid: true as const, v })), garbageLine.map((g) => ({ valid: false as const, g }))), { minLength: 1, maxLength: 12 }), (items) => {
        const text = items.map((x) => (x.valid ? x.v.text : x.g)).join('\n');
        const parsed = parseLineProtocol(text);
        expectConsistent(text, parsed);
        const r = toTelemetryBatches(parsed, { mapping: DEFAULT_LINE_PROTOCOL_MAPPING, precision: 'ms', now: NOW, limits: LIMITS });
        const stored = r.batches.flatMap((b) => b.samples.map((s) => ({ key: `${b.site}/${b.line}/${b.device}`, sample: s })));
        for (const [i, x] of items.entries()) {
          if (!x.valid) continue;
          expect(parsed.points.some((p) => p.line === i + 1)).toBe(true);
          expect(r.rejections.filter((rej) => rej.line === i + 1)).toEqual([]);
          expect(stored).toContainEqual({ key: x.v.key, sample: x.v.sample });
        }
      }),
      fuzz(120),
    );
  });

  it('an unterminated double quote costs only its own line', () => {
    fc.assert(
      fc.property(fc.array(validLine, { minLength: 1, maxLength: 5 }), garbageLine, fc.nat(), (valid, garbage, at) => {
        const lines = valid.map((v) => v.text);
        const where = at % (lines.length + 1);
        lines.splice(where, 0, `${garbage}"${garbage}`);
        const parsed = parseLineProtocol(lines.join('\n'));
        // The quote's own line may even be valid (a quote inside a key is an ordinary character).
        const others = lines.map((_, i) => i + 1).filter((l) => l !== where + 1);
        expect(parsed.points.map((p) => p.line).filter((l) => l !== where + 1)).toEqual(others);
      }),
      fuzz(300),
    );
  });
});
