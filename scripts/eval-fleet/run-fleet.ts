import type { Simulation } from '../../edge-agent/simulator/index.js';
import { AnalyticsEngine } from '../../src/analytics/engine.js';
import type { EnergyConfig } from '../../src/analytics/energy/index.js';
import type { RulesConfig } from '../../src/analytics/rules/index.js';
import { AlertOpenings, type AlertOpening } from './alert-openings.js';

export interface FleetRun {
  openings: AlertOpening[];
  samples: number;
}

/**
 * Every sample of a simulation through the analytics engine, as the platform's analytics stage
 * would see it (one batch per device per sample time, arriving on time), without broker or
 * storage: the rules, detectors and energy windows are the platform's own code. Heartbeat
 * (silence) rules get their input on every batch and no clock ticks, so they never fire here.
 */
export function runFleet(sim: Simulation, rules: RulesConfig, energy: EnergyConfig, progress?: (step: number, steps: number) => void): FleetRun {
  const engine = new AnalyticsEngine(rules, energy);
  const alerts = new AlertOpenings();
  let samples = 0;
  let step = 0;
  for (const { ts, samples: batch } of sim.steps()) {
    for (const { machine, sample } of batch) {
      const out = engine.process({ ...machine.ref, seq: null, samples: [sample] }, ts);
      if (out.events.length > 0) alerts.add(out.events);
      samples++;
    }
    if (progress && ++step % 360 === 0) progress(step, sim.stepCount);
  }
  return { openings: alerts.openings, samples };
}
