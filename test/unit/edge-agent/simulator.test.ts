import { describe, expect, it } from 'vitest';
import { deviceKey } from '../../../src/contract/index.js';
import { MACHINE_CLASSES, Plant, Rng, type PlantShape } from '../../../edge-agent/index.js';

const SHAPE: PlantShape = { sites: 2, linesPerSite: 2, machinesPerLine: 5, seed: 42 };
const T0 = Date.UTC(2026, 10, 1);

function run(shape: PlantShape = SHAPE, steps = 300, dtMs = 1000) {
  const plant = new Plant(shape);
  const out: { key: string; ts: number; m: Record<string, number> }[] = [];
  for (let k = 0; k < steps; k++) {
    if (k > 0) plant.step(dtMs);
    for (const { machine, sample } of plant.sample(T0 + k * dtMs)) out.push({ key: deviceKey(machine.ref), ...sample });
  }
  return out;
}

describe('factory simulator: determinism', () => {
  it('same seed ⇒ identical samples; another seed ⇒ other samples', () => {
    const a = run();
    expect(run()).toEqual(a);
    const b = run({ ...SHAPE, seed: 43 });
    expect(b).toHaveLength(a.length);
    expect(b).not.toEqual(a);
    // Not just one value: most samples differ.
    const differing = a.filter((s, i) => s.m.power_kw !== b[i]!.m.power_kw).length;
    expect(differing / a.length).toBeGreaterThan(0.9);
  });

  it('sample() only reads: sampling more often does not change the simulation', () => {
    const plain = new Plant(SHAPE);
    const busy = new Plant(SHAPE);
    for (let k = 1; k <= 200; k++) {
      plain.step(1000);
      busy.step(1000);
      busy.sample(0);
      busy.sample(1);
      expect(busy.sample(T0 + k)).toEqual(plain.sample(T0 + k));
    }
  });

  it('each machine has its own stream: a bigger plant leaves existing machines unchanged', () => {
    const key = 'site-01/line-02/m-003';
    const small = run({ ...SHAPE, sites: 1, machinesPerLine: 3 }).filter((s) => s.key === key);
    const big = run({ ...SHAPE, sites: 3, machinesPerLine: 8 }).filter((s) => s.key === key);
    expect(small.length).toBe(300);
    expect(big).toEqual(small);
  });
});

describe('factory simulator: plant model', () => {
  it('builds sites → lines → machines with contract-valid ids and rotating machine classes', () => {
    const plant = new Plant({ sites: 2, linesPerSite: 3, machinesPerLine: 6, seed: 1 });
    expect(plant.machines).toHaveLength(36);
    expect(plant.sites).toEqual(['site-01', 'site-02']);
    expect(plant.devices[0]).toEqual({ site: 'site-01', line: 'line-01', device: 'm-001' });
    expect(plant.machines[35]!.ref).toEqual({ site: 'site-02', line: 'line-03', device: 'm-006' });
    const classes = plant.machines.slice(0, 6).map((m) => m.cls.name);
    expect(classes).toEqual([...MACHINE_CLASSES.map((c) => c.name), MACHINE_CLASSES[0]!.name]);
    for (const m of plant.machines) {
      expect(m.ratedKw).toBeGreaterThanOrEqual(m.cls.ratedKw * 0.9 - 0.1);
      expect(m.ratedKw).toBeLessThanOrEqual(m.cls.ratedKw * 1.1 + 0.1);
    }
    expect(plant.machine('site-02/line-01/m-002')?.ref.device).toBe('m-002');
    expect(plant.machine({ site: 'site-09', line: 'line-01', device: 'm-001' })).toBeUndefined();
  });

  it('machine classes differ in rated power, and only some make parts or burn gas', () => {
    const rated = MACHINE_CLASSES.map((c) => c.ratedKw);
    expect(new Set(rated).size).toBe(rated.length);
    const plant = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: MACHINE_CLASSES.length, seed: 3 });
    for (const { machine, sample } of plant.sample(T0)) {
      expect('output_units' in sample.m).toBe(machine.cls.partsPerHour > 0);
      expect('gas_m3' in sample.m).toBe(machine.cls.gasM3PerHour > 0);
    }
  });

  it('rejects impossible shapes with the field named', () => {
    expect(() => new Plant({ ...SHAPE, sites: 0 })).toThrow(/sites must be an integer ≥ 1/);
    expect(() => new Plant({ ...SHAPE, linesPerSite: 1.5 })).toThrow(/linesPerSite/);
    expect(() => new Plant({ ...SHAPE, machinesPerLine: Number.NaN })).toThrow(/machinesPerLine/);
    expect(() => new Plant({ ...SHAPE, seed: Number.POSITIVE_INFINITY })).toThrow(/seed/);
    expect(() => new Plant({ sites: 100, linesPerSite: 100, machinesPerLine: 100, seed: 1 })).toThrow(/more than/);
    expect(() => new Plant(SHAPE).step(-1)).toThrow(/dtMs/);
  });
});

describe('Rng (mulberry32)', () => {
  it('is reproducible and uniform enough', () => {
    const r = new Rng(1);
    const xs = Array.from({ length: 20_000 }, () => r.next());
    expect(new Rng(1).next()).toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]!++;
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('gauss() has mean ≈ 0 and sd ≈ 1', () => {
    const r = new Rng(7);
    const xs = Array.from({ length: 20_000 }, () => r.gauss());
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});
