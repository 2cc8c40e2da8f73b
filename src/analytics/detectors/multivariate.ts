import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput, type SampleInput, type Step } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';
import { robustUpdate, usableScale } from './robust-scale.js';

/**
 * How a device's metrics move together: a streaming Hotelling T² on its standardised signal
 * metrics, with a covariance shrunk towards its diagonal.
 *
 * Each metric is standardised by its own robust location and scale (robust-scale.ts), so units never matter. The covariance of the standardised vector is an EWMA
 * (memory ≈ 1/alpha samples), shrunk as S = (1 − λ)·C + λ·diag(C) with λ = max(shrinkage, k/n):
 * towards the diagonal in proportion to how little has been learned (k metrics, n samples, n at
 * most the EWMA's effective 2/alpha), never less than `shrinkage`, so S is always invertible and a spurious correlation learned from few samples does
 * not make small moves look huge. T² = xᵀ S⁻¹ x (Cholesky), on the metrics present in this sample
 * that have finished their own warm-up: a metric that appears late joins once warmed up, one that
 * is missing from a sample is left out of that sample's T².
 *
 * T² of k normal metrics is χ²(k); it is turned into a z-score by the Wilson–Hilferty cube root,
 * so one `zRaise` fits any number of metrics. The alert names the metrics that moved most: each
 * metric's share of T², x_i·(S⁻¹x)_i (they add up to T²).
 *
 * Learns only from quiet samples below zRaise (not while alerting, so an anomaly is not learned
 * as normal); the rule limits it to the running state. An alert clears after `holdSamples`
 * consecutive samples within zClear, or, once open for `relearnAfterSamples`, is taken as the new
 * normal and re-learned. Dimension is bounded: at most `maxMetrics` metrics (first seen first),
 * so state is O(maxMetrics²) numbers per device.
 */
export const multivariateParamsSchema = z
  .strictObject({
    ...metricParam,
    alpha: z.number().gt(0).max(1).default(0.01),
    /** Samples learned before a metric is standardised, and vectors before T² is judged. */
    warmupSamples: z.number().int().min(2).default(200),
    maxMetrics: z.number().int().min(2).max(64).default(16),
    /** Smallest shrinkage of the covariance towards its diagonal (0…1). */
    shrinkage: z.number().min(0).max(1).default(0.01),
    zRaise: z.number().positive().default(8),
    zClear: z.number().min(0).default(3),
    clip: z.number().positive().default(3),
    holdSamples: z.number().int().positive().default(200),
    relearnAfterSamples: z.number().int().positive().default(600),
    /** Metrics named in the alert. */
    top: z.number().int().min(1).default(3),
    maxGapS: z.number().positive().default(86_400),
  })
  .refine((p) => p.zClear < p.zRaise, { message: 'zClear must be smaller than zRaise', path: ['zClear'] });

export type MultivariateParams = z.output<typeof multivariateParamsSchema>;

export interface MultivariateState {
  /** Tracked metrics, in order of first appearance; index i of every array below. */
  names: readonly string[];
  /** Per metric: samples learned, robust location and scale (of the raw values). */
  count: readonly number[];
  loc: readonly number[];
  scale: readonly number[];
  /** Vectors learned (with ≥ 2 ready metrics). */
  n: number;
  /** EWMA of x·xᵀ of the standardised vector, row-major names.length². */
  cov: Float64Array;
  active: boolean;
  openFor: number;
  calm: number;
  lastTs: number | null;
}

const FRESH: MultivariateState = { names: [], count: [], loc: [], scale: [], n: 0, cov: new Float64Array(0), active: false, openFor: 0, calm: 0, lastTs: null };


/** χ²(k) → standard normal (Wilson–Hilferty). */
export function chiSquareZ(t2: number, k: number): number {
  const v = 2 / (9 * k);
  return (Math.cbrt(t2 / k) - (1 - v)) / Math.sqrt(v);
}

