import { describe, expect, it } from 'vitest';
import { Plant } from '../../../edge-agent/index.js';
import { AnalyticsEngine, type AnomalyEvent, type DeviceStateJson } from '../../../src/analytics/index.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import { EMPTY_RULES_CONFIG } from '../../../src/analytics/rules/index.js';
import { fromJsonValue, toJsonValue } from '../../../src/analytics/state-json.js';
import { deviceKey, type TelemetryBatch } from '../../../src/contract/index.js';
import type { Point } from '../../../src/storage/point.js';

/**
 * A device handed over mid-stream (exported as JSON text by one engine, imported by another)
 * goes on exactly as if one engine had seen every sample: same alerts, same energy windows, and
 * at the end the same state, with the default rules (every detector kind, machines in steady
 * running past the settling hour, faults injected).
 */
const STEP_MS = 10_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 5, 0, 0, 0);

function plantBatches(hours: number): TelemetryBatch[] {
  const plant = new Plant({ sites: 1, linesPerSite: 2, machinesPerLine: 3, seed: 7 });
  const batches: TelemetryBatch[] = [];
  const faultAt = START + 3 * HOUR;
  for (let ts = START; ts < START + hours * HOUR; ts += STEP_MS) {
    plant.step(STEP_MS);
    if (ts === faultAt) {
      plant.machines[0]!.injectFault('overheat');
      plant.machines[3]!.injectFault('idle-waste');
    }
    // One batch per device per minute (six samples), as gateways send them.
    for (const { machine, sample } of plant.sample(ts)) {
      const last = batches.findLast((b) => deviceKey(b) === deviceKey(machine.ref));
      if (last && last.samples.length < 6) last.samples.push(sample);
      else batches.push({ ...machine.ref, seq: null, samples: [sample] });
    }
  }
  return batches;
}

function run(engine: AnalyticsEngine, batches: TelemetryBatch[]): { events: AnomalyEvent[]; points: Point[] } {
  const events: AnomalyEvent[] = [];
  const points: Point[] = [];
  for (const b of batches) {
    const out = engine.process(b, b.samples.at(-1)!.ts);
    events.push(...out.events);
    points.push(...out.points);
  }
  return { events, points };
}

describe('device state hand-over (export, JSON text, import)', () => {
  it('a device moved to another engine mid-stream gives the same alerts, energy windows and final state as one engine', () => {
    const batches = plantBatches(6);
    const split = Math.floor(batches.length * 0.6); // 3.6 h in: faults on, detectors settled
    const energy = parseEnergyConfig({});
    const one = new AnalyticsEngine(EMPTY_RULES_CONFIG, energy);
    const whole = run(one, batches);

    const first = new AnalyticsEngine(EMPTY_RULES_CONFIG, energy);
    run(first, batches.slice(0, split));
    const second = new AnalyticsEngine(EMPTY_RULES_CONFIG, energy);
    const keys = [...new Set(batches.map(deviceKey))];
    for (const key of keys) second.importDevice(JSON.parse(JSON.stringify(first.exportDevice(key))) as DeviceStateJson);
    const after = run(second, batches.slice(split));

    const before = run(new AnalyticsEngine(EMPTY_RULES_CONFIG, energy), batches.slice(0, split));
    expect(whole.events.length).toBeGreaterThan(before.events.length); // the faults raise after the split
    expect(after.events).toEqual(whole.events.slice(before.events.length));
    expect(after.points.length).toBeGreaterThan(100);
    expect(after.points).toEqual(whole.points.slice(before.points.length));
    for (const key of keys) expect(JSON.stringify(second.exportDevice(key))).toBe(JSON.stringify(one.exportDevice(key)));
  });

  it('a device the importing engine knew is replaced, and a forgotten one starts from nothing', () => {
    const batches = plantBatches(1);
    const energy = parseEnergyConfig({});
    const a = new AnalyticsEngine(EMPTY_RULES_CONFIG, energy);
    run(a, batches);
    const key = deviceKey(batches[0]!);
    const b = new AnalyticsEngine(EMPTY_RULES_CONFIG, energy);
    run(b, batches.slice(0, 5));
    b.importDevice(a.exportDevice(key)!);
    expect(b.exportDevice(key)).toEqual(a.exportDevice(key));
    expect(b.forgetDevice(key)).toBe(true);
    expect(b.exportDevice(key)).toBeNull();
    expect(b.forgetDevice(key)).toBe(false);
    // Its next batches build a new state, as in an engine that never saw it.
    const later = batches.filter((x) => deviceKey(x) === key).slice(-3);
    const fresh = new AnalyticsEngine(EMPTY_RULES_CONFIG, energy);
    const devices = b.stats().devices;
    run(b, later);
    run(fresh, later);
    expect(b.exportDevice(key)).toEqual(fresh.exportDevice(key));
    expect(b.stats().devices).toBe(devices + 1);
    expect(() => b.importDevice({ v: 2 } as unknown as DeviceStateJson)).toThrow(/unknown device state version 2/);
  });
});

