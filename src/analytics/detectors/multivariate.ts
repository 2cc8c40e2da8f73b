import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput, type SampleInput, type Step } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import type { DetectorModule } from './module.js';
import { chiSquareZ, cholesky, cholSolve } from './multivariate-math.js';
import { robustUpdate, usableScale } from './robust-scale.js';

export { chiSquareZ } from './multivariate-math.js';

/**
 * How a device's metrics move together: per reported machine state, a streaming Hotelling T² on
 * the standardised signal metrics (covariance shrunk to its diagonal) and a multivariate EWMA
 * (MEWMA) of the same vector, which sees small shifts that persist.
 *
 * Each metric is standardised by its own robust location and scale (robust-scale.ts), so units never matter. The covariance of the standardised vector is an EWMA
 * (memory ≈ 1/alpha samples), shrunk as S = (1 − λ)·C + λ·diag(C) with λ = max(shrinkage, k/n):
 * towards the diagonal in proportion to how little has been learned (k metrics, n samples, n at
 * most the EWMA's effective 2/alpha), never less than `shrinkage`, so S is always invertible and a spurious correlation learned from few samples does
 * not make small moves look huge. T² = xᵀ S⁻¹ x (Cholesky), on the metrics present in this sample
 * that have finished their own warm-up. A broken relation (current up at constant flow, a
 * temperature that drifts while power and vibration do not) is a move against the learned
 * correlation, which S⁻¹ weighs by the inverse of the little variance left in that direction.
 *
 * T² of k normal metrics is χ²(k); it is turned into a z-score by the Wilson–Hilferty cube root,
 * so one `zRaise` fits any number of metrics. The MEWMA m ← (1 − r)·m + r·x shrinks noise by
 * r/(2 − r) but keeps a persistent shift, so its T² sees shifts of a fraction of σ. Real signals are
 * autocorrelated (a temperature lags its load), which widens the MEWMA's spread far beyond the
 * i.i.d. figure: its limit is therefore learned from the statistic itself, as a robust location and
 * scale of its z-score over quiet samples, and it raises `zRaise` of those scales above it.
 *
 * Machine states: a device that reports `state` gets one model per state (at most `maxModels`,
 * first seen first; samples of further states are not judged), so one that changes state every
 * few minutes is still judged in each; after each change `settleSamples` samples are not judged
 * (but learned: how a state begins is normal). Devices without `state` have one model, judged on every sample after
 * warm-up (counted in samples).
 *
 * Learns only from quiet samples (T² below zRaise and the MEWMA below `learnBelow`, not while
 * alerting), so an anomaly, or a slow drift once it shows, is not learned as normal. An alert clears
 * after `holdSamples` consecutive samples within zClear, or, once open for `relearnAfterSamples`,
 * is taken as the new normal and the state's model re-learned. The alert names the metrics that
 * moved most: each metric's share of the statistic that raised, x_i·(S⁻¹x)_i (they add up to it).
 * Dimension is bounded: at most `maxMetrics` metrics (first seen first), so state is
 * O(maxModels · maxMetrics²) numbers per device: per model d² + 4d + 4 for d metrics.
 */
