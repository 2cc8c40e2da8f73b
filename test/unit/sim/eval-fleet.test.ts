import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../../edge-agent/index.js';
import { loadAnalyticsConfig } from '../../../src/analytics/config.js';
import { parseRulesConfig } from '../../../src/analytics/rules/index.js';
import { scoreFleet } from '../../../scripts/eval-fleet/fleet-score.js';
import { runFleet } from '../../../scripts/eval-fleet/run-fleet.js';

const T0 = Date.UTC(2026, 10, 2);
const H = 3_600_000;
const DEFAULTS = loadAnalyticsConfig(undefined);

describe('eval:fleet scoring', () => {
  it('counts openings inside a label as detections (with the delay) and those outside it and its grace period as false alerts', () => {
    const labels = [{ device: 'a', kind: 'leak' as const, start: T0 + 10 * H, end: T0 + 12 * H }];
    const openings = [
      { device: 'a', rule: 'intensity-above-baseline', ts: T0 + 10.5 * H },
      { device: 'a', rule: 'idle-share-high', ts: T0 + 11 * H },
      { device: 'a', rule: 'power-factor-low', ts: T0 + 12.5 * H }, // aftermath: inside the 1 h grace
      { device: 'a', rule: 'idle-share-high', ts: T0 + 2 * H },
      { device: 'b', rule: 'power-factor-low', ts: T0 + 11 * H }, // another machine's label does not count
      { device: 'b', rule: 'power-factor-low', ts: T0 + 14 * H },
    ];
    const s = scoreFleet(openings, labels, 2, 12, H);
    expect(s.machineDays).toBe(1);
    expect(s.openings).toBe(6);
    expect(s.falseAlerts).toBe(3);
    expect(s.falsePerMachineDay).toBe(3);
    expect(s.byRule['idle-share-high']).toEqual({ openings: 2, falseAlerts: 1, perMachineDay: 1, machineShare: 0.5 });
    expect(s.byRule['power-factor-low']).toEqual({ openings: 3, falseAlerts: 2, perMachineDay: 2, machineShare: 0.5 });
    expect(s.byRule['intensity-above-baseline']).toEqual({ openings: 1, falseAlerts: 0, perMachineDay: 0, machineShare: 0 });
    expect(s.byFault.leak).toEqual({ windows: 1, detected: 1, recall: 1, duringTripOnly: 0, medianDelayMs: 0.5 * H, byRule: { 'intensity-above-baseline': 1, 'idle-share-high': 1 } });
    // Without a grace period the aftermath is a false alert.
    expect(scoreFleet(openings, labels, 2, 12, 0).falseAlerts).toBe(4);
  });

  it('an alert during a natural trip, or in its aftermath, is the trip\'s: it does not detect another fault under way', () => {
    const labels = [
      { device: 'a', kind: 'bearing-wear' as const, start: T0 + 10 * H, end: T0 + 16 * H },
      { device: 'a', kind: 'trip' as const, start: T0 + 11 * H, end: T0 + 11.5 * H },
    ];
    const openings = [
      { device: 'a', rule: 'baseline-vibration', ts: T0 + 11.2 * H },
      { device: 'a', rule: 'baseline-temperature', ts: T0 + 12 * H },
    ];
    const s = scoreFleet(openings, labels, 1, 24, H);
    expect(s.byFault.trip).toMatchObject({ detected: 1, byRule: { 'baseline-vibration': 1 } });
    expect(s.byFault['bearing-wear']).toMatchObject({ detected: 0, recall: 0, duringTripOnly: 1 });
    expect(s.falseAlerts).toBe(0);
    // Past the trip's grace period, the fault under way gets the credit.
    const later = scoreFleet([{ device: 'a', rule: 'vibration-high-warning', ts: T0 + 13 * H }], labels, 1, 24, H);
    expect(later.byFault['bearing-wear']).toMatchObject({ detected: 1, duringTripOnly: 0, medianDelayMs: 3 * H });
  });

  it('an undetected fault has recall 0 and no delay', () => {
    const s = scoreFleet([], [{ device: 'a', kind: 'stuck', start: T0, end: T0 + H }], 1, 24, H);
    expect(s.byFault.stuck).toMatchObject({ windows: 1, detected: 0, recall: 0, duringTripOnly: 0, medianDelayMs: null });
    expect(s.falsePerMachineDay).toBe(0);
  });
});