/** The χ²(k) value whose Wilson–Hilferty z is `z`. */
function chiSquareAt(z: number, k: number): number {
  const v = 2 / (9 * k);
  return k * (1 - v + z * Math.sqrt(v)) ** 3;
}

/** Solve S·y = x for symmetric positive definite S (k×k, row-major) by Cholesky; null if not positive definite. */
function solveSpd(s: Float64Array, x: Float64Array, k: number): Float64Array | null {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = s[i * k + j]!;
      for (let m = 0; m < j; m++) sum -= l[i * k + m]! * l[j * k + m]!;
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * k + i] = Math.sqrt(sum);
      } else l[i * k + j] = sum / l[j * k + j]!;
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = x[i]!;
    for (let m = 0; m < i; m++) sum -= l[i * k + m]! * y[m]!;
    y[i] = sum / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let m = i + 1; m < k; m++) sum -= l[m * k + i]! * y[m]!;
    y[i] = sum / l[i * k + i]!;
  }
  return y;
}

/** The state with metrics first seen in this sample added (up to maxMetrics); the covariance grows with an identity block. */
function withNames(p: MultivariateParams, s: MultivariateState, values: Readonly<Record<string, number>>): MultivariateState {
  let names: string[] | null = null;
  for (const name in values) {
    if (s.names.includes(name) || (names?.includes(name) ?? false)) continue;
    if ((names ?? s.names).length >= p.maxMetrics) break;
    names ??= [...s.names];
    names.push(name);
  }
  if (names === null) return s;
  const d0 = s.names.length;
  const d = names.length;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = i < d0 && j < d0 ? s.cov[i * d0 + j]! : i === j ? 1 : 0;
  const pad = (a: readonly number[]): number[] => [...a, ...Array<number>(d - d0).fill(0)];
  return { ...s, names, count: pad(s.count), loc: pad(s.loc), scale: pad(s.scale), cov };
}

function step(p: MultivariateParams, s0: MultivariateState, { ts, values }: SampleInput): Step<MultivariateState> {
  if (isStale(s0.lastTs, ts)) return { state: s0, events: NO_EVENTS };
  let events: readonly DetectorEvent[] = NO_EVENTS;
  let s = s0;
  if (s.lastTs !== null && ts - s.lastTs > p.maxGapS * 1000) {
    if (s.active) events = [{ kind: 'clear', ts, value: 0, message: messages.multivariateReset(ts - s.lastTs) }];
    s = FRESH;
  }
  s = withNames(p, s, values);
  const d = s.names.length;

  // Standardise the present metrics that finished their own warm-up.
  const idx: number[] = [];
  const xs: number[] = [];
  for (let i = 0; i < d; i++) {
    const v = values[s.names[i]!];
    if (v === undefined || s.count[i]! < p.warmupSamples) continue;
    idx.push(i);
    xs.push((v - s.loc[i]!) / usableScale(s.loc[i]!, s.scale[i]!));
  }
  const k = idx.length;
  let zT = 0;
  let t2 = 0;
  let contrib: Float64Array | null = null;
  if (k >= 2 && s.n >= p.warmupSamples) {
    // An EWMA covariance rests on about 2/alpha samples however long it has run.
    const lambda = Math.min(1, Math.max(p.shrinkage, k / Math.min(s.n, 2 / p.alpha)));
    const sub = new Float64Array(k * k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) sub[a * k + b] = (a === b ? 1 : 1 - lambda) * s.cov[idx[a]! * d + idx[b]!]!;
    const x = Float64Array.from(xs);
    const y = solveSpd(sub, x, k);
    if (y) {
      contrib = new Float64Array(k);
      for (let a = 0; a < k; a++) {
        contrib[a] = x[a]! * y[a]!;
        t2 += contrib[a]!;
      }
      zT = chiSquareZ(t2, k);
    }
  }

  if (s.active) {
    const openFor = s.openFor + 1;
    const calm = zT <= p.zClear ? s.calm + 1 : 0;
    if (openFor >= p.relearnAfterSamples || calm >= p.holdSamples) {
      const relearn = openFor >= p.relearnAfterSamples;
      events = [...events, { kind: 'clear', ts, value: t2, message: relearn ? messages.multivariateRelearned(openFor) : messages.multivariateCleared(zT) }];
      // A new normal: the metrics' locations and their covariance are learned again from here.
      const next = relearn ? { ...FRESH, names: s.names, count: s.count.map(() => 0), loc: s.loc.map(() => 0), scale: s.scale.map(() => 0), cov: identity(d) } : s;
      return { state: { ...next, active: false, openFor: 0, calm: 0, lastTs: ts }, events };
    }
    if (zT > p.zRaise && contrib) events = [...events, raise(p, s, idx, xs, contrib, t2, zT, k, ts)];
    return { state: { ...s, openFor, calm, lastTs: ts }, events };
  }
  if (zT > p.zRaise && contrib) {
    events = [...events, raise(p, s, idx, xs, contrib, t2, zT, k, ts)];
    return { state: { ...s, active: true, openFor: 0, calm: 0, lastTs: ts }, events };
  }
  return { state: learn(p, s, values, idx, xs, ts), events };
}