describe('state JSON', () => {
  it('keeps maps, sets, typed arrays, non-finite numbers and undefined array entries through JSON text', () => {
    const value = { m: new Map<string, unknown>([['a', { x: -Infinity }], ['b', new Float64Array([1.5, Number.NaN, Infinity])]]), s: new Set([1, 2]), arr: [1, undefined, null], n: 3, t: 'x', skip: undefined };
    const back = fromJsonValue(JSON.parse(JSON.stringify(toJsonValue(value)))) as typeof value;
    expect(back.m.get('a')).toEqual({ x: -Infinity });
    expect(back.m.get('b')).toBeInstanceOf(Float64Array);
    expect([...(back.m.get('b') as Float64Array)]).toEqual([1.5, Number.NaN, Infinity]);
    expect(back.s).toEqual(new Set([1, 2]));
    expect(back.arr).toEqual([1, undefined, null]);
    expect(back).not.toHaveProperty('skip');
    expect({ n: back.n, t: back.t }).toEqual({ n: 3, t: 'x' });
  });

  it('refuses what it cannot restore (class instances, functions) with the reason', () => {
    expect(() => toJsonValue({ d: new Date(0) })).toThrow(/instance of Date/);
    expect(() => toJsonValue({ f: () => 1 })).toThrow(/cannot hand over a function/);
  });
});

describe('rule states made on first use', () => {
  it('keeps no state for a rule on a metric the device never sent, and exports the initial state it stands for', () => {
    const engine = new AnalyticsEngine(EMPTY_RULES_CONFIG, parseEnergyConfig({}));
    const ref = { site: 's1', line: 'l1', device: 'd1' };
    engine.process({ ...ref, seq: null, samples: [{ ts: START, m: { temperature_c: 60 } }, { ts: START + STEP_MS, m: { temperature_c: 61 } }] }, START + STEP_MS);
    const key = deviceKey(ref);
    const rules = engine.rules(key);
    const internal = (engine as unknown as { devices: Map<string, { states: unknown[] }> }).devices.get(key)!;
    const gas = rules.findIndex((r) => r.metric === 'gas_lel_pct' && r.detector === 'limit');
    const temperature = rules.findIndex((r) => r.metric === 'temperature_c');
    expect(gas).toBeGreaterThanOrEqual(0);
    expect(internal.states[gas]).toBeUndefined();
    expect(internal.states[temperature]).toBeDefined();
    // Exported as a fresh device's: a receiving engine of any version goes on from the initial state.
    const fresh = new AnalyticsEngine(EMPTY_RULES_CONFIG, parseEnergyConfig({}));
    fresh.process({ ...ref, seq: null, samples: [] }, START);
    expect(engine.exportDevice(key)!.rules[rules[gas]!.id]).toEqual(fresh.exportDevice(key)!.rules[rules[gas]!.id]);
    expect(engine.exportDevice(key)!.rules[rules[gas]!.id]!.state).toEqual(toJsonValue({ latch: { active: false, since: null }, side: null, lastTs: -Number.MAX_VALUE }));
  });
});