export const multivariateParamsSchema = z
  .strictObject({
    ...metricParam,
    alpha: z.number().gt(0).max(1).default(0.002),
    /** Samples learned before a metric is standardised, and vectors before T² is judged (per state). */
    warmupSamples: z.number().int().min(2).default(100),
    maxMetrics: z.number().int().min(2).max(64).default(16),
    /** Machine states with a model of their own. */
    maxModels: z.number().int().min(1).max(32).default(12),
    /** Samples after a change of machine state that are not judged (see learnSettling). */
    settleSamples: z.number().int().min(0).default(90),
    /** Whether settling samples are learned (though never judged). */
    learnSettling: z.boolean().default(true),
    /** Smallest shrinkage of the covariance towards its diagonal (0…1). */
    shrinkage: z.number().min(0).max(1).default(0.01),
    /** Weight of the newest sample in the MEWMA (0 turns the MEWMA off). */
    mewmaR: z.number().min(0).max(1).default(0.05),
    /** Memory of the MEWMA statistic's own location and scale: slower than the metrics', so a drift does not lift its own bar. */
    statAlpha: z.number().gt(0).max(1).default(0.0005),
    /** Quiet samples of the MEWMA's statistic learned before it is judged. */
    mewmaWarmupSamples: z.number().int().min(2).default(100),
    /** Samples whose MEWMA statistic is this many of its learned scales above its location are not learned. */
    learnBelow: z.number().positive().default(4),
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

/** What is learned in one machine state; arrays are indexed like MultivariateState.names. */
export interface MultivariateModel {
  /** Per metric: samples learned, robust location and scale (of the raw values). */
  count: readonly number[];
  loc: readonly number[];
  scale: readonly number[];
  /** Vectors learned (with ≥ 2 ready metrics). */
  n: number;
  /** EWMA of x·xᵀ of the standardised vector, row-major names.length². */
  cov: Float64Array;
  /** The MEWMA of the standardised vector (restarted at 0 on entering the state). */
  mewma: Float64Array;
  /** Robust location and scale of the MEWMA statistic's z-score over quiet samples. */
  statN: number;
  statLoc: number;
  statScale: number;
}

export interface MultivariateState {
  /** Tracked metrics, in order of first appearance; index i of every model's arrays. */
  names: readonly string[];
  /** One model per machine state (key: the state, or `all` for a device without one). */
  models: Readonly<Record<string, MultivariateModel>>;
  /** The machine state of the last sample, and samples seen since entering it. */
  key: string | null;
  since: number;
  active: boolean;
  openFor: number;
  calm: number;
  lastTs: number | null;
}

const NO_STATE = 'all';
const FRESH: MultivariateState = { names: [], models: {}, key: null, since: 0, active: false, openFor: 0, calm: 0, lastTs: null };

function freshModel(d: number): MultivariateModel {
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) cov[i * d + i] = 1;
  const zeros = Array<number>(d).fill(0);
  return { count: zeros, loc: zeros, scale: zeros, n: 0, cov, mewma: new Float64Array(d), statN: 0, statLoc: 0, statScale: 0 };
}

/** A model grown from d0 to d metrics: the new ones unlearned, their covariance an identity block. */
function padModel(m: MultivariateModel, d0: number, d: number): MultivariateModel {
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = i < d0 && j < d0 ? m.cov[i * d0 + j]! : i === j ? 1 : 0;
  const pad = (a: readonly number[]): number[] => [...a, ...Array<number>(d - d0).fill(0)];
  const mewma = new Float64Array(d);
  mewma.set(m.mewma);
  return { ...m, count: pad(m.count), loc: pad(m.loc), scale: pad(m.scale), cov, mewma };
}

/** The state with metrics first seen in this sample added (up to maxMetrics). */
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
  const models: Record<string, MultivariateModel> = {};
  for (const key in s.models) models[key] = padModel(s.models[key]!, d0, d);
  return { ...s, names, models };
}

/** What one sample says under one model. */
interface Judgement {
  idx: number[];
  /** Standardised present metrics, parallel to idx. */
  xs: number[];
  zT: number;
  /** The MEWMA statistic in its own learned scales (0 until learned), and its z-score. */
  uM: number;
  zM: number;
  mewma: Float64Array;
  /** Per present metric, its share of the statistic that is larger (T² or the MEWMA's), and that statistic's vector. */
  contrib: Float64Array | null;
  shown: number[];
  z: number;
  k: number;
}

