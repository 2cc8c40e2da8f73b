import { describe, expect, it } from 'vitest';
import {
  DeviceEnergyAccumulator,
  parseEnergyConfig,
  type EnergyConfigInput,
  type EnergySample,
  type EnergyWindow,
} from '../../../../src/analytics/energy/index.js';

const REF = { site: 'site-01', line: 'line-1', device: 'press-7' };
/** 2026-01-06 00:00:00 China Standard Time (UTC+8): a minute, hour and local day boundary. */
const T0 = Date.UTC(2026, 0, 5, 16, 0, 0);
const sec = (s: number) => T0 + s * 1000;
const MIN = 60_000;

function accumulator(config: EnergyConfigInput = {}, ref = REF): DeviceEnergyAccumulator {
  return new DeviceEnergyAccumulator(ref, parseEnergyConfig({ windows: { sizes: ['1m'] }, ...config }));
}
/** Feed samples given as [seconds after T0, metrics]; return every window they close. */
function feedAll(acc: DeviceEnergyAccumulator, samples: [number, Record<string, number>][]): EnergyWindow[] {
  return samples.flatMap(([s, m]) => acc.feed({ ts: sec(s), m }));
}
const pick = (ws: readonly EnergyWindow[], ...keys: (keyof EnergyWindow)[]) =>
  ws.map((w) => Object.fromEntries([['minute', (w.start - T0) / MIN], ...keys.map((k) => [k, w[k]])]));

describe('windows close on event time only', () => {
  it('a window stays open until a sample at or after its end; the sample at the end belongs to the next window', () => {
    const acc = accumulator();
    expect(acc.feed({ ts: sec(0), m: { energy_kwh: 100 } })).toEqual([]);
    expect(acc.feed({ ts: sec(59.999), m: { energy_kwh: 101 } })).toEqual([]);
    const closed = acc.feed({ ts: sec(60), m: { energy_kwh: 101 } });
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ start: T0, end: T0 + MIN, windowMs: MIN, ...REF, samples: 2 });
    // (0, 59.999] drew 1 kWh; (59.999, 60] drew 0: all in minute 0.
    expect(closed[0]?.kwh).toBeCloseTo(1, 12);
  });
});

describe('windows close on event time only, without counters', () => {
  it('1m, 15m and 1h windows of a device reporting only gauges close at the first sample at or after their ends, oldest first', () => {
    const acc = accumulator({ windows: { sizes: ['1m', '15m', '1h'] } });
    const closedAt: [number, string[]][] = [];
    for (let s = 0; s <= 3600; s += 7.5) {
      const closed = acc.feed({ ts: sec(s), m: { power_kw: 3, power_factor: 0.9 } });
      if (closed.length > 0) closedAt.push([s, closed.map((w) => `${(w.start - T0) / MIN}+${w.windowMs / MIN}`)]);
    }
    // Every minute boundary (a multiple of 7.5 s) closes that minute's window; 900 s and 3600 s also the quarter's and the hour's.
    expect(closedAt).toHaveLength(60);
    expect(closedAt.every(([s], k) => s === (k + 1) * 60)).toBe(true);
    expect(closedAt[14]).toEqual([900, ['0+15', '14+1']]);
    expect(closedAt[59]).toEqual([3600, ['0+60', '45+15', '59+1']]);
  });

  it('a restored accumulator closes the windows that ended while it was handed over, at its first sample', () => {
    const acc = accumulator();
    acc.feed({ ts: sec(10), m: { power_kw: 3 } });
    // The receiving side had fed this device before (its minute 1 open): the restore replaces all of it.
    const moved = accumulator();
    moved.feed({ ts: sec(100), m: { power_kw: 3 } });
    moved.restore(JSON.parse(JSON.stringify(acc.snapshot())));
    // Minute 0 ended before this sample: it closes now, with the sample it had.
    expect(pick(moved.feed({ ts: sec(110), m: { power_kw: 3 } }), 'samples')).toEqual([{ minute: 0, samples: 1 }]);
    expect(moved.feed({ ts: sec(119), m: { power_kw: 3 } })).toEqual([]);
    expect(pick(moved.feed({ ts: sec(120), m: { power_kw: 3 } }), 'samples')).toEqual([{ minute: 1, samples: 2 }]);
  });

  it('every sample counts in each of its windows, between counter readings and across a hand-over mid-window', () => {
    const config: EnergyConfigInput = { windows: { sizes: ['1m', '15m'] } };
    let acc = accumulator(config);
    const closed: EnergyWindow[] = [];
    for (let s = 0; s < 240; s++) {
      // A counter every 20 s (its windows then found afresh), gauges in between; handed over at 90 s.
      const m: Record<string, number> = s % 20 === 0 ? { energy_kwh: 100 + s / 10, power_factor: 0.9 } : { power_factor: 0.8 };
      if (s === 90) {
        const moved = accumulator(config);
        moved.feed({ ts: sec(1000), m: { power_kw: 1 } });
        moved.restore(JSON.parse(JSON.stringify(acc.snapshot())));
        acc = moved;
      }
      closed.push(...acc.feed({ ts: sec(s), m }));
    }
    closed.push(...acc.feed({ ts: sec(900), m: { power_kw: 1 } }));
    // 2 kWh per reading, each credited to the window its interval ends in (none after 220 s).
    const rounded = closed.map((w) => ({ ...w, kwh: Math.round(w.kwh * 1e9) / 1e9 }));
    expect(pick(rounded, 'windowMs', 'samples', 'kwh')).toEqual([
      { minute: 0, windowMs: MIN, samples: 60, kwh: 6 },
      { minute: 1, windowMs: MIN, samples: 60, kwh: 6 },
      { minute: 2, windowMs: MIN, samples: 60, kwh: 6 },
      { minute: 0, windowMs: 15 * MIN, samples: 240, kwh: 22 },
      { minute: 3, windowMs: MIN, samples: 60, kwh: 4 },
    ]);
  });
});

