import { describe, expect, it } from 'vitest';
import { deviceStateFrom, initialDeviceState, NEVER, storedDeviceState } from '../../../src/quality/device-state.js';

const T0 = Date.UTC(2026, 0, 5, 16);
/** A device rebuilt from InfluxDB counts and saved before it was heard, as every release saved it. */
const saved = { seq: { epoch: 0, highest: null, gaps: [] }, lastSeq: null, spacings: [], firstTs: T0, newestTs: T0 + 60_000, prevTs: null, firstHeard: null, lastArrival: null, status: null, statusAt: null, statusReason: null, gateway: null, lastAdvance: null, tooLate: 0, abandoned: 0 };

describe('device state: times not yet happened', () => {
  it('are NEVER in memory, read from null in the stored form, and missing fields take their first values', () => {
    const { tooLate: _t, abandoned: _a, lastSeq: _l, ...older } = saved;
    for (const form of [saved, older]) {
      const s = deviceStateFrom(form);
      expect(s).toEqual({ ...initialDeviceState(), firstTs: T0, newestTs: T0 + 60_000 });
      expect([s.prevTs, s.firstHeard, s.lastArrival, s.statusAt, s.lastAdvance]).toEqual([NEVER, NEVER, NEVER, NEVER, NEVER]);
    }
  });

  it('are written as null, as before: by JSON (SQLite) and in the stored form (hand-over), which reads back to the same state', () => {
    const s = deviceStateFrom({ ...saved, firstHeard: T0 + 5_000, lastArrival: T0 + 5_000, lastSeq: { epoch: 0, seq: 3 }, spacings: [1000, 1000] });
    expect(JSON.parse(JSON.stringify(s))).toEqual({ ...saved, firstHeard: T0 + 5_000, lastArrival: T0 + 5_000, lastSeq: { epoch: 0, seq: 3 }, spacings: [1000, 1000] });
    const stored = storedDeviceState(s);
    expect(JSON.stringify(stored)).toBe(JSON.stringify(s));
    expect(deviceStateFrom(stored)).toEqual(s);
    stored.spacings.push(5); // a copy: the live state does not move with it
    expect(s.spacings).toEqual([1000, 1000]);
  });
});
