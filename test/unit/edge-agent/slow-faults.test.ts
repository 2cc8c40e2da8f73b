import { describe, expect, it } from 'vitest';
import { deviceKey } from '../../../src/contract/index.js';
import { MACHINE_CLASSES, Plant, SCHEDULED_FAULTS, Simulation, planFaults, parseFaultKinds, type FaultKind, type Machine } from '../../../edge-agent/index.js';

const T0 = Date.UTC(2026, 10, 2);
const SHAPE = { sites: 1, linesPerSite: 1, machinesPerLine: 5, seed: 11 };

/**
 * Two copies of the same seeded plant; the fault goes into one. A fault draws no random numbers,
 * so the copies stay identical except for the fault: the difference is the fault's signature alone.
 */
function pair(device = 'site-01/line-01/m-002') {
  const healthy = new Plant(SHAPE);
  const sick = new Plant(SHAPE);
  return { healthy, sick, h: healthy.machine(device)!, s: sick.machine(device)! };
}

/** Step both plants `seconds` at 10 s, with every machine held in `state`; returns the mean of `read` over the last minute. */
function run(p: ReturnType<typeof pair>, seconds: number, read: (m: Machine) => number, state: Machine['state'] = 'running') {
  const last: { h: number; s: number }[] = [];
  for (let t = 0; t < seconds; t += 10) {
    for (const plant of [p.healthy, p.sick]) {
      for (const m of plant.machines) m.state = state;
      plant.step(10_000);
    }
    if (t >= seconds - 60) last.push({ h: read(p.h), s: read(p.s) });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { h: mean(last.map((x) => x.h)), s: mean(last.map((x) => x.s)) };
}

const metric = (name: string) => (m: Machine) => m.sample(0).m[name]!;

describe('slow faults: signatures against the same machine without the fault', () => {
  it('bearing-wear: vibration rises slowly, then faster, only while turning; a little heat', () => {
    const p = pair();
    p.sick.injectFault(p.s.ref, 'bearing-wear');
    const vib = metric('vibration_mm_s');
    const extra = [1, 2, 3, 4].map(() => {
      const r = run(p, 3600, vib);
      return r.s - r.h;
    });
    expect(extra[0]).toBeLessThan(0.5);
    expect(extra[3]).toBeGreaterThan(p.s.cls.vibrationMmS);
    // Accelerating: each hour adds more than the one before.
    expect(extra[3]! - extra[2]!).toBeGreaterThan(extra[1]! - extra[0]!);
    expect(p.s.temperatureC).toBeGreaterThan(p.h.temperatureC + 1);
    const stopped = run(p, 120, vib, 'stopped');
    expect(stopped.s).toBeLessThan(0.2);
  });

  it('cooling-loss: the temperature settles at a higher equilibrium, with the thermal time constant', () => {
    const p = pair();
    run(p, 3600, metric('temperature_c'));
    p.sick.injectFault(p.s.ref, 'cooling-loss');
    const early = run(p, 120, metric('temperature_c'));
    const settled = run(p, 4 * 3600, metric('temperature_c'));
    const later = run(p, 3600, metric('temperature_c'));
    const rise = p.s.cls.tempRiseC;
    expect(early.s - early.h).toBeLessThan(0.3 * rise);
    expect(settled.s - settled.h).toBeGreaterThan(0.45 * rise);
    expect(settled.s - settled.h).toBeLessThan(Math.min(40, 0.9 * rise) + 1);
    // Equilibrium: the last hour adds (almost) nothing.
    expect(Math.abs(later.s - later.h - (settled.s - settled.h))).toBeLessThan(2);
  });

  it('leak: up to 12 % of rated power more while running or idle, none when stopped', () => {
    const p = pair();
    p.sick.injectFault(p.s.ref, 'leak');
    const power = metric('power_kw');
    const r = run(p, 3600, power);
    expect((r.s - r.h) / p.s.ratedKw).toBeCloseTo(0.12, 1);
    const idle = run(p, 300, power, 'idle');
    expect((idle.s - idle.h) / p.s.ratedKw).toBeCloseTo(0.12, 1);
    const stopped = run(p, 300, power, 'stopped');
    expect(Math.abs(stopped.s - stopped.h)).toBeLessThan(0.01 * p.s.ratedKw);
    expect(p.s.outputUnits).toBe(p.h.outputUnits);
  });

  it('pf-degradation: power factor 0.12 lower, current higher for the same power', () => {
    const p = pair();
    p.sick.injectFault(p.s.ref, 'pf-degradation');
    const pf = run(p, 600, metric('power_factor'));
    expect(pf.h - pf.s).toBeCloseTo(0.12, 2);
    expect(pf.s).toBeLessThan(0.8);
    const current = run(p, 60, metric('current_a'));
    expect(current.s / current.h).toBeGreaterThan(1.1);
    expect(p.s.powerKw).toBeCloseTo(p.h.powerKw, 6);
  });

  it('sensor-drift: the reading climbs 2 °C an hour, the true temperature does not', () => {
    const p = pair();
    p.sick.injectFault(p.s.ref, 'sensor-drift');
    const r = run(p, 3 * 3600, metric('temperature_c'));
    expect(r.s - r.h).toBeGreaterThan(5.5);
    expect(r.s - r.h).toBeLessThan(6.5);
    expect(p.s.temperatureC).toBe(p.h.temperatureC);
  });

  it('overload: 35 % of rated power more while running for the same output; hotter, more current', () => {
    const p = pair();
    p.sick.injectFault(p.s.ref, 'overload');
    const power = run(p, 3600, metric('power_kw'));
    expect((power.s - power.h) / p.s.ratedKw).toBeCloseTo(0.35, 1);
    expect(p.s.outputUnits).toBe(p.h.outputUnits);
    expect(p.s.temperatureC).toBeGreaterThan(p.h.temperatureC + 2);
    const idle = run(p, 300, metric('power_kw'), 'idle');
    expect(Math.abs(idle.s - idle.h)).toBeLessThan(0.01 * p.s.ratedKw);
  });

  it('clearing a fault ends its signature', () => {
    const p = pair();
    p.sick.injectFault(p.s.ref, 'pf-degradation');
    run(p, 600, metric('power_factor'));
    p.sick.clearFaults(p.s.ref, 'pf-degradation');
    const after = run(p, 60, metric('power_factor'));
    expect(after.s).toBe(after.h);
  });
});

describe('fault schedule and labels', () => {
  const span = { startTs: T0, endTs: T0 + 24 * 3_600_000 };

  it('one fault per device, every kind in turn, onset after 40 % of the span, repaired before its end; same seed, same plan', () => {
    const devices = Array.from({ length: 40 }, (_, i) => `s/l/m-${i}`);
    const plan = planFaults({ devices, ...span, kinds: SCHEDULED_FAULTS, seed: 3 });
    expect(plan).toHaveLength(40);
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(SCHEDULED_FAULTS));
    for (const f of plan) {
      expect(f.start).toBeGreaterThanOrEqual(T0 + 0.4 * 24 * 3_600_000);
      expect(f.end).toBeGreaterThan(f.start + 3_600_000 - 1);
      expect(f.end).toBeLessThanOrEqual(span.endTs);
    }
    expect(planFaults({ devices, ...span, kinds: SCHEDULED_FAULTS, seed: 3 })).toEqual(plan);
    expect(planFaults({ devices, ...span, kinds: SCHEDULED_FAULTS, seed: 4 })).not.toEqual(plan);
  });

  it('rejects unknown or unschedulable kinds by name', () => {
    expect(() => parseFaultKinds('leak,meltdown')).toThrow(/meltdown/);
    expect(() => planFaults({ devices: ['a'], ...span, kinds: ['silence'], seed: 1 })).toThrow(/silence/);
    expect(parseFaultKinds('none')).toEqual([]);
    expect(parseFaultKinds('all')).toEqual(SCHEDULED_FAULTS);
  });

  it('a simulation injects each scheduled fault exactly over its label window', () => {
    // The factory's classes: every kind but the pump faults, which need a pump.
    const factoryKinds = parseFaultKinds('all', MACHINE_CLASSES);
    const sim = new Simulation({ machines: 8, seed: 2, startTs: T0, hours: 12, intervalMs: 30_000, faults: SCHEDULED_FAULTS });
    const labels = sim.scheduled;
    expect(factoryKinds).toHaveLength(8);
    expect(labels.map((l) => l.kind).sort()).toEqual([...factoryKinds].sort());
    let checked = 0;
    for (const { ts } of sim.steps()) {
      for (const l of labels) {
        const m = sim.plant.machine(l.device)!;
        expect(m.faults.includes(l.kind as FaultKind)).toBe(ts >= l.start && ts < l.end);
        checked++;
      }
    }
    expect(checked).toBe(sim.stepCount * 8);
  });

  it('the stuck sensor repeats its reading inside the window and moves outside it', () => {
    const sim = new Simulation({ machines: 8, seed: 2, startTs: T0, hours: 12, intervalMs: 30_000, faults: ['stuck'] });
    const l = sim.scheduled[0]!;
    const inside = new Set<number>();
    const outside = new Set<number>();
    for (const { ts, samples } of sim.steps()) {
      const s = samples.find((x) => deviceKey(x.machine.ref) === l.device)!.sample.m.temperature_c!;
      if (ts >= l.start && ts < l.end) inside.add(s);
      else if (ts < l.start) outside.add(s);
    }
    expect(inside.size).toBe(1);
    expect(outside.size).toBeGreaterThan(100);
  });

  it('natural trips are labelled from the first sign to the end of the repair; a healthy run has no other labels', () => {
    const sim = new Simulation({ machines: 20, seed: 5, startTs: T0, hours: 24, intervalMs: 10_000, faults: [] });
    const faultSeen = new Map<string, number[]>();
    for (const { ts } of sim.steps()) for (const m of sim.plant.machines) if (m.state === 'fault') (faultSeen.get(deviceKey(m.ref)) ?? faultSeen.set(deviceKey(m.ref), []).get(deviceKey(m.ref))!).push(ts);
    const labels = sim.labels();
    expect(labels.length).toBeGreaterThan(5);
    for (const l of labels) {
      expect(l.kind).toBe('trip');
      expect(l.end).toBeGreaterThan(l.start);
    }
    // Every sample in the fault state lies inside a trip label of its machine.
    for (const [device, times] of faultSeen) for (const ts of times) expect(labels.some((l) => l.device === device && ts >= l.start && ts <= l.end)).toBe(true);
  });

  it('a healthy simulation is the plain plant: same samples as stepping a Plant of the same shape', () => {
    const sim = new Simulation({ machines: 10, seed: 9, startTs: T0, hours: 1, intervalMs: 5000, faults: [] });
    const plant = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 10, seed: 9 });
    let k = 0;
    for (const { ts, samples } of sim.steps()) {
      if (k++ > 0) plant.step(5000);
      expect(samples.map((s) => s.sample)).toEqual(plant.sample(ts).map((s) => s.sample));
    }
  });
});