describe('proportional split across window boundaries', () => {
  it('6 kWh from 0:30 to 1:30 is 3 kWh in each minute (30 s of 60 s each)', () => {
    const acc = accumulator();
    const closed = feedAll(acc, [
      [30, { energy_kwh: 100 }],
      [90, { energy_kwh: 106 }],
      [120, { energy_kwh: 106 }],
    ]);
    expect(pick(closed, 'kwh', 'samples')).toEqual([
      { minute: 0, kwh: 3, samples: 1 },
      { minute: 1, kwh: 3, samples: 1 },
    ]);
  });
  it('9 kWh from 0:45 to 2:15 (90 s) is 15/90 → 1.5, 60/90 → 6, 15/90 → 1.5; the middle minute has no sample of its own', () => {
    const acc = accumulator();
    const closed = feedAll(acc, [
      [45, { energy_kwh: 100 }],
      [135, { energy_kwh: 109 }],
      [180, { energy_kwh: 109 }],
    ]);
    expect(pick(closed, 'kwh', 'samples')).toEqual([
      { minute: 0, kwh: 1.5, samples: 1 },
      { minute: 1, kwh: 6, samples: 0 },
      { minute: 2, kwh: 1.5, samples: 1 },
    ]);
  });
  it('a counter read less often than the device reports: the part falling in a closed window goes to the oldest open one', () => {
    // energy at 0:00 = 0 and 1:30 = 9 (9 kWh over 90 s); state-only samples at 0:30 and 1:10 close minute 0 first.
    // Spread would give minute 0: 6 and minute 1: 3; minute 0 is final, so minute 1 gets 6 + 3 = 9.
    const acc = accumulator();
    const closed = feedAll(acc, [
      [0, { energy_kwh: 0 }],
      [30, { state: 2 }],
      [70, { state: 2 }],
      [90, { energy_kwh: 9 }],
      [120, { state: 2 }],
    ]);
    expect(pick(closed, 'kwh', 'samples')).toEqual([
      { minute: 0, kwh: 0, samples: 2 },
      { minute: 1, kwh: 9, samples: 2 },
    ]);
  });
});