function judge(p: MultivariateParams, m: MultivariateModel, d: number, names: readonly string[], values: Readonly<Record<string, number>>): Judgement {
  const idx: number[] = [];
  const xs: number[] = [];
  for (let i = 0; i < d; i++) {
    const v = values[names[i]!];
    if (v === undefined || m.count[i]! < p.warmupSamples) continue;
    idx.push(i);
    xs.push((v - m.loc[i]!) / usableScale(m.loc[i]!, m.scale[i]!));
  }
  const k = idx.length;
  const mewma = m.mewma.slice();
  for (let a = 0; a < k; a++) mewma[idx[a]!] = (1 - p.mewmaR) * mewma[idx[a]!]! + p.mewmaR * Math.max(-p.clip, Math.min(p.clip, xs[a]!));
  const out: Judgement = { idx, xs, zT: 0, uM: 0, zM: 0, mewma, contrib: null, shown: xs, z: 0, k };
  if (k < 2 || m.n < p.warmupSamples) return out;
  // An EWMA covariance rests on about 2/alpha samples however long it has run.
  const lambda = Math.min(1, Math.max(p.shrinkage, k / Math.min(m.n, 2 / p.alpha)));
  const sub = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) sub[a * k + b] = (a === b ? 1 : 1 - lambda) * m.cov[idx[a]! * d + idx[b]!]!;
  const l = cholesky(sub, k);
  if (!l) return out;
  const x = Float64Array.from(xs);
  const y = cholSolve(l, x, k);
  const cT = new Float64Array(k);
  let t2 = 0;
  for (let a = 0; a < k; a++) t2 += cT[a] = x[a]! * y[a]!;
  out.zT = chiSquareZ(t2, k);
  out.contrib = cT;
  out.z = out.zT;
  if (p.mewmaR > 0) {
    const e = Float64Array.from(idx, (i) => mewma[i]!);
    const w = cholSolve(l, e, k);
    const cM = new Float64Array(k);
    let tM = 0;
    const gain = (2 - p.mewmaR) / p.mewmaR;
    for (let a = 0; a < k; a++) tM += cM[a] = e[a]! * w[a]! * gain;
    out.zM = chiSquareZ(tM, k);
    if (m.statN >= p.mewmaWarmupSamples) {
      // The statistic's scale never below half a σ: a perfectly steady statistic must not make its last digit an alarm.
      out.uM = (out.zM - m.statLoc) / usableScale(m.statLoc, m.statScale, 0.5);
      if (out.uM > out.zT) {
        out.z = out.uM;
        out.contrib = cM;
        out.shown = Array.from(e, (v) => v / Math.sqrt(p.mewmaR / (2 - p.mewmaR)));
      }
    }
  }
  return out;
}

function step(p: MultivariateParams, s0: MultivariateState, { ts, values, state }: SampleInput): Step<MultivariateState> {
  if (isStale(s0.lastTs, ts)) return { state: s0, events: NO_EVENTS };
  let events: readonly DetectorEvent[] = NO_EVENTS;
  let s = s0;
  if (s.lastTs !== null && ts - s.lastTs > p.maxGapS * 1000) {
    if (s.active) events = [{ kind: 'clear', ts, value: 0, message: messages.multivariateReset(ts - s.lastTs) }];
    s = FRESH;
  }
  s = withNames(p, s, values);
  const d = s.names.length;
  const key = state === undefined ? NO_STATE : String(state);
  const entered = key !== s.key;
  let model = s.models[key];
  if (!model) {
    // A state beyond maxStates is not judged (bounded memory); the alert's counters wait for a known one.
    if (Object.keys(s.models).length >= p.maxModels) return { state: { ...s, key, since: 0, lastTs: ts }, events };
    model = freshModel(d);
  } else if (entered) model = { ...model, mewma: new Float64Array(d) };
  const since = entered ? 1 : s.since + 1;
  const j = judge(p, model, d, s.names, values);
  const judged = { ...model, mewma: j.mewma };
  if (since <= p.settleSamples) {
    // Settling: not judged, but learned (unless an alert is open), so the model knows how a state
    // begins (a machine starting cold, its temperature still far below the running level): on the
    // simulated fleet, not learning them gave 6× the false alerts (settleSamples 90: 0.32 against
    // 0.05 per machine-day, 100 machines × 24 h).
    const next = p.learnSettling && !s.active ? learn(p, judged, d, s.names, values, j) : judged;
    return { state: { ...s, models: { ...s.models, [key]: next }, key, since, lastTs: ts }, events };
  }
  s = { ...s, models: { ...s.models, [key]: judged }, key, since, lastTs: ts };

  if (s.active) {
    const openFor = s.openFor + 1;
    const calm = j.z <= p.zClear ? s.calm + 1 : 0;
    if (openFor >= p.relearnAfterSamples || calm >= p.holdSamples) {
      const relearn = openFor >= p.relearnAfterSamples;
      events = [...events, { kind: 'clear', ts, value: j.z, message: relearn ? messages.multivariateRelearned(openFor) : messages.multivariateCleared(j.z) }];
      // A new normal: this state's locations and covariance are learned again from here.
      const models = relearn ? { ...s.models, [key]: freshModel(d) } : s.models;
      return { state: { ...s, models, active: false, openFor: 0, calm: 0 }, events };
    }
    if (j.z > p.zRaise && j.contrib) events = [...events, raise(p, s.names, j, ts)];
    return { state: { ...s, openFor, calm }, events };
  }
  if (j.z > p.zRaise && j.contrib) {
    events = [...events, raise(p, s.names, j, ts)];
    return { state: { ...s, active: true, openFor: 0, calm: 0 }, events };
  }
  if (!quiet(p, j)) return { state: s, events };
  return { state: { ...s, models: { ...s.models, [key]: learn(p, judged, d, s.names, values, j) } }, events };
}

