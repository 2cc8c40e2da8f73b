import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMqttMessage, deviceKey, deviceTopic, MACHINE_STATES, type Sample } from '../../../src/contract/index.js';
import { Plant, type Machine } from '../../../edge-agent/index.js';

/**
 * Eight simulated hours of a 20-machine plant (4 of each class), sampled every 5 s: the
 * invariants hold at every sample, and the aggregate behaviour looks like a factory.
 * Checks are collected as violations (hundreds of thousands of expect() calls would dominate).
 */
const DT_MS = 5000;
const DT_S = DT_MS / 1000;
const HOURS = 8;
const T0 = Date.UTC(2026, 10, 1);
const { running: RUNNING, idle: IDLE, stopped: STOPPED, fault: FAULT } = MACHINE_STATES;

interface Row {
  machine: Machine;
  samples: Sample[];
}

let rows: Row[];

beforeAll(() => {
  const plant = new Plant({ sites: 1, linesPerSite: 2, machinesPerLine: 10, seed: 9 });
  const byKey = new Map<string, Row>();
  for (const machine of plant.machines) byKey.set(deviceKey(machine.ref), { machine, samples: [] });
  const steps = (HOURS * 3600 * 1000) / DT_MS;
  for (let k = 0; k < steps; k++) {
    if (k > 0) plant.step(DT_MS);
    for (const { machine, sample } of plant.sample(T0 + k * DT_MS)) byKey.get(deviceKey(machine.ref))!.samples.push(sample);
  }
  rows = [...byKey.values()];
});

/** Run `check` over every (previous, current) pair of every machine; collect what it reports. */
function everyStep(check: (machine: Machine, cur: Record<string, number>, prev: Record<string, number> | undefined, k: number, samples: Sample[]) => string | undefined): string[] {
  const out: string[] = [];
  for (const { machine, samples } of rows) {
    for (let k = 0; k < samples.length; k++) {
      const why = check(machine, samples[k]!.m, samples[k - 1]?.m, k, samples);
      if (why) out.push(`${deviceKey(machine.ref)} (${machine.cls.name}) sample ${k}: ${why}`);
    }
  }
  return out;
}

/** Samples the machine had been in `state` for at least `seconds` (so the power ramp has settled). */
function settledIn(state: number, seconds: number, samples: Sample[], k: number): boolean {
  const n = Math.ceil(seconds / DT_S);
  if (k < n) return false;
  for (let j = k - n; j <= k; j++) if (samples[j]!.m.state !== state) return false;
  return true;
}

