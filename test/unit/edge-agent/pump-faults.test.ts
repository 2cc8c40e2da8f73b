import { describe, expect, it } from 'vitest';
import { benchRuns, MACHINE_CLASSES, Plant, PUMP_CLASS, PUMP_FAULTS, SCHEDULED_FAULTS, Simulation, parseClasses, parseFaultKinds, type FaultKind, type Machine } from '../../../edge-agent/simulator/index.js';

const T0 = Date.UTC(2026, 10, 2);
const PUMPS = { sites: 1, linesPerSite: 1, machinesPerLine: 2, seed: 5, classes: [PUMP_CLASS] };

/** The same seeded pump with and without the fault (a fault draws no random numbers, so the difference is its signature). */
function pair() {
  const healthy = new Plant(PUMPS);
  const sick = new Plant(PUMPS);
  return { healthy, sick, h: healthy.machines[0]!, s: sick.machines[0]! };
}

/** Step both `seconds` at 1 s, running; the mean of every reading over the last `window` seconds, healthy and sick. */
function means(p: ReturnType<typeof pair>, seconds: number, window = 120) {
  const sums = { h: {} as Record<string, number>, s: {} as Record<string, number> };
  for (let t = 0; t < seconds; t++) {
    for (const plant of [p.healthy, p.sick]) {
      for (const m of plant.machines) m.state = 'running';
      plant.step(1000);
    }
    if (t < seconds - window) continue;
    for (const [k, m] of [['h', p.h], ['s', p.s]] as [keyof typeof sums, Machine][]) for (const [name, v] of Object.entries(m.sample(0).m)) sums[k][name] = (sums[k][name] ?? 0) + v / window;
  }
  /** Sick over healthy, per metric. */
  return (name: string) => sums.s[name]! / sums.h[name]!;
}

/** Standard deviation of a metric over `seconds` of a sick pump, divided by the healthy one's. */
function roughness(p: ReturnType<typeof pair>, seconds: number, name: string): number {
  const xs: { h: number[]; s: number[] } = { h: [], s: [] };
  for (let t = 0; t < seconds; t++) {
    for (const plant of [p.healthy, p.sick]) plant.step(1000);
    xs.h.push(p.h.sample(0).m[name]!);
    xs.s.push(p.s.sample(0).m[name]!);
  }
  const sd = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  };
  return sd(xs.s) / sd(xs.h);
}

describe('pump faults: signatures against the same pump without the fault', () => {
  it('a pump reports flow, both pressures and the fluid temperature; other machines do not', () => {
    const pump = new Plant(PUMPS).machines[0]!.sample(0).m;
    expect(Object.keys(pump)).toEqual(expect.arrayContaining(['flow_m3_h', 'pressure_kpa', 'suction_kpa', 'fluid_temperature_c', 'current_a', 'vibration_mm_s']));
    const cnc = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 1, seed: 5 }).machines[0]!.sample(0).m;
    expect(cnc).not.toHaveProperty('flow_m3_h');
  });

  it('cavitation: suction, flow and discharge pressure down, vibration up and rough, current erratic', () => {
    const p = pair();
    means(p, 600);
    p.sick.injectFault(p.s.ref, 'cavitation');
    const r = means(p, 600);
    expect(r('suction_kpa')).toBeLessThan(0.7);
    expect(r('flow_m3_h')).toBeLessThan(0.85);
    expect(r('pressure_kpa')).toBeLessThan(0.9);
    expect(r('vibration_mm_s')).toBeGreaterThan(1.8);
    expect(roughness(p, 300, 'current_a')).toBeGreaterThan(2);
  });

  it('clogged-filter: suction, flow and discharge pressure fall over the first hour, power with them', () => {
    const p = pair();
    means(p, 600);
    p.sick.injectFault(p.s.ref, 'clogged-filter');
    const early = means(p, 120, 60);
    const late = means(p, 3600);
    expect(early('flow_m3_h')).toBeGreaterThan(0.95);
    expect(late('flow_m3_h')).toBeLessThan(0.75);
    expect(late('suction_kpa')).toBeLessThan(0.6);
    expect(late('pressure_kpa')).toBeLessThan(0.93);
    expect(late('power_kw')).toBeLessThan(0.9);
    expect(late('vibration_mm_s')).toBeGreaterThan(1.1);
  });

  it('misalignment: vibration doubles, the motor warms and draws more current; the hydraulics are unchanged', () => {
    const p = pair();
    means(p, 600);
    p.sick.injectFault(p.s.ref, 'misalignment');
    const r = means(p, 1800);
    expect(r('vibration_mm_s')).toBeGreaterThan(1.8);
    expect(p.s.temperatureC - p.h.temperatureC).toBeGreaterThan(5);
    expect(r('current_a')).toBeGreaterThan(1.04);
    expect(r('flow_m3_h')).toBeCloseTo(1, 2);
    expect(r('pressure_kpa')).toBeCloseTo(1, 2);
  });

  it('valve-stuck: flow down by 45 %, discharge pressure up, power down, vibration up, the fluid warms', () => {
    const p = pair();
    means(p, 600);
    p.sick.injectFault(p.s.ref, 'valve-stuck');
    const r = means(p, 2400);
    expect(r('flow_m3_h')).toBeCloseTo(0.55, 1);
    expect(r('pressure_kpa')).toBeGreaterThan(1.1);
    expect(r('power_kw')).toBeLessThan(0.9);
    expect(r('vibration_mm_s')).toBeGreaterThan(1.2);
    expect(p.s.fluidC - p.h.fluidC).toBeGreaterThan(3);
  });

  it('only a pump can have a pump fault', () => {
    const cnc = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 1, seed: 5 }).machines[0]!;
    for (const kind of PUMP_FAULTS) {
      expect(cnc.canHave(kind)).toBe(false);
      expect(() => cnc.injectFault(kind)).toThrow(/only a pump/);
    }
    expect(() => parseFaultKinds('cavitation', MACHINE_CLASSES)).toThrow(/--classes/);
    // `all` on the factory's classes is the factory's faults, as before the pumps.
    expect(parseFaultKinds('all', MACHINE_CLASSES)).toEqual(SCHEDULED_FAULTS.filter((k) => !PUMP_FAULTS.includes(k)));
    expect(parseFaultKinds('all', parseClasses('factory,pump'))).toEqual(SCHEDULED_FAULTS);
    expect(() => parseClasses('factory,boiler')).toThrow(/boiler/);
  });

  it('a mixed fleet schedules pump faults on pumps only, and every machine one fault it can have', () => {
    const sim = new Simulation({ machines: 12, seed: 3, startTs: T0, hours: 12, intervalMs: 10_000, faults: parseFaultKinds('all', parseClasses('all')), classes: parseClasses('all') });
    expect(sim.scheduled).toHaveLength(12);
    const byDevice = new Map(sim.plant.machines.map((m) => [`${m.ref.site}/${m.ref.line}/${m.ref.device}`, m]));
    for (const f of sim.scheduled) expect(byDevice.get(f.device)!.canHave(f.kind as FaultKind)).toBe(true);
    expect(sim.scheduled.filter((f) => PUMP_FAULTS.includes(f.kind as FaultKind)).length).toBeGreaterThan(0);
  });
});

