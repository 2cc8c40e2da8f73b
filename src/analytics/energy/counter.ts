import { ENERGY_CARRIERS } from './coefficients.js';

/**
 * Deltas of cumulative meter readings (cumulative counters may reset or roll over, and deltas
 * handle both: docs/analytics.md). Pure: the caller keeps the previous reading.
 */

/** The cumulative counters energy accounting reads: the energy carriers and the good-parts counter. */
export const ACCOUNTED_COUNTERS = [...ENERGY_CARRIERS, 'output_units'] as const;
export type AccountedCounter = (typeof ACCOUNTED_COUNTERS)[number];

export interface Reading {
  /** Epoch ms. */
  ts: number;
  value: number;
}

/**
 * - `first`: no previous reading: nothing to count from yet (delta 0).
 * - `normal`: the reading did not decrease.
 * - `rollover`: the register wrapped past its modulus: delta = modulus − prev + next.
 * - `reset`: the reading decreased otherwise (meter replaced, PLC restart, register cleared):
 *   counted from zero, delta = next, as Prometheus `increase()` does.
 * - `implausible`: the delta implies a rate above the carrier's plausible maximum (a glitch, a
 *   swapped meter that starts at a high reading), or the reading itself is impossible (negative,
 *   not finite): not counted (delta 0).
 */
export type CounterReason = 'first' | 'normal' | 'rollover' | 'reset' | 'implausible';
export const COUNTER_REASONS: readonly CounterReason[] = ['first', 'normal', 'rollover', 'reset', 'implausible'];

export interface CounterRules {
  /**
   * The register's range: the reading wraps to 0 on reaching it. This is the largest value the
   * register shows plus one resolution step: 1,000,000.0 for a 6+1 digit register (it shows
   * 999,999.9, then 0.0), 4,294,967.296 kWh for a 32-bit register counting 0.001 kWh
   * (2³² × 0.001). Unset: the counter is assumed never to wrap, and every decrease is a reset.
   */
  rolloverModulus?: number;
  /**
   * A decrease is a rollover only when the wrap-around delta (modulus − prev + next) is at most
   * this fraction of the modulus, i.e. the previous value was near the top of the register and the
   * new one near zero. A large drop from mid-range is a reset, not a wrap.
   */
  rolloverNearFraction: number;
  /** Largest plausible rate, in the counter's unit per hour (kWh/h = kW). Unset: no check. */
  maxRatePerHour?: number;
}

export interface CounterDelta {
  /** The amount to count (≥ 0, in the counter's unit). */
  delta: number;
  reason: CounterReason;
  /** For `implausible`: the delta that was not counted (NaN when the reading itself was impossible). */
  rejected?: number;
}

const MS_PER_HOUR = 3_600_000;

/** A reading a meter can actually show: finite and not negative. */
export function isPossibleReading(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/** The delta between two consecutive readings of one cumulative counter, with why. */
export function counterDelta(prev: Reading | undefined, next: Reading, rules: CounterRules): CounterDelta {
  if (!isPossibleReading(next.value)) return { delta: 0, reason: 'implausible', rejected: Number.NaN };
  if (prev === undefined) return { delta: 0, reason: 'first' };
  const out: CounterDelta = { delta: 0, reason: 'first' };
  deltaInto(out, prev, next.ts, next.value, rules);
  return out;
}

/**
 * `counterDelta` from a previous reading to a possible one (`isPossibleReading`), written into
 * `out` (its `rejected` only for `implausible`): energy accounting reads every counter of every
 * sample, and a result object per reading was most of what it allocated.
 */
export function deltaInto(out: CounterDelta, prev: Reading, nextTs: number, nextValue: number, rules: CounterRules): void {
  let delta: number;
  let reason: CounterReason;
  if (nextValue >= prev.value) {
    delta = nextValue - prev.value;
    reason = 'normal';
  } else if (isRollover(prev.value, nextValue, rules)) {
    delta = (rules.rolloverModulus as number) - prev.value + nextValue;
    reason = 'rollover';
  } else {
    delta = nextValue;
    reason = 'reset';
  }

  if (delta > 0 && rules.maxRatePerHour !== undefined) {
    const hours = (nextTs - prev.ts) / MS_PER_HOUR;
    // A positive delta in no time at all is an infinite rate.
    if (hours <= 0 || delta / hours > rules.maxRatePerHour) {
      out.delta = 0;
      out.reason = 'implausible';
      out.rejected = delta;
      return;
    }
  }
  out.delta = delta;
  out.reason = reason;
}

function isRollover(prev: number, next: number, rules: CounterRules): boolean {
  const modulus = rules.rolloverModulus;
  // A previous reading at or above the modulus cannot come from that register: the modulus is
  // wrong for this meter, so this cannot be a wrap.
  if (modulus === undefined || prev >= modulus || next >= modulus) return false;
  return modulus - prev + next <= rules.rolloverNearFraction * modulus;
}