describe(`machine physics over ${HOURS} simulated hours`, () => {
  it('produces only finite numbers, valid states, and every sample passes the contract decoder', () => {
    let decoded = 0;
    for (const { machine, samples } of rows) {
      for (let i = 0; i < samples.length; i += 100) {
        const chunk = samples.slice(i, i + 100);
        const r = decodeMqttMessage(deviceTopic(machine.ref, 'metrics'), Buffer.from(JSON.stringify({ seq: i / 100, samples: chunk })), undefined, T0 + HOURS * 3_600_000);
        expect(r.rejections).toEqual([]);
        expect(r.unknownMetrics).toEqual([]);
        decoded += r.batch!.samples.length;
      }
    }
    expect(decoded).toBe(20 * HOURS * 720);
    expect(everyStep((_, m) => (Object.values(m).every(Number.isFinite) ? undefined : `non-finite ${JSON.stringify(m)}`))).toEqual([]);
    expect(everyStep((_, m) => ([0, 1, 2, 3].includes(m.state!) ? undefined : `state ${m.state}`))).toEqual([]);
  });

  it('cumulative meters never decrease: energy_kwh, gas_m3, output_units', () => {
    const bad = everyStep((_, m, p) => {
      if (!p) return;
      for (const name of ['energy_kwh', 'gas_m3', 'output_units']) if (m[name] !== undefined && m[name] < p[name]!) return `${name} went back ${p[name]} → ${m[name]}`;
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('parts are counted only while running', () => {
    const bad = everyStep((_, m, p) => (p && m.output_units! > p.output_units! && m.state !== RUNNING ? `output grew in state ${m.state}` : undefined));
    expect(bad.slice(0, 10)).toEqual([]);
    // …and they are counted: every parts-making machine produced something.
    for (const { machine, samples } of rows) {
      if (machine.cls.partsPerHour === 0) continue;
      expect(samples.at(-1)!.m.output_units! - samples[0]!.m.output_units!, machine.cls.name).toBeGreaterThan(0);
    }
  });

  it('power follows the state: ≈0 when stopped, 15–30 % of rated when idle, rated × load when running, low in fault', () => {
    const bad = everyStep((machine, m, _p, k, samples) => {
      const r = machine.ratedKw;
      if (m.power_kw! < 0 || m.power_kw! > r * 1.1) return `power ${m.power_kw} kW outside 0…${r * 1.1}`;
      if (m.state === STOPPED && settledIn(STOPPED, 60, samples, k) && m.power_kw! > r * 0.025) return `stopped but drawing ${m.power_kw} kW`;
      if (m.state === IDLE && settledIn(IDLE, 60, samples, k) && (m.power_kw! < r * 0.14 || m.power_kw! > r * 0.31)) return `idle at ${m.power_kw} kW`;
      if (m.state === RUNNING && settledIn(RUNNING, 60, samples, k) && (m.power_kw! < r * 0.5 || m.power_kw! > r * 1.05)) return `running at ${m.power_kw} kW`;
      if (m.state === FAULT && settledIn(FAULT, 60, samples, k) && m.power_kw! > r * 0.09) return `fault at ${m.power_kw} kW`;
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('the energy meter integrates the measured power', () => {
    for (const { machine, samples } of rows) {
      const meter = samples.at(-1)!.m.energy_kwh! - samples[0]!.m.energy_kwh!;
      let integral = 0;
      for (let k = 1; k < samples.length; k++) integral += ((samples[k - 1]!.m.power_kw! + samples[k]!.m.power_kw!) / 2) * (DT_S / 3600);
      expect(Math.abs(meter - integral) / integral, deviceKey(machine.ref)).toBeLessThan(0.01);
    }
  });

  it('temperature has thermal inertia: bounded change per step, within physical bounds', () => {
    const bad = everyStep((machine, m, p) => {
      const cls = machine.cls;
      if (m.temperature_c! < 15 || m.temperature_c! > 25 + cls.tempRiseC * 1.2 + 20) return `temperature ${m.temperature_c} out of range`;
      if (!p) return;
      // The largest gap to the target (cold machine starts running, or a hot one stops) over the time constant, plus noise.
      const maxStep = ((cls.tempRiseC * 1.2 + 20) / cls.thermalTauS) * DT_S + 0.5;
      const step = Math.abs(m.temperature_c! - p.temperature_c!);
      if (step > maxStep) return `temperature jumped ${p.temperature_c} → ${m.temperature_c} (bound ${maxStep.toFixed(2)})`;
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('electrical values agree: ~400 V, power factor in (0, 1], P ≈ √3·V·I·PF', () => {
    const bad = everyStep((_, m) => {
      if (m.voltage_v! < 380 || m.voltage_v! > 420) return `voltage ${m.voltage_v}`;
      if (!(m.power_factor! > 0 && m.power_factor! <= 1)) return `power factor ${m.power_factor}`;
      const p = (Math.sqrt(3) * m.voltage_v! * m.current_a! * m.power_factor!) / 1000;
      if (Math.abs(p - m.power_kw!) > 0.01 * m.power_kw! + 0.05) return `P=${m.power_kw} but √3·V·I·PF=${p.toFixed(2)}`;
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('behaves like a factory: mostly running, every state visited, lower power factor and vibration at idle', () => {
    const byState = new Map<number, { n: number; pf: number; vib: number }>();
    let vibViolations = 0;
    for (const { samples } of rows) {
      for (const { m } of samples) {
        const s = byState.get(m.state!) ?? { n: 0, pf: 0, vib: 0 };
        s.n++;
        s.pf += m.power_factor!;
        s.vib += m.vibration_mm_s!;
        byState.set(m.state!, s);
        if (m.vibration_mm_s! < 0 || m.vibration_mm_s! > 20) vibViolations++;
      }
    }
    const total = [...byState.values()].reduce((a, s) => a + s.n, 0);
    const share = (state: number) => (byState.get(state)?.n ?? 0) / total;
    expect(share(RUNNING)).toBeGreaterThan(0.5);
    expect(share(RUNNING)).toBeLessThan(0.95);
    for (const state of [IDLE, STOPPED, FAULT]) expect(share(state), `state ${state}`).toBeGreaterThan(0);
    const mean = (state: number, f: 'pf' | 'vib') => byState.get(state)![f] / byState.get(state)!.n;
    expect(mean(IDLE, 'pf')).toBeLessThan(mean(RUNNING, 'pf') - 0.15);
    expect(mean(IDLE, 'vib')).toBeLessThan(mean(RUNNING, 'vib') / 2);
    expect(mean(STOPPED, 'vib')).toBeLessThan(mean(IDLE, 'vib'));
    expect(vibViolations).toBe(0);
  });

  it('natural faults develop: vibration climbs before a running machine trips', () => {
    let trips = 0;
    const bad: string[] = [];
    for (const { machine, samples } of rows) {
      for (let k = 6; k < samples.length; k++) {
        if (samples[k]!.m.state !== FAULT || samples[k - 1]!.m.state !== RUNNING) continue;
        trips++;
        const before = samples.slice(k - 6, k).reduce((a, s) => a + s.m.vibration_mm_s!, 0) / 6;
        if (before < machine.cls.vibrationMmS * 1.1 + 2) bad.push(`${deviceKey(machine.ref)} tripped at ${k} with vibration ${before.toFixed(2)} before`);
      }
    }
    expect(trips).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });
});
