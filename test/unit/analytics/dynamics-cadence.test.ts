import { describe, expect, it } from 'vitest';
import { AnalyticsEngine, type AnomalyEvent } from '../../../src/analytics/index.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import type { DynamicsState } from '../../../src/analytics/detectors/dynamics.js';
import { parseRulesConfig } from '../../../src/analytics/rules/index.js';
import { machine } from './detectors/dynamics-machine.js';

/**
 * The dynamics detector as a rule on every metric, judged through the engine's cadence: a 1 Hz
 * machine is judged every 9 s on 9-sample means, so its blocks, memory and warm-ups span about
 * the times they were chosen for on data 10 s apart, where every sample is judged as it comes.
 */
const T0 = Date.UTC(2024, 0, 1);
const REF = { site: 's1', line: 'l1', device: 'd1' };

interface Run {
  events: AnomalyEvent[];
  state: DynamicsState;
}

/** `hours` of the test machine sampled every `dtS` s (a fault from `fault.hour` on) through an engine whose only rule is `dynamics` with `judgeEveryS`. */
function run(dtS: number, judgeEveryS: number | undefined, hours: number, seed: number, fault: { kind: 'cooling' | 'drift'; hour: number } | null = null): Run {
  const params = judgeEveryS === undefined ? {} : { judgeEveryS };
  const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'dyn', metric: '+', detector: 'dynamics', params }] } } });
  const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
  const rows = machine(Math.round((hours * 3600) / dtS), seed, fault && { kind: fault.kind, from: Math.round((fault.hour * 3600) / dtS) }, dtS);
  const events: AnomalyEvent[] = [];
  rows.forEach(({ state, values }, i) => {
    const ts = T0 + i * dtS * 1000;
    events.push(...engine.process({ ...REF, seq: null, samples: [{ ts, m: { ...values, state } }] }, ts).events);
  });
  return { events, state: engine.exportDevice('s1/l1/d1')!.rules.dyn!.state as unknown as DynamicsState };
}

/** Hours from the fault's onset to the first raise. */
function delayH({ events }: Run, onsetH: number): number {
  const raise = events.find((e) => e.kind === 'raise');
  expect(raise).toBeDefined();
  return (raise!.ts - T0) / 3_600_000 - onsetH;
}

describe('dynamics on a cadence (off-dynamics at 1 Hz)', () => {
  it('a healthy 1 Hz machine raises nothing in a day, judged every 9 s on means; judged on every sample it raises', () => {
    const cadenced = run(1, undefined, 24, 1);
    expect(cadenced.events).toEqual([]);
    // Judged means 9 s apart, and about as many learned as at 10 s (a day's learning spans a day).
    expect(cadenced.state.stepS).toBeCloseTo(9, 6);
    const at10 = run(10, undefined, 24, 1).state;
    expect(cadenced.state.n / at10.n).toBeGreaterThan(0.9);
    expect(cadenced.state.n / at10.n).toBeLessThan(1.25);
    // Every sample at 1 Hz: 1-min blocks and a 33-min memory, too short for the temperature's wander.
    expect(run(1, 0, 4, 1).events.filter((e) => e.kind === 'raise').length).toBeGreaterThan(0);
  });

  // Lost cooling, and a temperature sensor reading 2 °C an hour higher, from hour 10.
  it.each([
    { fault: 'cooling' as const, hours: 12, seed: 4, message: /^temperature_c .* keeps rising faster than its own dynamics/ },
    { fault: 'drift' as const, hours: 14, seed: 6, message: /^temperature_c / },
  ])('raises on $fault at 1 Hz within about the time it takes at 10 s, naming the temperature', ({ fault, hours, seed, message }) => {
    const fast = run(1, undefined, hours, seed, { kind: fault, hour: 10 });
    const at1 = delayH(fast, 10);
    const at10 = delayH(run(10, undefined, hours, seed, { kind: fault, hour: 10 }), 10);
    expect(at10).toBeGreaterThanOrEqual(0);
    expect(at1).toBeGreaterThanOrEqual(0);
    expect(at1).toBeLessThan(at10 + 0.25);
    expect(fast.events[0]!.message.en).toMatch(message);
  });

  it('counts gaps in judged means: a 1 Hz device silent for 40 s (over 3 × 9 s) is not stepped across, for 20 s it is', () => {
    const rules = parseRulesConfig({ classes: { default: { inherit: false, rules: [{ id: 'dyn', metric: '+', detector: 'dynamics' }] } } });
    const engine = new AnalyticsEngine(rules, parseEnergyConfig({}));
    const rows = machine(3600, 1, null, 1);
    const at = (i: number, ts: number) => engine.process({ ...REF, seq: null, samples: [{ ts, m: { ...rows[i]!.values, state: 2 } }] }, ts);
    for (let i = 0; i < 3000; i++) at(i, T0 + i * 1000);
    // Steps taken in the current block of 60 (a gap takes none).
    const inBlock = (): number => (engine.exportDevice('s1/l1/d1')!.rules.dyn!.state as unknown as DynamicsState).inBlock;
    const before = inBlock();
    at(3000, T0 + 3039_000); // 40 s after the last sample: judged alone, a gap
    expect(inBlock()).toBe(before);
    for (let i = 3001; i < 3010; i++) at(i, T0 + (i + 39) * 1000); // the next mean is a step again
    expect(inBlock()).toBe((before + 1) % 60);
    at(3010, T0 + 3068_000); // 20 s later: a step (2.2 × the usual 9 s)
    expect(inBlock()).toBe((before + 2) % 60);
  });

  it('judges data 10 s apart sample by sample: the same events and state as with judgeEveryS 0', () => {
    const cadenced = run(10, undefined, 12, 4, { kind: 'cooling', hour: 10 });
    const each = run(10, 0, 12, 4, { kind: 'cooling', hour: 10 });
    expect(cadenced.events.length).toBeGreaterThan(0);
    expect(cadenced).toEqual(each);
  });
});