describe('long gaps', () => {
  const samples: [number, Record<string, number>][] = [
    [30, { energy_kwh: 100 }],
    [40 * 60 + 30, { energy_kwh: 110 }],
    [41 * 60, { energy_kwh: 110 }],
  ];
  it('40 min between readings (> 15 min): all 10 kWh go to the minute of the later reading, none to the minutes between', () => {
    const closed = feedAll(accumulator(), samples);
    expect(pick(closed, 'kwh', 'samples')).toEqual([
      { minute: 0, kwh: 0, samples: 1 },
      { minute: 40, kwh: 10, samples: 1 },
    ]);
  });
  it('with a 60-min max gap the same 10 kWh spreads over 2,400 s: 0.125 in minutes 0 and 40 (30 s), 0.25 in each between', () => {
    const closed = feedAll(accumulator({ windows: { sizes: ['1m'], maxGapMs: 60 * MIN } }), samples);
    expect(closed).toHaveLength(41);
    expect(closed[0]?.kwh).toBeCloseTo(0.125, 12);
    expect(closed[17]?.kwh).toBeCloseTo(0.25, 12);
    expect(closed[40]?.kwh).toBeCloseTo(0.125, 12);
    expect(closed.reduce((sum, w) => sum + w.kwh, 0)).toBeCloseTo(10, 12);
  });
});

describe('counter resets, rollovers and implausible jumps inside a window', () => {
  it('reset: 100 → 102 (+2), → 0.5 (reset, +0.5 from zero), → 1.5 (+1) is 3.5 kWh', () => {
    const acc = accumulator();
    const closed = feedAll(acc, [
      [0, { energy_kwh: 100 }],
      [10, { energy_kwh: 102 }],
      [20, { energy_kwh: 0.5 }],
      [30, { energy_kwh: 1.5 }],
      [60, { energy_kwh: 1.5 }],
    ]);
    expect(closed).toHaveLength(1);
    expect(closed[0]?.kwh).toBeCloseTo(3.5, 12);
    expect(acc.stats().counters.energy_kwh).toEqual({ first: 1, normal: 3, rollover: 0, reset: 1, implausible: 0 });
  });
  it('rollover of a 6+1 digit register: 999,999.0 → 0.5 is 1,000,000 − 999,999 + 0.5 = 1.5 kWh', () => {
    const acc = accumulator({ counters: { rolloverModulus: { energy_kwh: 1_000_000 } } });
    const closed = feedAll(acc, [
      [0, { energy_kwh: 999_999 }],
      [30, { energy_kwh: 0.5 }],
      [60, { energy_kwh: 0.5 }],
    ]);
    expect(closed[0]?.kwh).toBeCloseTo(1.5, 9);
    expect(acc.stats().counters.energy_kwh.rollover).toBe(1);
  });
  it('a one-sample glitch costs nothing: 1,000 → 9,999,999 (not counted) → 1,000.2 counts 0.2 from 1,000, not a reset of 1,000.2', () => {
    const acc = accumulator();
    const closed = feedAll(acc, [
      [0, { energy_kwh: 1_000 }],
      [10, { energy_kwh: 9_999_999 }],
      [20, { energy_kwh: 1_000.2 }],
      [60, { energy_kwh: 1_000.2 }],
    ]);
    expect(closed[0]?.kwh).toBeCloseTo(0.2, 9);
    expect(closed[0]?.implausibleJumps).toBe(1);
    expect(acc.stats().counters.energy_kwh).toMatchObject({ implausible: 1, reset: 0 });
  });
  it('a swapped meter at a new level: believed once two readings agree; only the swap interval is lost', () => {
    // 1,000 → 50,000 (implausible) → 50,000.1 (from 1,000: implausible; from 50,000: +0.1, believed) → 50,000.3 (+0.2)
    const acc = accumulator();
    const closed = feedAll(acc, [
      [0, { energy_kwh: 1_000 }],
      [10, { energy_kwh: 50_000 }],
      [20, { energy_kwh: 50_000.1 }],
      [30, { energy_kwh: 50_000.3 }],
      [60, { energy_kwh: 50_000.3 }],
    ]);
    expect(closed[0]?.kwh).toBeCloseTo(0.3, 9);
    expect(closed[0]?.implausibleJumps).toBe(1);
  });
  it("a counter's base moves with each reading, and neither a snapshot taken nor one restored from moves with it", () => {
    const acc = accumulator();
    feedAll(acc, [
      [0, { energy_kwh: 1_000 }],
      [10, { energy_kwh: 50_000 }], // implausible: a suspect
    ]);
    const taken = acc.snapshot();
    expect(taken.counters).toEqual([{ metric: 'energy_kwh', base: { ts: sec(0), value: 1_000 }, suspect: { ts: sec(10), value: 50_000 } }]);
    const given = JSON.parse(JSON.stringify(taken)) as typeof taken;
    const moved = accumulator();
    moved.restore(given);
    feedAll(moved, [[20, { energy_kwh: 1_000.5 }]]); // from the base: +0.5, the suspect forgotten
    feedAll(acc, [[20, { energy_kwh: 1_000.5 }]]);
    for (const a of [acc, moved]) {
      const counters = a.snapshot().counters;
      expect(counters).toEqual([{ metric: 'energy_kwh', base: { ts: sec(20), value: 1_000.5 } }]);
      expect('suspect' in counters[0]!).toBe(false);
    }
    // What was handed over and what was taken are the caller's, unchanged.
    expect(given.counters).toEqual([{ metric: 'energy_kwh', base: { ts: sec(0), value: 1_000 }, suspect: { ts: sec(10), value: 50_000 } }]);
    expect(taken.counters[0]!.base).toEqual({ ts: sec(0), value: 1_000 });
    expect(pick(feedAll(moved, [[60, { energy_kwh: 1_000.5 }]]), 'kwh', 'implausibleJumps')).toEqual([{ minute: 0, kwh: 0.5, implausibleJumps: 1 }]);
  });
  it('a negative reading is ignored and does not become the base', () => {
    const acc = accumulator();
    const closed = feedAll(acc, [
      [0, { energy_kwh: 10 }],
      [20, { energy_kwh: -5 }],
      [40, { energy_kwh: 11 }],
      [60, { energy_kwh: 11 }],
    ]);
    expect(closed[0]?.kwh).toBeCloseTo(1, 12);
    expect(closed[0]?.implausibleJumps).toBe(1);
  });
});