function identity(d: number): Float64Array {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * d + i] = 1;
  return m;
}

function raise(p: MultivariateParams, s: MultivariateState, idx: number[], xs: number[], contrib: Float64Array, t2: number, zT: number, k: number, ts: number): DetectorEvent {
  const order = Array.from(contrib.keys()).sort((a, b) => contrib[b]! - contrib[a]!);
  const top = order.slice(0, p.top).map((a) => ({ metric: s.names[idx[a]!]!, z: xs[a]!, share: contrib[a]! / t2 }));
  return { kind: 'raise', ts, value: t2, threshold: chiSquareAt(p.zRaise, k), message: messages.multivariateRaised(zT, k, top) };
}

/** Learn one quiet sample: each metric's robust location/scale, then the covariance of the standardised ready metrics. */
function learn(p: MultivariateParams, s: MultivariateState, values: Readonly<Record<string, number>>, idx: number[], xs: number[], ts: number): MultivariateState {
  const d = s.names.length;
  const count = [...s.count];
  const loc = [...s.loc];
  const scale = [...s.scale];
  for (let i = 0; i < d; i++) {
    const v = values[s.names[i]!];
    if (v === undefined) continue;
    const m = robustUpdate(count[i]! + 1, loc[i]!, scale[i]!, v, p.alpha, p.warmupSamples, p.clip);
    loc[i] = m.loc;
    scale[i] = m.scale;
    count[i] = count[i]! + 1;
  }
  if (idx.length < 2) return { ...s, count, loc, scale, lastTs: ts };
  const n = s.n + 1;
  const a = Math.max(p.alpha, 1 / n);
  const cov = s.cov.slice();
  const xc = xs.map((x) => Math.max(-p.clip, Math.min(p.clip, x)));
  for (let u = 0; u < idx.length; u++) {
    for (let w = 0; w < idx.length; w++) {
      const at = idx[u]! * d + idx[w]!;
      cov[at] = cov[at]! + a * (xc[u]! * xc[w]! - cov[at]!);
    }
  }
  return { ...s, count, loc, scale, n, cov, lastTs: ts };
}

export const multivariateDetector: DetectorModule<MultivariateParams, MultivariateState> = {
  kind: 'multivariate',
  summary: "how a device's metrics move together: streaming Hotelling T² with a shrunk covariance, naming the metrics that moved most",
  paramsSchema: multivariateParamsSchema,
  defaultCategory: 'safety',
  initial: () => FRESH,
  stepSample: step,
  // A single value carries no joint information: judged as a one-metric sample (never raises: k < 2).
  step: (p: MultivariateParams, s: MultivariateState, { ts, value }: DetectorInput) => step(p, s, { ts, values: { [p.metric]: value } }),
};
