import type { z } from 'zod';
import { baselineDetector } from './baseline.js';
import { distributionDetector } from './distribution.js';
import { dynamicsDetector } from './dynamics.js';
import { flatlineDetector } from './flatline.js';
import { limitDetector } from './limit.js';
import { multivariateDetector } from './multivariate.js';
import type { DetectorModule } from './module.js';
import { rangeDetector } from './range.js';
import { rateOfChangeDetector } from './rate-of-change.js';
import { residualDetector } from './residual.js';
import { robustDetector } from './robust.js';
import { silenceDetector } from './silence.js';

/**
 * The detector registry: every kind a rule may name, keyed by kind. Adding a kind = one file with
 * its params schema and pure functions, plus one line here.
 */
export const DETECTORS = {
  limit: limitDetector,
  'rate-of-change': rateOfChangeDetector,
  baseline: baselineDetector,
  flatline: flatlineDetector,
  range: rangeDetector,
  silence: silenceDetector,
  robust: robustDetector,
  multivariate: multivariateDetector,
  distribution: distributionDetector,
  residual: residualDetector,
  dynamics: dynamicsDetector,
} as const;

export type DetectorKind = keyof typeof DETECTORS;
export const DETECTOR_KINDS = Object.keys(DETECTORS) as [DetectorKind, ...DetectorKind[]];

/** The parsed (defaults applied) parameters of a detector kind. */
export type DetectorParams<K extends DetectorKind> = z.output<(typeof DETECTORS)[K]['paramsSchema']>;

/**
 * A detector with its types erased, for code that runs whatever a rule names (the engine, the
 * evaluation script). Safe when the params were produced by that detector's own `paramsSchema`
 * (resolved rules are) and the state by its own `initial`/`step`.
 */
export type AnyDetector = DetectorModule<unknown, unknown>;

export function detectorFor(kind: DetectorKind): AnyDetector {
  return DETECTORS[kind];
}

export function isDetectorKind(kind: string): kind is DetectorKind {
  return Object.prototype.hasOwnProperty.call(DETECTORS, kind);
}

export type { DetectorModule } from './module.js';
export { formatDuration, formatNumber, formatValue } from './messages.js';
export * from './baseline.js';
export * from './distribution.js';
export * from './dynamics.js';
export * from './flatline.js';
export * from './limit.js';
export * from './multivariate.js';
export * from './range.js';
export * from './rate-of-change.js';
export * from './residual.js';
export * from './robust.js';
export * from './silence.js';
