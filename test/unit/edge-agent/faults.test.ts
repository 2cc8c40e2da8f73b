import { describe, expect, it } from 'vitest';
import { Plant, type FaultKind } from '../../../edge-agent/index.js';

const T0 = Date.UTC(2026, 10, 1);

/** Two presses on one line: m-001 gets the fault, m-006 is its healthy twin. */
function twins() {
  const plant = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 6, seed: 5 });
  const sick = plant.machine('site-01/line-01/m-001')!;
  const healthy = plant.machine('site-01/line-01/m-006')!;
  expect(sick.cls.name).toBe(healthy.cls.name);
  return { plant, sick, healthy };
}

/** Keep every machine running (no random stops) for `seconds`, stepping 1 s. */
function runFor(plant: Plant, seconds: number, state: 'running' | 'stopped' = 'running') {
  for (let k = 0; k < seconds; k++) {
    for (const m of plant.machines) m.state = state;
    plant.step(1000);
  }
}

describe('fault injection', () => {
  it('overheat: the temperature climbs far above the healthy twin, and cools back once cleared', () => {
    const { plant, sick, healthy } = twins();
    runFor(plant, 600);
    const before = sick.sample(T0).m.temperature_c!;
    plant.injectFault(sick.ref, 'overheat');
    runFor(plant, 1200);
    const hot = sick.sample(T0).m.temperature_c!;
    expect(hot).toBeGreaterThan(before + 30);
    expect(hot).toBeGreaterThan(healthy.sample(T0).m.temperature_c! + 30);
    plant.clearFaults(sick.ref, 'overheat');
    runFor(plant, 1200);
    expect(sick.sample(T0).m.temperature_c!).toBeLessThan(hot - 20);
  });

  it('vibration: a developing bearing fault grows past ISO 10816 zone D (7.1 mm/s) while the machine runs', () => {
    const { plant, sick, healthy } = twins();
    plant.injectFault('site-01/line-01/m-001', 'vibration');
    const at = (s: number) => {
      runFor(plant, s);
      return sick.sample(T0).m.vibration_mm_s!;
    };
    const early = at(60);
    const late = at(600);
    expect(late).toBeGreaterThan(early + 5);
    expect(late).toBeGreaterThan(7.1);
    expect(late).toBeGreaterThan(healthy.sample(T0).m.vibration_mm_s! * 2);
    // A stopped machine does not turn, so even a worn bearing is quiet.
    runFor(plant, 30, 'stopped');
    expect(sick.sample(T0).m.vibration_mm_s!).toBeLessThan(1);
  });

  it('idle-waste: the machine is held idle, makes nothing, and draws most of its rated power', () => {
    const { plant, sick, healthy } = twins();
    runFor(plant, 60);
    plant.injectFault(sick.ref, 'idle-waste');
    const before = sick.sample(T0).m;
    for (let k = 0; k < 600; k++) {
      healthy.state = 'running';
      plant.step(1000);
    }
    const after = sick.sample(T0).m;
    expect(sick.state).toBe('idle');
    expect(after.output_units).toBe(before.output_units);
    expect(after.power_kw!).toBeGreaterThan(0.6 * sick.ratedKw);
    expect(after.energy_kwh! - before.energy_kwh!).toBeGreaterThan(0.6 * sick.ratedKw * (600 / 3600));
    expect(after.state).toBe(1);
    plant.clearFaults(sick.ref, 'idle-waste');
    for (let k = 0; k < 60; k++) {
      sick.state = 'idle';
      plant.step(1000);
    }
    expect(sick.sample(T0).m.power_kw!).toBeLessThan(0.35 * sick.ratedKw); // back to its normal idle draw
  });

  it('stuck: the temperature reading flatlines while the machine underneath keeps changing', () => {
    const { plant, sick } = twins();
    runFor(plant, 60);
    plant.injectFault(sick.ref, 'stuck');
    runFor(plant, 1);
    const frozen = sick.sample(T0).m.temperature_c!;
    const trueBefore = sick.temperatureC;
    const readings = new Set<number>();
    const power = new Set<number>();
    for (let k = 0; k < 600; k++) {
      runFor(plant, 1, 'stopped');
      readings.add(sick.sample(T0 + k).m.temperature_c!);
      power.add(sick.sample(T0 + k).m.power_kw!);
    }
    expect([...readings]).toEqual([frozen]);
    expect(sick.temperatureC).toBeLessThan(trueBefore - 5); // it cooled; the sensor did not notice
    expect(power.size).toBeGreaterThan(10); // the other instruments still move
    plant.clearFaults(sick.ref);
    runFor(plant, 1, 'stopped');
    expect(Math.abs(sick.sample(T0).m.temperature_c! - sick.temperatureC)).toBeLessThan(0.5);
  });

  it('silence: the device stops reporting (others continue) and comes back when cleared', () => {
    const { plant, sick } = twins();
    plant.injectFault(sick.ref, 'silence');
    runFor(plant, 10);
    const devices = plant.sample(T0).map((s) => s.machine.ref.device);
    expect(devices).not.toContain('m-001');
    expect(devices).toHaveLength(5);
    expect(sick.faults).toEqual(['silence']);
    plant.clearFaults(sick.ref);
    expect(plant.sample(T0)).toHaveLength(6);
  });

  it('rejects unknown devices and fault kinds, naming them', () => {
    const { plant } = twins();
    expect(() => plant.injectFault('site-01/line-09/m-001', 'overheat')).toThrow(/site-01\/line-09\/m-001/);
    expect(() => plant.injectFault({ site: 'x', line: 'y', device: 'z' }, 'stuck')).toThrow(/x\/y\/z/);
    expect(() => plant.injectFault('site-01/line-01/m-001', 'meltdown' as FaultKind)).toThrow(/meltdown/);
  });
});