describe('eval:fleet runs the engine over a simulated fleet', () => {
  it('one machine with a failed capacitor bank: detected by power-factor-low, within two energy windows or so of onset', () => {
    const sim = new Simulation({ machines: 1, seed: 3, startTs: T0, hours: 12, intervalMs: 10_000, faults: ['pf-degradation'] });
    const run = runFleet(sim, DEFAULTS);
    expect(run.samples).toBe(sim.stepCount);
    const s = scoreFleet(run.openings, sim.labels(), 1, 12, H);
    const f = s.byFault['pf-degradation']!;
    expect(f).toMatchObject({ windows: 1, detected: 1, recall: 1 });
    expect(f.byRule['power-factor-low']).toBe(1);
    // Two consecutive 15-min windows below the limit; the first may be only partly after onset.
    expect(f.medianDelayMs).toBeGreaterThanOrEqual(15 * 60_000);
    expect(f.medianDelayMs).toBeLessThanOrEqual(45 * 60_000);
  });

  it('the same machine with joint-deviation judging every machine state (a class rule without `states`): found at once', () => {
    // The power factor falls at once while current and power do not: judged in every state, the
    // multivariate rule sees the broken relation at the first sample after onset, before the
    // energy windows close. By default it judges steady running only (the fleet's false-alert budget).
    const everyState = parseRulesConfig({ classes: { default: { rules: [{ id: 'joint-deviation', metric: '+', detector: 'multivariate' }] } } }, 'test');
    const sim = new Simulation({ machines: 1, seed: 3, startTs: T0, hours: 12, intervalMs: 10_000, faults: ['pf-degradation'] });
    const f = scoreFleet(runFleet(sim, { rules: everyState, energy: DEFAULTS.energy }).openings, sim.labels(), 1, 12, H).byFault['pf-degradation']!;
    expect(f.byRule['joint-deviation']).toBe(1);
    expect(f.medianDelayMs).toBeLessThanOrEqual(10_000);
  });

  it('a healthy tiny fleet raises no false alert, and every opening it has is inside a natural trip', () => {
    const sim = new Simulation({ machines: 10, seed: 8, startTs: T0, hours: 12, intervalMs: 10_000, faults: [] });
    const run = runFleet(sim, DEFAULTS);
    const labels = sim.labels();
    const s = scoreFleet(run.openings, labels, 10, 12, H);
    expect(s.falseAlerts).toBe(0);
    for (const r of Object.values(s.byRule)) expect(r).toMatchObject({ falseAlerts: 0, machineShare: 0 });
    expect(Object.values(s.byRule).reduce((a, r) => a + r.openings, 0)).toBe(run.openings.length);
    expect(labels.every((l) => l.kind === 'trip')).toBe(true);
    expect(s.openings).toBe(run.openings.length);
    expect(s.byFault.trip?.windows ?? 0).toBe(labels.length);
  });
});

describe('eval:fleet command', () => {
  const exec = promisify(execFile);
  const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'scripts/eval-fleet.ts', ...args], { env: { PATH: process.env.PATH } });

  it('prints the figures as JSON for a tiny run, and the progress on stderr', async () => {
    const { stdout, stderr } = await cli('--machines', '2', '--hours', '1', '--faults', 'leak', '--json');
    const out = JSON.parse(stdout) as { machines: number; machineDays: number; samples: number; byFault: Record<string, { windows: number }> };
    expect(out.machines).toBe(2);
    expect(out.machineDays).toBeCloseTo(2 / 24, 9);
    expect(out.samples).toBe(2 * 361);
    expect(out.byFault.leak?.windows).toBe(2);
    expect(stderr).toContain('722 samples');
  });

  it('bad options exit 2 naming the option, with the usage', async () => {
    await expect(cli('--hours', '-1')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--hours[\s\S]*usage:/) });
    await expect(cli('--faults', 'meltdown')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('meltdown') });
    await expect(cli('--rules', '/nonexistent/rules.yaml')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('/nonexistent/rules.yaml') });
  });
});
