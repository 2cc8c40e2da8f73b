import { describe, expect, it } from 'vitest';
import { decodeMqttMessage, deviceTopic, MACHINE_STATES } from '../../../src/contract/index.js';
import { Plant, Rng } from '../../../edge-agent/index.js';

const SHAPE = { sites: 1, linesPerSite: 2, machinesPerLine: 4, seed: 42 };
const T0 = Date.UTC(2026, 10, 1);

function run(shape = SHAPE, steps = 100, dtMs = 1000) {
  const plant = new Plant(shape);
  const out = [];
  for (let k = 0; k < steps; k++) {
    if (k > 0) plant.step(dtMs);
    out.push(...plant.sample(T0 + k * dtMs).map(({ machine, sample }) => ({ key: `${machine.ref.line}/${machine.ref.device}`, ...sample })));
  }
  return out;
}

describe('factory simulator', () => {
  it('is deterministic: same seed, same samples; another seed, other samples', () => {
    expect(run()).toEqual(run());
    expect(run({ ...SHAPE, seed: 43 })).not.toEqual(run());
  });

  it('builds sites → lines → machines with valid ids', () => {
    const plant = new Plant({ sites: 2, linesPerSite: 3, machinesPerLine: 5, seed: 1 });
    expect(plant.machines).toHaveLength(30);
    expect(plant.sites).toEqual(['site-01', 'site-02']);
    expect(plant.machines[29]!.ref).toEqual({ site: 'site-02', line: 'line-03', device: 'm-005' });
  });

  it('keeps its physics over a long run (8 simulated hours)', () => {
    const plant = new Plant({ sites: 1, linesPerSite: 2, machinesPerLine: 8, seed: 9 });
    const dt = 5000;
    const prev = new Map<string, { energy: number; output: number; temp: number; state: number }>();
    const seenStates = new Set<number>();
    const violations: string[] = [];
    for (let k = 0; k < (8 * 3600 * 1000) / dt; k++) {
      plant.step(dt);
      for (const { machine, sample } of plant.sample(T0 + k * dt)) {
        const m = sample.m;
        const key = machine.ref.device + machine.ref.line;
        // Plain checks collected as violations: half a million expect() calls would dominate the run.
        const bad = (what: string) => violations.push(`${key} step ${k}: ${what}`);
        if (!Object.values(m).every(Number.isFinite)) bad('non-finite value');
        seenStates.add(m.state!);
        if (m.state === MACHINE_STATES.stopped && m.power_kw! >= machine.cls.ratedKw * 0.25) bad(`stopped but drawing ${m.power_kw} kW`);
        if (m.power_kw! < 0 || m.power_kw! >= machine.cls.ratedKw * 1.2) bad(`power ${m.power_kw} kW out of range`);
        if (!(m.power_factor! > 0 && m.power_factor! <= 1)) bad(`power factor ${m.power_factor}`);
        const p = prev.get(key);
        if (p) {
          if (m.energy_kwh! < p.energy) bad('energy counter went backwards');
          if (m.output_units !== undefined) {
            if (m.output_units < p.output) bad('output counter went backwards');
            // Parts are counted only while running.
            if (m.output_units > p.output && p.state !== MACHINE_STATES.running && m.state !== MACHINE_STATES.running) bad('parts counted while not running');
          }
          // Thermal inertia: no jumps between two samples 5 s apart.
          if (Math.abs(m.temperature_c! - p.temp) >= 3) bad(`temperature jumped ${p.temp} → ${m.temperature_c}`);
        }
        prev.set(key, { energy: m.energy_kwh!, output: m.output_units ?? 0, temp: m.temperature_c!, state: m.state! });
      }
    }
    expect(violations.slice(0, 10)).toEqual([]);
    expect(seenStates.has(MACHINE_STATES.running)).toBe(true);
    expect(seenStates.has(MACHINE_STATES.idle)).toBe(true);
  });

  it('produces samples that pass the contract decoder with no rejection', () => {
    const plant = new Plant(SHAPE);
    const now = Date.now();
    for (const { machine, sample } of plant.sample(now - 1000)) {
      const r = decodeMqttMessage(deviceTopic(machine.ref, 'metrics'), Buffer.from(JSON.stringify({ seq: 0, samples: [sample] })));
      expect(r.rejections).toEqual([]);
      expect(r.unknownMetrics).toEqual([]);
    }
  });

  it('injected faults show up: overheat raises temperature, vibration grows, stuck freezes, silence stops samples', () => {
    const plant = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 4, seed: 5 });
    const [a, b, c, d] = plant.machines as [typeof plant.machines[0], typeof plant.machines[0], typeof plant.machines[0], typeof plant.machines[0]];
    for (const m of plant.machines) m.state = 'running';
    const t0 = a.temperatureC;
    const v0 = b.vibration;
    plant.injectFault(a.ref, 'overheat');
    plant.injectFault(b.ref, 'vibration');
    plant.injectFault(c.ref, 'stuck');
    plant.injectFault(d.ref, 'silence');
    const stuckAt = c.temperatureC;
    for (let k = 0; k < 600; k++) plant.step(1000);
    expect(a.temperatureC).toBeGreaterThan(t0 + 20);
    expect(b.vibration).toBeGreaterThan(v0 + 5);
    expect(c.temperatureC).toBe(stuckAt);
    expect(plant.sample(T0).map((s) => s.machine.ref.device)).not.toContain(d.ref.device);
  });

  it('Rng is uniform enough and reproducible', () => {
    const r = new Rng(1);
    const xs = Array.from({ length: 10_000 }, () => r.next());
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(new Rng(1).next()).toBe(xs[0]);
  });
});
