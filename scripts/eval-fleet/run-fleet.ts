import type { Simulation } from '../../edge-agent/simulator/index.js';
import type { AnalyticsConfig } from '../../src/analytics/config.js';
import { AnalyticsEngine } from '../../src/analytics/engine.js';
import { AlertTracker } from '../../src/evaluation/alerts.js';

/** An alert opened: a rule's first `raise` on a device while no alert of that rule was open there. */
export interface AlertOpening {
  device: string;
  rule: string;
  ts: number;
}

export interface FleetRun {
  openings: AlertOpening[];
  samples: number;
}

/**
 * Every sample of a simulation through the analytics engine, as the platform's analytics stage
 * would see it (one batch per device per sample time, arriving on time), without broker or
 * storage: the rules, detectors and energy windows are the platform's own code. Alerts open and
 * close as the alert manager dedups them (one open alert per device and rule), tracked by sample
 * time. Heartbeat (silence) rules get their input on every batch and no clock ticks, so they
 * never fire here.
 */
export function runFleet(sim: Simulation, config: AnalyticsConfig, progress?: (step: number, steps: number) => void): FleetRun {
  const engine = new AnalyticsEngine(config.rules, config.energy);
  const alerts = new AlertTracker();
  let samples = 0;
  let step = 0;
  let lastTs = 0;
  for (const { ts, samples: batch } of sim.steps()) {
    for (const { machine, sample } of batch) {
      for (const e of engine.process({ ...machine.ref, seq: null, samples: [sample] }, ts).events) {
        const source = `${e.site}/${e.line}/${e.device}|${e.rule}`;
        if (e.kind === 'raise') alerts.raise(source, e.ts);
        else alerts.clear(source, e.ts);
      }
      samples++;
    }
    lastTs = ts;
    if (progress && ++step % 360 === 0) progress(step, sim.stepCount);
  }
  const openings = alerts.finish(lastTs).map((a) => {
    const bar = a.source.lastIndexOf('|');
    return { device: a.source.slice(0, bar), rule: a.source.slice(bar + 1), ts: a.openRow };
  });
  return { openings, samples };
}