describe('idle energy', () => {
  it('with an output counter and no state: idle once output has not moved for idleAfterNoOutputMs', () => {
    // idleAfterNoOutputMs 15 s. (0,20]: output moves at 20 → productive 1; (20,40]: no move since 20,
    // 20 s > 15 s → idle 0.5; (40,60]: output moves at 60 → productive 1.
    // Minute 0: 2.5 kWh, idle 0.5, 10 parts → 0.25 kWh/part. The sample at 1:00 belongs to minute 1.
    const closed = feedAll(accumulator({ windows: { sizes: ['1m'], idleAfterNoOutputMs: 15_000 } }), [
      [0, { energy_kwh: 10, output_units: 100 }],
      [20, { energy_kwh: 11, output_units: 105 }],
      [40, { energy_kwh: 11.5, output_units: 105 }],
      [60, { energy_kwh: 12.5, output_units: 110 }],
    ]);
    expect(pick(closed, 'kwh', 'idleKwh', 'outputUnits', 'kwhPerUnit', 'samples')).toEqual([
      { minute: 0, kwh: 2.5, idleKwh: 0.5, outputUnits: 10, kwhPerUnit: 0.25, samples: 3 },
    ]);
  });
  it('a slow machine between two parts is not idle (default: 10 min without output)', () => {
    // One part every 90 s (a CNC), sampled every 10 s: most intervals make no part, none is idle.
    const samples: [number, Record<string, number>][] = [];
    for (let t = 0; t <= 300; t += 10) samples.push([t, { energy_kwh: 100 + t / 100, output_units: 7 + Math.floor(t / 90) }]);
    const closed = feedAll(accumulator(), samples);
    expect(closed.length).toBeGreaterThanOrEqual(4);
    for (const w of closed) expect(w.idleKwh).toBe(0);
  });
  it('a running state wins over a still output counter', () => {
    const closed = feedAll(accumulator({ windows: { sizes: ['1m'], idleAfterNoOutputMs: 15_000 } }), [
      [0, { energy_kwh: 10, output_units: 100, state: 2 }],
      [20, { energy_kwh: 11, output_units: 100, state: 2 }],
      [40, { energy_kwh: 12, output_units: 100, state: 1 }],
      [60, { energy_kwh: 13, output_units: 100, state: 1 }],
    ]);
    // (0,20], (20,40]: state 2 in effect → productive, although output is still (by the output rule
    // (20,40] would be idle); (40,60]: state 1 (reported at 40) → idle 1. All three end in minute 0.
    expect(pick(closed, 'kwh', 'idleKwh')).toEqual([{ minute: 0, kwh: 3, idleKwh: 1 }]);
  });
  it('without an output counter: intervals whose state in effect (the last one reported before) is not 2 (running)', () => {
    // (0,20]: state 2 (reported at 0) in effect → productive 1; (20,40]: state 1 (reported at 20) → idle 0.5;
    // (40,60]: state 2 (reported at 40) → productive 1. (Judged by the state at each interval's end, it would be 1, not 0.5.)
    const closed = feedAll(accumulator(), [
      [0, { energy_kwh: 10, state: 2 }],
      [20, { energy_kwh: 11, state: 1 }],
      [40, { energy_kwh: 11.5, state: 2 }],
      [60, { energy_kwh: 12.5, state: 2 }],
    ]);
    expect(pick(closed, 'kwh', 'idleKwh', 'outputUnits', 'kwhPerUnit', 'kgcePerUnit')).toEqual([
      { minute: 0, kwh: 2.5, idleKwh: 0.5, outputUnits: 0, kwhPerUnit: null, kgcePerUnit: null },
    ]);
  });
  it('neither output nor state: no idle energy (unknown is not waste)', () => {
    const closed = feedAll(accumulator(), [
      [0, { energy_kwh: 10 }],
      [30, { energy_kwh: 12 }],
      [60, { energy_kwh: 12 }],
    ]);
    expect(closed[0]?.kwh).toBe(2);
    expect(closed[0]?.idleKwh).toBe(0);
  });
  it('an output counter that is not read in a sample falls back on state', () => {
    // (0,20]: output read, +5 → productive 1; (20,40]: no output reading, state 3 (fault) in effect → idle 2.
    const closed = feedAll(accumulator(), [
      [0, { energy_kwh: 0, output_units: 0, state: 2 }],
      [20, { energy_kwh: 1, output_units: 5, state: 3 }],
      [40, { energy_kwh: 3, state: 3 }],
      [60, { energy_kwh: 3, output_units: 5 }],
    ]);
    expect(pick(closed, 'kwh', 'idleKwh', 'outputUnits')).toEqual([{ minute: 0, kwh: 3, idleKwh: 2, outputUnits: 5 }]);
  });
});