/** A sample fit to learn from: below the raise level, and its MEWMA not creeping up (a slow drift once it shows). */
function quiet(p: MultivariateParams, j: Judgement): boolean {
  return j.zT <= p.zRaise && j.uM <= p.learnBelow;
}

function raise(p: MultivariateParams, names: readonly string[], j: Judgement, ts: number): DetectorEvent {
  const contrib = j.contrib!;
  const total = contrib.reduce((a, b) => a + b, 0);
  const order = Array.from(contrib.keys()).sort((a, b) => contrib[b]! - contrib[a]!);
  const top = order.slice(0, p.top).map((a) => ({ metric: names[j.idx[a]!]!, z: j.shown[a]!, share: contrib[a]! / total }));
  return { kind: 'raise', ts, value: j.z, threshold: p.zRaise, message: messages.multivariateRaised(j.z, j.k, top) };
}

/** Learn one quiet sample: each metric's robust location/scale, the covariance of the standardised ready metrics, the MEWMA statistic's own scale. */
function learn(p: MultivariateParams, m: MultivariateModel, d: number, names: readonly string[], values: Readonly<Record<string, number>>, j: Judgement): MultivariateModel {
  const count = [...m.count];
  const loc = [...m.loc];
  const scale = [...m.scale];
  for (let i = 0; i < d; i++) {
    const v = values[names[i]!];
    if (v === undefined) continue;
    const r = robustUpdate(count[i]! + 1, loc[i]!, scale[i]!, v, p.alpha, p.warmupSamples, p.clip);
    loc[i] = r.loc;
    scale[i] = r.scale;
    count[i] = count[i]! + 1;
  }
  if (j.idx.length < 2) return { ...m, count, loc, scale };
  const n = m.n + 1;
  const a = Math.max(p.alpha, 1 / n);
  const cov = m.cov.slice();
  const xc = j.xs.map((x) => Math.max(-p.clip, Math.min(p.clip, x)));
  for (let u = 0; u < j.idx.length; u++) {
    for (let w = 0; w < j.idx.length; w++) {
      const at = j.idx[u]! * d + j.idx[w]!;
      cov[at] = cov[at]! + a * (xc[u]! * xc[w]! - cov[at]!);
    }
  }
  if (m.n < p.warmupSamples || !(p.mewmaR > 0)) return { ...m, count, loc, scale, n, cov };
  // The MEWMA statistic's own distribution (plain averages over its warm-up, then slow).
  const st = robustUpdate(m.statN + 1, m.statLoc, m.statScale, j.zM, p.statAlpha, p.mewmaWarmupSamples, p.clip, 0.5);
  return { ...m, count, loc, scale, n, cov, statN: m.statN + 1, statLoc: st.loc, statScale: st.scale };
}

export const multivariateDetector: DetectorModule<MultivariateParams, MultivariateState> = {
  kind: 'multivariate',
  summary: "how a device's metrics move together, per machine state: streaming Hotelling T² and MEWMA with a shrunk covariance, naming the metrics that moved most",
  paramsSchema: multivariateParamsSchema,
  defaultCategory: 'safety',
  initial: () => FRESH,
  stepSample: step,
  // A single value carries no joint information: judged as a one-metric sample (never raises: k < 2).
  step: (p: MultivariateParams, s: MultivariateState, { ts, value }: DetectorInput) => step(p, s, { ts, values: { [p.metric]: value } }),
};
