import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime, timeRange } from '../../../src/api/query-params.js';
import { PlantPulseError } from '../../../src/contract/index.js';
import { fuzz } from '../../support/fuzz.js';
import { hostileString } from '../../support/hostile-input.js';

/**
 * The read APIs' time and duration parameters (`from`, `to`, `every`): any text gives a number
 * or null, and a range check fails only with a coded 400, never with an exception that would
 * become a 500.
 */

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
/** Texts shaped like what the parameters accept, at and beyond their edges. */
const timeText = fc.oneof(
  hostileString,
  fc.constantFrom('now', 'now-', 'now-0s', 'now-24h', 'now-999999999w', 'now--1h', '2026-11-29', '2026-02-30T25:61:61Z', '2026-11-29T08:00:00+08:00', '0', '-1', '9999999999999999', '1e3'),
  fc.stringMatching(/^\d{1,20}$/),
  fc.stringMatching(/^now-\d{1,10}(ms|s|m|h|d|w)$/),
  fc.stringMatching(/^\d{4}-\d{2}-\d{2}([T ][\d:.]{1,12}(Z|[+-]\d{2}:?\d{2})?)?$/),
);

describe('query parameter fuzz', () => {
  it('parseTime and parseDuration answer a finite number or null, whatever the text', () => {
    fc.assert(
      fc.property(timeText, (text) => {
        const t = parseTime(text, NOW);
        expect(t === null || Number.isFinite(t)).toBe(true);
        const d = parseDuration(text);
        expect(d === null || (Number.isFinite(d) && d > 0)).toBe(true);
      }),
      fuzz(1000),
    );
  });

  it('timeRange gives from < to within the span, or a PlantPulseError (a 400), never another exception', () => {
    fc.assert(
      fc.property(fc.option(timeText, { nil: undefined }), fc.option(timeText, { nil: undefined }), (from, to) => {
        // The route's zod schema lets only parseable times through: mirror that.
        fc.pre((from === undefined || parseTime(from, 0) !== null) && (to === undefined || parseTime(to, 0) !== null));
        try {
          const r = timeRange({ from, to }, 3_600_000, 400 * 86_400_000, NOW);
          expect(r.from).toBeLessThan(r.to);
          expect(r.to - r.from).toBeLessThanOrEqual(400 * 86_400_000);
        } catch (err) {
          expect(err).toBeInstanceOf(PlantPulseError);
          expect((err as PlantPulseError).code).toBe('PP_ERR_INVALID_QUERY');
        }
      }),
      fuzz(1000),
    );
  });
});