describe('power factor', () => {
  it('energy-weighted: 1 kWh at 0.8 and 3 kWh at 0.95 average (0.8 + 2.85) / 4 = 0.9125; the 0.9 reading with no energy before it weighs nothing', () => {
    const closed = feedAll(accumulator(), [
      [0, { energy_kwh: 0, power_factor: 0.9 }],
      [20, { energy_kwh: 1, power_factor: 0.8 }],
      [40, { energy_kwh: 4, power_factor: 0.95 }],
      [60, { energy_kwh: 4 }],
      [90, { power_factor: 0.5 }],
      [100, { power_factor: 0.7 }],
      [120, { energy_kwh: 4 }],
      [180, { energy_kwh: 4 }],
    ]);
    expect(closed[0]?.powerFactorAvg).toBeCloseTo(0.9125, 12);
    // Minute 1: no energy drawn, so the plain mean of its readings: (0.5 + 0.7) / 2 = 0.6.
    expect(closed[1]?.powerFactorAvg).toBeCloseTo(0.6, 12);
    // Minute 2: no power factor reading at all.
    expect(closed[2]?.powerFactorAvg).toBeNull();
  });
});

describe('coal equivalent and CO2', () => {
  const samples: [number, Record<string, number>][] = [
    [0, { energy_kwh: 0, gas_m3: 0, steam_t: 0, water_m3: 0, output_units: 0 }],
    [30, { energy_kwh: 100, gas_m3: 10, steam_t: 2, water_m3: 7, output_units: 50 }],
    [60, { energy_kwh: 100, gas_m3: 10, steam_t: 2, water_m3: 7, output_units: 50 }],
  ];
  it('gas and configured steam: 100 kWh × 0.1229 + 10 m³ × 1.2143 + 2 t × 128.6 = 12.29 + 12.143 + 257.2 = 281.633 kgce', () => {
    const acc = accumulator({ sites: { 'site-01': { steamKgcePerT: 128.6 } } });
    const [w] = feedAll(acc, samples);
    expect(w?.kgce).toBeCloseTo(281.633, 9);
    expect(w?.tce).toBeCloseTo(0.281633, 12);
    // 281.633 kgce / 50 parts = 5.63266 kgce/part; 100 / 50 = 2 kWh/part.
    expect(w?.kgcePerUnit).toBeCloseTo(5.63266, 9);
    expect(w?.kwhPerUnit).toBe(2);
    expect(w?.notInTce).toEqual([]);
    // Water is counted, but is not energy.
    expect(w?.waterM3).toBe(7);
  });
  it('steam without a coefficient is reported in t, left out of tce, and the window says so: 12.29 + 12.143 = 24.433 kgce', () => {
    const [w] = feedAll(accumulator(), samples);
    expect(w?.steamT).toBe(2);
    expect(w?.kgce).toBeCloseTo(24.433, 9);
    expect(w?.notInTce).toEqual(['steam_t']);
    expect(w?.notInCo2).toEqual(['steam_t']);
  });
  it('CO2, default national 2023: 100 kWh × 0.5306 + 10 m³ × 2.1840291 = 53.06 + 21.840291 = 74.900291 kg', () => {
    const [w] = feedAll(accumulator(), samples);
    expect(w?.co2Kg).toBeCloseTo(74.900291, 9);
  });
  it('CO2 with configured steam: + 2 t × 250 kg/t = 574.900291 kg', () => {
    const [w] = feedAll(accumulator({ steamKgCo2PerT: 250 }), samples);
    expect(w?.co2Kg).toBeCloseTo(574.900291, 9);
    expect(w?.notInCo2).toEqual([]);
  });

  // 1,000 kWh over one minute (60,000 kW: under the default 100,000 kW plausibility limit).
  const kwhOnly: [number, Record<string, number>][] = [
    [0, { energy_kwh: 0 }],
    [60, { energy_kwh: 1000 }],
  ];
  const co2Of = (config: EnergyConfigInput, ref = REF) => feedAll(accumulator(config, ref), kwhOnly)[0]?.co2Kg;
  it('1,000 kWh: national 2023 → 530.6 kg, national 2021 → 556.8 kg, North grid → 677.6 kg', () => {
    expect(co2Of({})).toBeCloseTo(530.6, 9);
    expect(co2Of({ gridYear: 2021 })).toBeCloseTo(556.8, 9);
    expect(co2Of({ gridRegion: 'North' })).toBeCloseTo(677.6, 9);
  });
  it('per-site override: site-01 in Sichuan (Southwest) → 226.8 kg; site-02 keeps the top-level East grid → 561.7 kg', () => {
    const config: EnergyConfigInput = { gridRegion: 'East', sites: { 'site-01': { gridRegion: 'Southwest' } } };
    expect(co2Of(config)).toBeCloseTo(226.8, 9);
    expect(co2Of(config, { ...REF, site: 'site-02' })).toBeCloseTo(561.7, 9);
  });
});

