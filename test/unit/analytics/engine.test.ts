import { describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../src/analytics/index.js';
import { EACH_METRIC_CAP } from '../../../src/analytics/engine.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import { EMPTY_RULES_CONFIG, parseRulesConfig } from '../../../src/analytics/rules/index.js';
import type { Sample, TelemetryBatch } from '../../../src/contract/index.js';

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0); // 08:00 China time: on every window boundary
const REF = { site: 's1', line: 'l1', device: 'd1' };

function batch(samples: Sample[], extra: Partial<TelemetryBatch> = {}): TelemetryBatch {
  return { ...REF, seq: null, samples, ...extra };
}

/** A machine sampled every 10 s for `minutes`, with `m(t)` giving its metrics at second t. */
function run(minutes: number, m: (t: number) => Record<string, number>, from = 0): Sample[] {
  const out: Sample[] = [];
  for (let t = from; t < from + minutes * 60; t += 10) out.push({ ts: T0 + t * 1000, m: m(t) });
  return out;
}

describe('AnalyticsEngine', () => {
  it('runs the rules over samples: a temperature limit opens and clears with the sample times', () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'hot', metric: 'temperature_c', detector: 'limit', severity: 'critical', params: { high: 90, hysteresis: 5 } }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const temps = [80, 85, 95, 97, 88, 84, 83];
    const out = engine.process(batch(temps.map((v, i) => ({ ts: T0 + i * 1000, m: { temperature_c: v } }))), T0 + 10_000);
    expect(out.events.map((e) => [e.kind, e.ts, e.value])).toEqual([
      ['raise', T0 + 2000, 95],
      ['raise', T0 + 3000, 97],
      ['clear', T0 + 5000, 84],
    ]);
    expect(out.events[0]).toMatchObject({ ...REF, rule: 'hot', metric: 'temperature_c', category: 'safety', severity: 'critical', threshold: 90 });
  });

  it('ignores samples not newer than the last one (a replayed batch raises nothing new)', () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'hot', metric: 'temperature_c', detector: 'limit', params: { high: 90 } }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const b = batch([{ ts: T0, m: { temperature_c: 95 } }, { ts: T0 + 1000, m: { temperature_c: 96 } }]);
    expect(engine.process(b, T0).events).toHaveLength(2);
    expect(engine.process(b, T0 + 5000).events).toHaveLength(0);
    expect(engine.stats().samplesNotNewer).toBe(2);
  });

  it('a rule limited to some machine states neither learns nor judges in the others', () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'vib', metric: 'vibration_mm_s', detector: 'limit', states: [2], params: { high: 5 } }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const samples: Sample[] = [
      { ts: T0, m: { state: 1, vibration_mm_s: 9 } }, // idle: not judged
      { ts: T0 + 1000, m: { state: 2, vibration_mm_s: 9 } }, // running: raised
      { ts: T0 + 2000, m: { vibration_mm_s: 9 } }, // no state in this sample: the last one (running) holds
      { ts: T0 + 3000, m: { state: 0, vibration_mm_s: 9 } }, // stopped: not judged
    ];
    expect(engine.process(batch(samples), T0).events.map((e) => [e.kind, e.ts - T0])).toEqual([
      ['raise', 1000],
      ['raise', 2000],
    ]);
    // A device that never reports `state` is judged on every sample.
    const other = engine.process({ ...batch([{ ts: T0, m: { vibration_mm_s: 9 } }]), device: 'd2' }, T0);
    expect(other.events).toHaveLength(1);
  });

  it('settleS: after the machine state changes, a rule waits that long (sample time) before judging', () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'warm', metric: 'temperature_c', detector: 'limit', states: [2], settleS: 60, params: { low: 50 } }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const at = (s: number, m: Record<string, number>): Sample => ({ ts: T0 + s * 1000, m });
    const samples: Sample[] = [
      at(0, { state: 0, temperature_c: 20 }), // stopped, cold: not judged
      at(10, { state: 2, temperature_c: 25 }), // started: heating up, settling until 70 s
      at(69, { temperature_c: 45 }), // still settling
      at(70, { temperature_c: 48 }), // settled, and still below 50: raised
      at(80, { state: 1, temperature_c: 40 }), // idle: not judged
      at(90, { state: 2, temperature_c: 30 }), // running again: settling anew until 150 s
      at(149, { temperature_c: 30 }),
      at(150, { temperature_c: 30 }),
    ];
    expect(engine.process(batch(samples), T0).events.map((e) => [e.kind, (e.ts - T0) / 1000])).toEqual([
      ['raise', 70],
      ['raise', 150],
    ]);
  });

  it('judges each sample by the rules on the metrics it has, whatever the samples before it named (devices of a class sharing the look-ups)', () => {
    const rules = parseRulesConfig({
      classes: {
        default: {
          inherit: false,
          rules: [
            { id: 'hot', metric: 'temperature_c', detector: 'limit', params: { high: 90 } },
            { id: 'shaking', metric: 'vibration_mm_s', detector: 'limit', params: { high: 5 } },
          ],
        },
      },
    });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const raised = (device: string, ts: number, m: Record<string, number>) => engine.process({ ...REF, device, seq: null, samples: [{ ts, m }] }, ts).events.map((e) => `${e.device} ${e.rule} ${e.kind}`);
    // Two devices of one class alternate key lists of the same length, then of other lengths and orders.
    expect(raised('d1', T0, { temperature_c: 95 })).toEqual(['d1 hot raise']);
    expect(raised('d2', T0, { vibration_mm_s: 9 })).toEqual(['d2 shaking raise']);
    expect(raised('d1', T0 + 1000, { vibration_mm_s: 9 })).toEqual(['d1 shaking raise']);
    expect(raised('d2', T0 + 1000, { vibration_mm_s: 9, temperature_c: 95 })).toEqual(['d2 hot raise', 'd2 shaking raise']);
    expect(raised('d2', T0 + 2000, { vibration_mm_s: 9 })).toEqual(['d2 shaking raise']);
    expect(raised('d1', T0 + 2000, { power_kw: 3 })).toEqual([]);
    expect(raised('d1', T0 + 3000, { temperature_c: 20, vibration_mm_s: 1 })).toEqual(['d1 hot clear', 'd1 shaking clear']);
  });

  it("each batch's events are a list of its own: a later batch neither adds to nor empties an earlier one's", () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'hot', metric: 'temperature_c', detector: 'limit', params: { high: 90, hysteresis: 5 } }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const first = engine.process(batch([{ ts: T0, m: { temperature_c: 95 } }]), T0);
    const next = engine.process(batch([{ ts: T0 + 1000, m: { temperature_c: 96 } }]), T0 + 1000);
    const second = engine.process(batch([{ ts: T0 + 2000, m: { temperature_c: 97 } }]), T0 + 2000);
    expect(first.events.map((e) => e.value)).toEqual([95]);
    expect(next.events.map((e) => e.value)).toEqual([96]);
    expect(second.events.map((e) => e.value)).toEqual([97]);
    const nothing = engine.process(batch([{ ts: T0 + 3000, m: { power_kw: 1 } }]), T0 + 3000);
    expect(nothing).toEqual({ events: [], points: [] });
    expect(engine.tick(T0 + 4000)).toEqual([]);
  });

  it('settleS without states is a configuration error', () => {
    expect(() => parseRulesConfig({ classes: { default: { rules: [{ id: 'x', metric: 'temperature_c', detector: 'limit', settleS: 60, params: { high: 1 } }] } } })).toThrowError(/settleS needs states/);
  });

  it('historical batches are accounted (energy) but raise nothing', () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'hot', metric: 'temperature_c', detector: 'limit', params: { high: 90 } }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({ windows: { sizes: ['1m'] } }));
    const out = engine.process(batch(run(3, (t) => ({ temperature_c: 99, energy_kwh: 100 + t / 60 })), { historical: true }), T0);
    expect(out.events).toEqual([]);
    expect(out.points.map((p) => [p.measurement, p.tags.window, p.ts, p.fields.kwh])).toEqual([
      ['energy', '1m', T0, 1],
      ['energy', '1m', T0 + 60_000, 1],
    ]);
  });

  it('silence is judged on arrival time, not sample time: a replayed backlog is not silent', () => {
    const engine = new AnalyticsEngine(EMPTY_RULES_CONFIG, parseEnergyConfig({}));
    // Samples from two hours ago, arriving now.
    const now = T0 + 2 * 3_600_000;
    engine.process(batch([{ ts: T0, m: { power_kw: 1 } }]), now);
    expect(engine.tick(now + 60_000).filter((e) => e.rule === 'silence')).toEqual([]);
    const raised = engine.tick(now + 121_000).filter((e) => e.rule === 'silence');
    expect(raised).toMatchObject([{ kind: 'raise', category: 'data', ts: now + 121_000 }]);
    const cleared = engine.process(batch([{ ts: T0 + 1000, m: { power_kw: 1 } }]), now + 130_000).events.filter((e) => e.rule === 'silence');
    expect(cleared).toMatchObject([{ kind: 'clear', ts: now + 130_000 }]);
  });

  it('feeds closed 15-min windows to the energy rules: idle energy raises after an hour of idle windows and clears', () => {
    // 75 min idle (state 1) drawing 30 kW, then 45 min running with output.
    const engine = new AnalyticsEngine(EMPTY_RULES_CONFIG, parseEnergyConfig({}));
    const idle = run(75, (t) => ({ state: 1, energy_kwh: 1000 + (30 * t) / 3600, output_units: 500 }));
    const busy = run(45, (t) => ({ state: 2, energy_kwh: 1000 + (30 * t) / 3600, output_units: 500 + Math.floor(t / 30) }), 75 * 60);
    const events = [...engine.process(batch(idle), T0).events, ...engine.process(batch(busy), T0).events].filter((e) => e.rule === 'idle-share-high');
    // Windows end at 15 … 75 min (idle share 1.0): raised from the fourth (min duration 2700 s),
    // then the 90-min window (share 0, the interval ending at 75:00 is in the 60–75 window) clears.
    expect(events.map((e) => [e.kind, (e.ts - T0) / 60_000, e.value])).toEqual([
      ['raise', 60, 1],
      ['raise', 75, 1],
      ['clear', 90, 0],
    ]);
    expect(events[0]).toMatchObject({ category: 'energy', metric: 'idle_share' });
  });

  describe('rules on every metric (+)', () => {
    const each = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'hi', metric: '+', detector: 'limit', params: { high: 100 } }] } } });

    it('judge each signal metric on its own, names outside the catalogue too, keyed by rule and metric', () => {
      const engine = new AnalyticsEngine(each, parseEnergyConfig({}));
      const out = engine.process(batch([{ ts: T0, m: { pump_flow: 150, temperature_c: 50, vibration_g: 120 } }]), T0);
      expect(out.events.map((e) => [e.rule, e.metric, e.value])).toEqual([
        ['hi:pump_flow', 'pump_flow', 150],
        ['hi:vibration_g', 'vibration_g', 120],
      ]);
      // One state per metric: vibration clearing does not clear pump_flow.
      const next = engine.process(batch([{ ts: T0 + 1000, m: { pump_flow: 150, vibration_g: 20 } }]), T0 + 1000);
      expect(next.events.map((e) => [e.kind, e.rule])).toEqual([
        ['raise', 'hi:pump_flow'],
        ['clear', 'hi:vibration_g'],
      ]);
      expect(next.events[1]?.message.en).toMatch(/^vibration_g 20 back/);
    });

    it('skip counters and the machine state', () => {
      const engine = new AnalyticsEngine(each, parseEnergyConfig({}));
      expect(engine.process(batch([{ ts: T0, m: { energy_kwh: 5000, output_units: 900, gas_m3: 700, state: 2 } }]), T0).events).toEqual([]);
    });

    it(`track at most ${EACH_METRIC_CAP} metrics per rule and device`, () => {
      const engine = new AnalyticsEngine(each, parseEnergyConfig({}));
      const wide = Object.fromEntries(Array.from({ length: EACH_METRIC_CAP + 10 }, (_, i) => [`m${i}`, 500]));
      expect(engine.process(batch([{ ts: T0, m: wide }]), T0).events).toHaveLength(EACH_METRIC_CAP);
      // A metric first seen after the cap is reached is not judged.
      expect(engine.process(batch([{ ts: T0 + 1000, m: { late: 500 } }]), T0 + 1000).events).toEqual([]);
    });

    it('give a per-sample detector the whole sample', () => {
      const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'joint', metric: '+', detector: 'multivariate', params: { warmupSamples: 50, holdSamples: 3, judgeEveryS: 0 } }] } } }); // every sample (5 s apart), see cadence.test.ts
      const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
      // flow and current move together (current = 0.2 × flow), with a little independent noise;
      // flow varies from one sample to the next (a slow wave's samples count as few independent
      // ones, and the detector would not judge them yet).
      const at = (i: number, flow: number, current: number): Sample => ({ ts: T0 + i * 5000, m: { flow_m3_h: flow, current_a: current, energy_kwh: i } });
      const normal = Array.from({ length: 300 }, (_, i) => {
        const flow = 50 + 5 * Math.sin(i * 2.3);
        return at(i, flow, 0.2 * flow + 0.02 * Math.sin(i * 1.7));
      });
      expect(engine.process(batch(normal), T0).events).toEqual([]);
      const out = engine.process(batch([at(300, 55, 9)]), T0);
      expect(out.events.map((e) => [e.kind, e.rule, e.metric])).toEqual([['raise', 'joint', '+']]);
      expect(out.events[0]?.message.en).toMatch(/^2 metrics no longer move together/);
    });

    it('give a per-sample detector the machine state: one model per state, judged after a short settle in each', () => {
      const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'joint', metric: '+', detector: 'multivariate', params: { warmupSamples: 50, holdSamples: 3, settleSamples: 5, judgeEveryS: 0 } }] } } });
      const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
      // Running (2) and idle (1) alternate every 40 samples; idle draws a third of the flow and current.
      const state = (i: number) => (Math.floor(i / 40) % 2 === 0 ? 2 : 1);
      const at = (i: number, currentShift = 0): Sample => {
        const k = state(i) === 2 ? 1 : 1 / 3;
        const flow = k * (50 + 5 * Math.sin(i * 2.3));
        return { ts: T0 + i * 5000, m: { state: state(i), flow_m3_h: flow, current_a: 0.2 * flow + 0.02 * k * Math.sin(i * 1.7) + currentShift } };
      };
      const normal = Array.from({ length: 800 }, (_, i) => at(i));
      // The state changes every 40 samples and the levels jump with it: nothing raised.
      expect(engine.process(batch(normal), T0).events).toEqual([]);
      // Sample 800 enters running: the first 5 samples settle, the sixth is judged and raised.
      const broken = Array.from({ length: 6 }, (_, j) => at(800 + j, 2));
      const out = engine.process(batch(broken), T0);
      expect(out.events.map((e) => [e.kind, e.ts])).toEqual([['raise', T0 + 805 * 5000]]);
      // With the state withheld, the same rows make one model that learned both levels, whose
      // spread is the jump between them: it misses the break the running model sees.
      const blind = new AnalyticsEngine(rules, parseEnergyConfig({}));
      const strip = (x: Sample): Sample => ({ ts: x.ts, m: { flow_m3_h: x.m.flow_m3_h!, current_a: x.m.current_a! } });
      const blindEvents = blind.process(batch([...normal, ...broken].map(strip)), T0).events;
      expect(blindEvents).toEqual([]);
    });

    it('a per-sample detector must be on +, and silence cannot be', () => {
      expect(() => parseRulesConfig({ classes: { default: { rules: [{ id: 'j', metric: 'current_a', detector: 'multivariate' }] } } })).toThrowError(/must be \+/);
      expect(() => parseRulesConfig({ classes: { default: { rules: [{ id: 's', metric: '+', detector: 'silence', params: { timeoutS: 5 } }] } } })).toThrowError(/name a metric, or \*/);
    });
  });

  it('derived energy inputs: intensity and power factor under load, in mostly loaded windows; idle share without stopped standby', () => {
    // Rules that raise on every input, so the events list the inputs the engine derived.
    const every = (id: string, metric: string, params: Record<string, number>) => ({ id, metric, detector: 'limit', category: 'energy', params });
    const rules = parseRulesConfig({
      classes: { default: { inherit: false, rules: [every('int', 'intensity_kwh_per_unit', { high: -1 }), every('idle', 'idle_share', { high: -1 }), every('pf', 'power_factor_avg', { low: 2 })] } },
    });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    // 0–10 min running at 36 kW (PF 0.92, a part every 10 s); 10–15 min idle at 12 kW (PF 0.3);
    // 15–30 min stopped at 0.6 kW (PF 0.4); 30–45 min running at 36 kW with PF 0.8.
    const kwhAt = (t: number) => (t <= 600 ? (36 * t) / 3600 : t <= 900 ? 6 + (12 * (t - 600)) / 3600 : t <= 1800 ? 7 + (0.6 * (t - 900)) / 3600 : 7.15 + (36 * (t - 1800)) / 3600);
    const samples: Sample[] = [];
    for (let t = 0; t <= 2700; t += 10) {
      const state = t < 600 ? 2 : t < 900 ? 1 : t < 1800 ? 0 : 2;
      const pf = t < 600 ? 0.92 : t < 900 ? 0.3 : t < 1800 ? 0.4 : 0.8;
      const parts = Math.min(t, 600) / 10 + Math.max(0, t - 1800) / 10;
      samples.push({ ts: T0 + t * 1000, m: { state, energy_kwh: 1000 + kwhAt(t), output_units: parts, power_factor: pf } });
    }
    const events = engine.process(batch(samples), T0).events;
    const inputs = (rule: string) => events.filter((e) => e.rule === rule).map((e) => [(e.ts - T0) / 60_000, Number(e.value.toFixed(4))]);
    // 6 kWh under load for 60 parts (not 7 kWh: the idle kWh are the idle share's); the stopped window has no output.
    expect(inputs('int')).toEqual([
      [15, 0.1],
      [45, 0.1],
    ]);
    // 1 kWh idle of 7; the stopped window's standby is not idle waste.
    expect(inputs('idle')).toEqual([
      [15, Number((1 / 7).toFixed(4))],
      [30, 0],
      [45, 0],
    ]);
    // Under load only (the interval ending with the first idle sample carries its PF 0.3); nothing for the stopped window.
    expect(inputs('pf')).toEqual([
      [15, Number(((59 * 0.92 + 0.3) / 60).toFixed(4))],
      [45, 0.8],
    ]);
  });
});
