import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import type { Latch } from './latch.js';
import { messages } from './messages.js';

/**
 * A robust running location and scale for a signal of unknown unit (robust.ts, multivariate.ts).
 *
 * Both are EWMAs (weight max(alpha, 1/n), so the first samples average plainly instead of
 * leaning on the first value). After warm-up each update is clipped (Huber) to `clip` times the
 * current scale: one spike neither drags the location nor widens the scale, while a real change of
 * regime is followed within ~1/alpha samples. The scale is the EWMA of absolute deviations × 1.25
 * (the mean absolute deviation of a normal distribution is 0.8 σ), so it reads as a σ.
 */

/** Mean absolute deviation → σ for normal data. */
export const MAD_TO_STD = 1.25;

/**
 * The scale judged with: never below 0.1 % of |location| (a perfectly flat signal must not make
 * its last digit infinite), a floor relative to the signal, not borrowed from any unit.
 */
export function usableScale(loc: number, scale: number, floor = 0): number {
  return Math.max(scale, 1e-3 * Math.abs(loc), floor, Number.MIN_VALUE);
}

/** Location and scale after learning `v` as the `n`-th sample (n ≥ 1). */
export function robustUpdate(n: number, loc: number, scale: number, v: number, alpha: number, warmupSamples: number, clip: number, floor = 0): { loc: number; scale: number } {
  return { loc: locUpdate(n, loc, scale, v, alpha, warmupSamples, clip, floor), scale: scaleUpdate(n, loc, scale, v - loc, alpha, warmupSamples, clip, floor) };
}

/**
 * The location alone after learning `v` as the `n`-th sample (robustUpdate's), for the per-sample
 * paths that update their state in place and so need no object for the pair.
 */
export function locUpdate(n: number, loc: number, scale: number, v: number, alpha: number, warmupSamples: number, clip: number, floor = 0): number {
  const a = Math.max(alpha, 1 / n);
  let dev = v - loc;
  // Warm-up learns plainly (there is no scale yet to clip by).
  if (n > warmupSamples) {
    const c = clip * usableScale(loc, scale, floor);
    dev = Math.max(-c, Math.min(c, dev));
  }
  return loc + a * dev;
}

/**
 * What learnInto leaves: the location and scale after learning the sample, and the location before
 * it with its usable scale (usableScale), which the sample is judged by.
 */
export const LEARNED = { loc: 0, scale: 0, judgedLoc: 0, usable: 0 };

/**
 * locUpdate and scaleUpdate of one value at once (the same arithmetic), written into LEARNED
 * instead of returned, for the detectors' per-sample paths: a number returned by a call the
 * compiler did not inline is a new heap object, two or three per metric and sample otherwise.
 */
export function learnInto(n: number, loc: number, scale: number, v: number, alpha: number, warmupSamples: number, clip: number, floor = 0): void {
  const a = Math.max(alpha, 1 / n);
  const usable = usableScale(loc, scale, floor);
  const dev = v - loc;
  let locDev = dev;
  let absDev = Math.abs(dev) * MAD_TO_STD;
  if (n > warmupSamples) {
    const c = clip * usable;
    locDev = Math.max(-c, Math.min(c, dev));
    absDev = Math.min(absDev, c);
  }
  LEARNED.loc = loc + a * locDev;
  LEARNED.scale = n === 1 ? 0 : scale + a * (absDev - scale);
  LEARNED.judgedLoc = loc;
  LEARNED.usable = usable;
}

/**
 * The scale alone after learning a deviation `dev` from the location as the `n`-th sample: the same
 * EWMA of absolute deviations (× 1.25) as robustUpdate, clipped after warm-up. For a derived
 * signal (robust.ts: a short-window mean's distance from the location) whose location is known.
 */
export function scaleUpdate(n: number, loc: number, scale: number, dev: number, alpha: number, warmupSamples: number, clip: number, floor = 0): number {
  const a = Math.max(alpha, 1 / n);
  let absDev = Math.abs(dev) * MAD_TO_STD;
  if (n > warmupSamples) absDev = Math.min(absDev, clip * usableScale(loc, scale, floor));
  return n === 1 ? 0 : scale + a * (absDev - scale);
}

/**
 * The `lastTs` of a state that has seen no sample yet, for the detectors whose states are updated
 * in place on every sample (distribution, multivariate): a number, not null, so the field holds a
 * number from the start. A field that starts as null and later takes a timestamp (not a small
 * integer) makes V8 box every timestamp stored in it: an allocation per sample and metric.
 * It survives JSON unchanged (unlike -Infinity), and no sample is older (isStale).
 */
export const NEVER = -Number.MAX_VALUE;

/**
 * The start of a step of a detector that learns a robust location (robust, distribution): after a
 * gap longer than `maxGapS` the state must start over (the machine may have been stopped, serviced
 * or re-set), and an open alert is cleared, saying why. Null when there was no such gap; else the
 * events (the clear, or none), and the caller resets its state.
 */
export function gapRestart(p: { metric: string; maxGapS: number }, s: { loc: number; lastTs: number | null; latch: Latch }, input: DetectorInput): readonly DetectorEvent[] | null {
  // The input object, not its time and value: numbers passed to a call left out of line are new heap objects.
  const { ts, value } = input;
  if (s.lastTs === null || s.lastTs === NEVER || ts - s.lastTs <= p.maxGapS * 1000) return null;
  return s.latch.active ? [{ kind: 'clear', ts, value, baseline: s.loc, message: messages.baselineResetAfterGap(p.metric, value, ts - s.lastTs) }] : NO_EVENTS;
}