describe('pump bench runs', () => {
  const options = { units: 8, rows: 1500, intervalMs: 1000, seed: 2, startTs: T0, stretch: [0.2, 0.5] as const };

  it('eight channels in the bench own names, none a catalogue metric, no state; one fault stretch of 20–50 % of the rows', () => {
    const runs = benchRuns(options);
    expect(runs.map((r) => r.label.kind)).toEqual([...PUMP_FAULTS, ...PUMP_FAULTS]);
    for (const run of runs) {
      const rows = [...run.readings()];
      expect(rows).toHaveLength(1500);
      expect(Object.keys(rows[0]!.m).sort()).toEqual(['discharge_bar', 'flow_lpm', 'fluid_temp', 'motor_current', 'motor_temp', 'suction_bar', 'vibration_g', 'voltage']);
      const inside = rows.filter((r) => r.ts >= run.label.start && r.ts <= run.label.end).length;
      expect(inside / rows.length).toBeGreaterThanOrEqual(0.2 - 1e-3);
      expect(inside / rows.length).toBeLessThanOrEqual(0.5 + 1e-3);
      expect(run.label.start).toBeGreaterThanOrEqual(T0 + 0.25 * 1500 * 1000 - 1000);
    }
  });

  it('each fault moves its channels inside its window, against the same run before it', () => {
    const shift = (rows: { ts: number; m: Record<string, number> }[], start: number, end: number, name: string) => {
      const before = rows.filter((r) => r.ts < start).map((r) => r.m[name]!);
      const inside = rows.filter((r) => r.ts >= start && r.ts <= end).map((r) => r.m[name]!);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      return mean(inside) / mean(before);
    };
    const expected: Record<string, [string, 'down' | 'up'][]> = {
      cavitation: [['suction_bar', 'down'], ['flow_lpm', 'down'], ['vibration_g', 'up']],
      'clogged-filter': [['suction_bar', 'down'], ['flow_lpm', 'down']],
      misalignment: [['vibration_g', 'up'], ['motor_temp', 'up']],
      'valve-stuck': [['flow_lpm', 'down'], ['discharge_bar', 'up']],
    };
    for (const run of benchRuns(options)) {
      const rows = [...run.readings()];
      for (const [name, way] of expected[run.label.kind]!) {
        const r = shift(rows, run.label.start, run.label.end, name);
        if (way === 'down') expect(r, `${run.unit} ${run.label.kind} ${name}`).toBeLessThan(0.97);
        else expect(r, `${run.unit} ${run.label.kind} ${name}`).toBeGreaterThan(1.02);
      }
    }
  });

  it('the same options give the same runs; bad options are refused', () => {
    const a = benchRuns(options)[3]!;
    const b = benchRuns(options)[3]!;
    expect([...a.readings()]).toEqual([...b.readings()]);
    expect(a.label).toEqual(b.label);
    expect(() => benchRuns({ ...options, stretch: [0.5, 0.2] })).toThrow(/stretch/);
    expect(() => benchRuns({ ...options, kinds: ['leak'] })).toThrow(/not a pump fault/);
  });
});