describe('window sizes nest exactly', () => {
  it('hand-computed: 6 kWh from 14:30 to 15:30 is 3 + 3 in minutes 14 and 15 and in quarters 0 and 1', () => {
    const acc = accumulator({ windows: { sizes: ['1m', '15m'] } });
    const closed = feedAll(acc, [
      [14 * 60 + 30, { energy_kwh: 50 }],
      [15 * 60 + 30, { energy_kwh: 56 }],
      [16 * 60, { energy_kwh: 56 }],
    ]);
    expect(closed.map((w) => [(w.start - T0) / MIN, w.windowMs / MIN, w.kwh])).toEqual([
      [0, 15, 3],
      [14, 1, 3],
      [15, 1, 3],
    ]);
  });

  it('over 3 hours of irregular samples (resets, gaps, idle), 1-min windows sum to each 15-min and 1-h window within 1e-9', () => {
    // A deterministic irregular series: steps of 1–40 s, now and then a 4-min or a 20-min (> max gap) silence,
    // one meter reset, output that sometimes stalls.
    let seed = 12345;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const acc = accumulator({ windows: { sizes: ['1m', '15m', '1h'] } });
    let t = 7;
    let kwh = 5_000;
    let gas = 300;
    let parts = 0;
    let resetDone = false;
    const closed: EnergyWindow[] = [];
    while (t < 3 * 3600 + 600) {
      const r = rand();
      t += r < 0.02 ? 1200 : r < 0.05 ? 240 : 1 + Math.floor(rand() * 40);
      kwh += rand() * 0.8;
      gas += rand() * 0.05;
      if (rand() > 0.3) parts += Math.floor(rand() * 4);
      if (t >= 5000 && !resetDone) {
        kwh = rand(); // the meter is replaced: the new one starts near zero
        resetDone = true;
      }
      const sample: EnergySample = { ts: sec(t), m: { energy_kwh: kwh, gas_m3: gas, output_units: parts, power_factor: 0.8 + rand() * 0.2 } };
      closed.push(...acc.feed(sample));
    }
    const ones = closed.filter((w) => w.windowMs === MIN);
    const fields = ['kwh', 'gasM3', 'outputUnits', 'idleKwh', 'kgce', 'co2Kg', 'samples'] as const;
    const compared = { quarters: 0, hours: 0 };
    for (const big of closed.filter((w) => w.windowMs > MIN)) {
      const inside = ones.filter((w) => w.start >= big.start && w.start < big.end);
      for (const f of fields) {
        const sum = inside.reduce((s, w) => s + w[f], 0);
        expect(Math.abs(sum - big[f]), `${f} of the ${big.windowMs / MIN}-min window at ${big.start}`).toBeLessThan(1e-9);
      }
      if (big.windowMs === 60 * MIN) compared.hours++;
      else compared.quarters++;
    }
    // 3 h 10 min of data: the 3 hours closed; of the 12 quarters, those a 20-min silence did not
    // leave empty (an empty window is not emitted).
    expect(compared.hours).toBe(3);
    expect(compared.quarters).toBeGreaterThanOrEqual(9);
    expect(acc.stats().counters.energy_kwh.reset).toBeGreaterThanOrEqual(1);
  });

  it('days align on local midnight (UTC+8 by default): the 1-day window starts at 16:00 UTC', () => {
    const acc = new DeviceEnergyAccumulator(REF, parseEnergyConfig({ windows: { sizes: ['1d'] } }));
    acc.feed({ ts: T0 + 3_600_000, m: { energy_kwh: 1 } });
    const [day] = acc.feed({ ts: T0 + 86_400_000, m: { energy_kwh: 2 } });
    expect(new Date(day?.start ?? 0).toISOString()).toBe('2026-01-05T16:00:00.000Z');
    expect(day?.kwh).toBe(1);
  });
});

describe('out-of-order and duplicate samples', () => {
  it('an older sample is ignored and counted; a repeated timestamp is ignored and counted as a duplicate', () => {
    const acc = accumulator();
    const closed = feedAll(acc, [
      [0, { energy_kwh: 100 }],
      [30, { energy_kwh: 101 }],
      [20, { energy_kwh: 150 }],
      [30, { energy_kwh: 101 }],
      [60, { energy_kwh: 102 }],
    ]);
    // 100 → 101 → 102: 2 kWh; the 150 at 0:20 never counted (it would have added 49 and a reset).
    expect(pick(closed, 'kwh', 'samples')).toEqual([{ minute: 0, kwh: 2, samples: 2 }]);
    expect(acc.stats()).toMatchObject({ accepted: 3, outOfOrder: 1, duplicates: 1 });
  });
});
