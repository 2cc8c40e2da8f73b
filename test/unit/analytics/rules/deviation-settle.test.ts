import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../edge-agent/simulator/rng.js';
import { AnalyticsEngine } from '../../../../src/analytics/index.js';
import { parseEnergyConfig } from '../../../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../../../src/analytics/rules/index.js';
import type { Sample } from '../../../../src/contract/index.js';

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0);
const STEP_S = 10;
const TAU_S = 1800; // a furnace's thermal time constant
const AMBIENT_C = 25;
const RISE_C = 180; // running: ambient + rise; idle: ambient + 0.4 × rise
const NOISE_C = 0.5;

/**
 * A furnace sampled every 10 s: its temperature follows its state's target with a first-order lag,
 * plus reading noise. `phases` are [state, minutes, a sudden offset of the reading in °C].
 */
function furnace(phases: [state: 1 | 2, minutes: number, offsetC?: number][]): Sample[] {
  const rng = new Rng(7);
  const out: Sample[] = [];
  let temp = AMBIENT_C + RISE_C;
  let t = 0;
  for (const [state, minutes, offsetC = 0] of phases) {
    const target = AMBIENT_C + (state === 2 ? RISE_C : 0.4 * RISE_C);
    for (let i = 0; i < (minutes * 60) / STEP_S; i++, t += STEP_S) {
      temp += (target - temp) * (1 - Math.exp(-STEP_S / TAU_S));
      out.push({ ts: T0 + t * 1000, m: { state, temperature_c: temp + offsetC + NOISE_C * rng.gauss() } });
    }
  }
  return out;
}

/** Minutes (from T0) of the default `deviation` rule's raises on temperature. */
function deviationRaises(samples: Sample[]): number[] {
  const engine = new AnalyticsEngine(parseRulesConfig({}), parseEnergyConfig({}));
  const events = engine.process({ site: 's1', line: 'l1', device: 'furnace', seq: null, samples }, samples.at(-1)!.ts).events;
  return events.filter((e) => e.rule === 'deviation:temperature_c' && e.kind === 'raise').map((e) => Math.round((e.ts - T0) / 60_000));
}

describe('default deviation rule after a restart of a slow thermal machine', () => {
  // Three hours running (learned), a quarter of an hour idle (cools by about 40 °C), then running
  // again. An hour after the restart the furnace is still about 6 °C (11 σ) short of its level,
  // 1.5 hours after it about 2 °C (4 σ).
  const restart: [state: 1 | 2, minutes: number, offsetC?: number][] = [
    [2, 180],
    [1, 15],
    [2, 150],
  ];

  it('is quiet while the furnace is still coming back to its running temperature', () => {
    expect(deviationRaises(furnace(restart))).toEqual([]);
  });

  it('raises on a sudden 10 °C step once it has settled', () => {
    const raises = deviationRaises(furnace([...restart, [2, 30, 10]]));
    expect(raises.length).toBeGreaterThan(0);
    expect(raises[0]).toBeGreaterThanOrEqual(180 + 15 + 150);
  });
});
