import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type SampleInput, type SampleList } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import { sampleSteps, type DetectorModule } from './module.js';
import { chiSquareZ, cholesky, cholQuadratic, cholSolve, hotellingZ, studentToZ } from './multivariate-math.js';
import { copyRecovery, endOfCause, freshRecovery, MAX_RHO, observe, type Recovery } from './multivariate-recovery.js';
import { locUpdate, NEVER, scaleUpdate, usableScale } from './robust-scale.js';

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
 * T² of k normal metrics is χ²(k) when their mean and covariance are known; learned from n
 * samples it is a scaled F(k, n − k), far wider while n is small. It is turned into a z-score by
 * that F, on the scale of the χ²'s Wilson–Hilferty cube root (hotellingZ), so one `zRaise` fits
 * any number of metrics and is a strict bar for a model that has seen few samples, relaxing as it
 * learns (n at most the EWMA's 2/alpha). The MEWMA m ← (1 − r)·m + r·x shrinks noise by
 * r/(2 − r) but keeps a persistent shift, so its T² sees shifts of a fraction of σ. Real signals are
 * autocorrelated (a temperature lags its load), which widens the MEWMA's spread far beyond the
 * i.i.d. figure: its limit is therefore learned from the statistic itself, as a robust location and
 * scale of its z-score over quiet samples, and it raises `zRaise` of those scales above it.
 *
 * Machine states: a device that reports `state` gets one model per state (at most `maxModels`,
 * first seen first; samples of further states are not judged), so one that changes state every
 * few minutes is still judged in each; after each change `settleSamples` samples are not judged
 * (but learned: how a state begins is normal). Devices without `state` have one model, judged on every sample after
 * warm-up, with no settling at their first sample (they never change state).
 *
 * Warm-up, counted in judged samples so that a short file reaches it: each metric is standardised
 * after `warmupSamples` (25) samples (its location and scale plain averages for `plainSamples`,
 * 100, before updates are clipped), and T² is judged once the vectors learned count as
 * `judgeAfterSamples` (15) independent ones. Samples that carry a share ρ of each other's
 * deviation (the lag-1 autocorrelation of the standardised metrics, pooled, learned like the
 * covariance) count (1 − ρ)/(1 + ρ) each: a bench's readings that vary from one to the next are
 * judged after some 40 samples, a slowly wandering temperature's first minutes wait until they
 * have shown more of its range. Until then the F above keeps the bar high (multivariate.test.ts:
 * after 55 samples of 4 metrics only a relation broken by many σ raises). A sample is learned
 * only if its T² is within zRaise on the χ² scale too, as if the model were exact: the wide early
 * bar must not let a fault that starts early into the model as normal.
 *
 * Learns only from quiet samples (T² below zRaise and the MEWMA below `learnBelow`, not while
 * alerting), so an anomaly, or a slow drift once it shows, is not learned as normal. An alert clears
 * after a calm run: judged samples in a row none beyond `calmBelow`, at least `holdSamples` of
 * them spanning at least `holdS` (or, for an alert open less than that before its calm run
 * began, as many and as long as it was open, at least `holdMinSamples`), their mean within zClear
 * (a run long enough but not back on average starts again). The z-score is about standard normal on normal data, so such a run
 * averages well under 1; "every sample within zClear" was a run a single noisy sample broke, and
 * counted in samples it lasted 30 min on a 1 Hz device judged every 9 s. A metric on its way back
 * to its learned mean (a temperature cooling after a fault of a few minutes: its return slower
 * than any hold) is left out of both statistics while it visibly returns, and not learned
 * (multivariate-recovery.ts), so the alert ends with its fault; a stuck or drifting metric shows
 * no return and holds it open. A calm run that begins while metrics recover need only be as long
 * as the alert was open until their return began (their farthest point in the window), but at
 * least the window. Once open for
 * `relearnAfterSamples`, an alert is taken as the new normal and the state's model re-learned. The alert names the metrics that
 * moved most: each metric's share of the statistic that raised, x_i·(S⁻¹x)_i (they add up to it).
 * Dimension is bounded: at most `maxMetrics` metrics (first seen first), so state is
 * O(maxModels · maxMetrics²) numbers per device: per model d² + 4d + 4 for d metrics, and while an
 * alert is open or a metric recovers from one, d · (recoverySamples + 3) more.
 */
export const multivariateParamsSchema = z
  .strictObject({
    ...metricParam,
    alpha: z.number().gt(0).max(1).default(0.002),
    /**
     * Samples learned before a metric is standardised (per state). 100 before, and 100 vectors
     * after them, which on a 1 Hz device judged every 9 s was 30 min before anything was judged,
     * longer than many a test run.
     */
    warmupSamples: z.number().int().min(2).default(25),
    /** Vectors learned before T² is judged (per state), counted as independent samples (see above). */
    judgeAfterSamples: z.number().int().min(2).default(15),
    /**
     * Samples whose location and scale are learned as plain averages before each update is
     * clipped: a scale learned from the first few minutes of a wandering signal is too narrow, and
     * clipped updates would widen it only slowly while everything beyond it stayed unlearned.
     */
    plainSamples: z.number().int().min(2).default(100),
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
    /**
     * Whether the MEWMA's z is taken through a Student t while its learned limit rests on few
     * independent samples and the sample's own T² is within calmBelow (see judge). On the
     * simulated healthy fleet its false alerts were machines in their first run of a state, whose
     * MEWMA limit had learned from 100–200 samples (about 3–5 independent ones): 10 → 6 in 500
     * machine-days, the same faults found (docs/analytics.md).
     */
    youngMewmaT: z.boolean().default(true),
    /** Samples whose MEWMA statistic is this many of its learned scales above its location are not learned. */
    learnBelow: z.number().positive().default(4),
    zRaise: z.number().positive().default(8),
    zClear: z.number().min(0).default(3),
    clip: z.number().positive().default(3),
    /**
     * An open alert clears after a calm run: consecutive judged samples none beyond `calmBelow`,
     * at least `holdSamples` of them spanning at least `holdS` seconds, whose mean is within
     * zClear (see update). 30 samples put the run's mean within about 0.2 of its expectation on
     * normal data (more if autocorrelated), which is well under 1: far from zClear. The time keeps a
     * fault that pauses for a few minutes one alert, however often the device is judged.
     */
    holdSamples: z.number().int().positive().default(30),
    holdS: z.number().min(0).default(600),
    /**
     * An alert open for less than holdSamples / holdS before its calm run began needs a calm run
     * only as long as it was open (but at least this many samples): a fault of 3 min is over after
     * 3 calm min, not 10, while a long one still needs the full run.
     */
    holdMinSamples: z.number().int().positive().default(10),
    calmBelow: z.number().positive().default(6),
    /**
     * Judged samples over which each metric's return towards its learned mean is judged while an
     * alert is open (multivariate-recovery.ts); 0: never. A recovering metric is left out of T²,
     * its MEWMA restarted, so that an alert ends when its fault ends though a slow metric (a
     * temperature) is still on its way back, and it does not open a new one on its way. The
     * window also sets how long after its peak a metric can first count as recovering.
     */
    recoverySamples: z.number().int().min(0).default(40),
    /** A metric is recovering when its slope towards its mean is at least this many of the slope's standard errors. */
    recoveryT: z.number().positive().default(3),
    relearnAfterSamples: z.number().int().positive().default(600),
    /** Metrics named in the alert. */
    top: z.number().int().min(1).default(3),
    maxGapS: z.number().positive().default(86_400),
    /**
     * In a rule on every metric, a device reporting faster than this is judged about this often,
     * on the mean of each metric since the last judged sample (cadence.ts, read by the engine);
     * data this far apart or further is judged sample by sample as it comes. 0: every sample.
     */
    judgeEveryS: z.number().min(0).default(10),
  })
  .refine((p) => p.zClear < p.zRaise, { message: 'zClear must be smaller than zRaise', path: ['zClear'] })
  .refine((p) => p.zClear <= p.calmBelow, { message: 'calmBelow must not be smaller than zClear', path: ['calmBelow'] })
  .refine((p) => p.recoverySamples === 0 || p.recoverySamples >= 4, { message: 'recoverySamples must be 0 (off) or at least 4', path: ['recoverySamples'] });

export type MultivariateParams = z.output<typeof multivariateParamsSchema>;

/** What is learned in one machine state; arrays are indexed like MultivariateState.names. */
export interface MultivariateModel {
  /** Per metric: samples learned, robust location and scale (of the raw values). */
  count: number[];
  loc: number[];
  scale: number[];
  /** Vectors learned (with ≥ 2 ready metrics). */
  n: number;
  /** EWMA of x·xᵀ of the standardised vector, row-major names.length². */
  cov: number[];
  /** The MEWMA of the standardised vector (restarted at 0 on entering the state). */
  mewma: number[];
  /**
   * Per metric, learned like cov: the EWMA of its clipped standardised value and of that value
   * times the one judged before it (NaN in prev: none since entering the state). From them, how
   * much of a deviation carries over to the next sample (see judge). Absent in a state saved
   * before they were kept: then learned from there.
   */
  mean?: number[];
  lag?: number[];
  prev?: number[];
  /** Robust location and scale of the MEWMA statistic's z-score over quiet samples. */
  statN: number;
  statLoc: number;
  statScale: number;
}

export interface MultivariateState {
  /** Tracked metrics, in order of first appearance; index i of every model's arrays. */
  names: string[];
  /** One model per machine state (key: the state, or `all` for a device without one). */
  models: Record<string, MultivariateModel>;
  /** The machine state of the last sample, and samples seen since entering it. */
  key: string | null;
  since: number;
  active: boolean;
  openFor: number;
  /** The open alert's calm run (see update): its judged samples, the sum of their z, the time of its first. */
  calm: number;
  calmSum: number;
  calmFrom: number;
  /** When the open alert was raised (absent in a state saved before it was kept: the full calm run is needed). */
  openedAt?: number;
  /**
   * For the current calm run, when it began with metrics recovering: when their cause ended (at
   * the latest) and the judged samples from then to the run's start. The run need only be as long
   * as the alert was open until then.
   */
  causeEndedAt?: number;
  causeEndedBack?: number;
  /** While an alert is open, and after it while a metric is still on its way back: which metrics are recovering (multivariate-recovery.ts). */
  recovery?: Recovery;
  /** The last sample's time; NEVER before the first. */
  lastTs: number;
}

const NO_STATE = 'all';

/** A new state: each one is its own object, since the engine updates its states in place. */
function fresh(): MultivariateState {
  return { names: [], models: {}, key: null, since: 0, active: false, openFor: 0, calm: 0, calmSum: 0, calmFrom: 0, lastTs: NEVER };
}

function freshModel(d: number): MultivariateModel {
  const cov = Array<number>(d * d).fill(0);
  for (let i = 0; i < d; i++) cov[i * d + i] = 1;
  const zeros = (): number[] => Array<number>(d).fill(0);
  return { count: zeros(), loc: zeros(), scale: zeros(), n: 0, cov, mewma: zeros(), mean: zeros(), lag: zeros(), prev: Array<number>(d).fill(NaN), statN: 0, statLoc: 0, statScale: 0 };
}

/** Grow a model from d0 to d metrics: the new ones unlearned, their covariance an identity block. */
function padModel(m: MultivariateModel, d0: number, d: number): void {
  const cov = Array<number>(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = i < d0 && j < d0 ? m.cov[i * d0 + j]! : i === j ? 1 : 0;
  m.cov = cov;
  for (const a of [m.count, m.loc, m.scale, m.mewma]) for (let i = d0; i < d; i++) a.push(0);
  const { mean, lag, prev } = carryOf(m, d0);
  for (let i = d0; i < d; i++) {
    mean.push(0);
    lag.push(0);
    prev.push(NaN);
  }
}

/** The model's carry-over arrays, made empty of knowledge for a state saved before they were kept. */
function carryOf(m: MultivariateModel, d: number): { mean: number[]; lag: number[]; prev: number[] } {
  m.mean ??= Array<number>(d).fill(0);
  m.lag ??= Array<number>(d).fill(0);
  m.prev ??= Array<number>(d).fill(NaN);
  return { mean: m.mean, lag: m.lag, prev: m.prev };
}

/**
 * Add the metrics first seen in this sample (up to maxMetrics), growing every model. True when the
 * sample names exactly the known metrics in their order, so that its `list` (if any) is indexed
 * like the models' arrays.
 */
function addNames(p: MultivariateParams, s: MultivariateState, values: Readonly<Record<string, number>>, list: SampleList | undefined): boolean {
  // Most samples name the known metrics in the order first seen: one comparison each.
  let at = 0;
  let known = true;
  if (list !== undefined) {
    at = list.count;
    known = at <= s.names.length;
    for (let i = 0; known && i < at; i++) known = s.names[i] === list.names[i];
  } else {
    for (const name in values) {
      if (s.names[at++] !== name) {
        known = false;
        break;
      }
    }
  }
  if (known) return at === s.names.length;
  const d0 = s.names.length;
  for (const name in values) {
    if (s.names.includes(name)) continue;
    if (s.names.length >= p.maxMetrics) break;
    s.names.push(name);
  }
  const d = s.names.length;
  if (d !== d0) for (const key in s.models) padModel(s.models[key]!, d0, d);
  return false;
}

function copyState(s: MultivariateState): MultivariateState {
  const models: Record<string, MultivariateModel> = {};
  for (const key in s.models) {
    const m = s.models[key]!;
    models[key] = { ...m, count: m.count.slice(), loc: m.loc.slice(), scale: m.scale.slice(), cov: m.cov.slice(), mewma: m.mewma.slice(), mean: m.mean?.slice(), lag: m.lag?.slice(), prev: m.prev?.slice() };
  }
  const copy: MultivariateState = { ...s, names: s.names.slice(), models };
  if (s.recovery !== undefined) copy.recovery = copyRecovery(s.recovery);
  return copy;
}

/**
 * What the last sample said under its model (judge), in buffers reused by every step (steps never
 * interleave): sized for the most metrics a model may have, so a step allocates nothing.
 */
const MAX_K = 64;
const J = {
  /** Present, warmed-up metrics (indices into names), and their standardised values. */
  idx: new Int32Array(MAX_K),
  xs: new Float64Array(MAX_K),
  k: 0,
  /** T² and the MEWMA statistic as z-scores; uM: the latter in its own learned scales (0 until learned); zLearn: T² on the χ² scale. */
  zT: 0,
  zLearn: 0,
  zM: 0,
  uM: 0,
  /** uM as if its limit were known exactly: what learning goes by (see judge). */
  uLearn: 0,
  /** The larger of zT and uM (what raises), and whose: 'T', 'M', or null when nothing was judged. */
  z: 0,
  by: null as 'T' | 'M' | null,
  /** Each metric's value in this sample (NaN: absent), indexed like names, and whether it is there. */
  v: new Float64Array(MAX_K),
  present: new Uint8Array(MAX_K),
  /** Each metric's standardised value (NaN: absent or not ready), indexed like names: a recovery's row. */
  row: new Float64Array(MAX_K),
  /** Whether some metric of this sample is recovering (left out of T² and the MEWMA, see judge). */
  excusing: false,
  /** Each present metric's clipped standardised value times its previous one (NaN: no previous), indexed like names. */
  lagx: new Float64Array(MAX_K),
  /** The MEWMA at idx; the clipped xs (learn); scratch for the solves. */
  e: new Float64Array(MAX_K),
  xc: new Float64Array(MAX_K),
  y: new Float64Array(MAX_K),
  sub: new Float64Array(MAX_K * MAX_K),
  chol: new Float64Array(MAX_K * MAX_K),
};

/**
 * Judge one sample under model m (and move the model's MEWMA with it): fills J. `aligned`: the
 * sample's values by position, indexed like names (else they are looked up by name).
 */
function judge(p: MultivariateParams, m: MultivariateModel, d: number, names: readonly string[], values: Readonly<Record<string, number>>, aligned: ArrayLike<number> | null, rec: Recovery | undefined, ts: number): void {
  const { idx, xs } = J;
  // The values first, each way in a loop of its own: a value that may come from either (a number
  // array or a record's look-up) is handled as any value, and each number becomes a heap object.
  const { v: vs, present } = J;
  if (aligned !== null) {
    for (let i = 0; i < d; i++) {
      vs[i] = aligned[i]!;
      present[i] = 1;
    }
  } else {
    for (let i = 0; i < d; i++) {
      const got = values[names[i]!];
      vs[i] = got ?? NaN;
      present[i] = got === undefined ? 0 : 1;
    }
  }
  let k = 0;
  for (let i = 0; i < d; i++) {
    if (present[i] === 0 || m.count[i]! < p.warmupSamples) continue;
    const v = vs[i]!;
    idx[k] = i;
    xs[k] = (v - m.loc[i]!) / usableScale(m.loc[i]!, m.scale[i]!);
    k++;
  }
  J.k = k;
  J.excusing = rec !== undefined && excuse(p, m, d, rec, ts);
  const mewma = m.mewma;
  J.zT = 0;
  J.zLearn = 0;
  J.zM = 0;
  J.uM = 0;
  J.uLearn = 0;
  J.z = 0;
  J.by = null;
  const { mean, lag, prev } = carryOf(m, d);
  const { lagx } = J;
  // How much of a deviation carries over from one judged sample to the next (ρ, the lag-1
  // autocorrelation pooled over the metrics, from what was learned).
  let carried = 0;
  let total = 0;
  for (let a = 0; a < k; a++) {
    const i = idx[a]!;
    const xc = Math.max(-p.clip, Math.min(p.clip, xs[a]!));
    J.xc[a] = xc; // learn reads it: the same sample's clipped values
    mewma[i] = (1 - p.mewmaR) * mewma[i]! + p.mewmaR * xc;
    lagx[i] = xc * prev[i]!;
    prev[i] = xc;
    const mu2 = mean[i]! * mean[i]!;
    carried += lag[i]! - mu2;
    total += m.cov[i * d + i]! - mu2;
  }
  for (let i = 0; i < d; i++) if (present[i] === 0) prev[i] = NaN;
  // An EWMA covariance rests on about 2/alpha samples however long it has run.
  const nEff = Math.min(m.n, 2 / p.alpha);
  if (k < 2 || m.n < p.judgeAfterSamples || nEff <= k) return;
  // Judged once the vectors learned count as `judgeAfterSamples` independent ones: samples that carry
  // a share ρ of each other's deviation count (1 − ρ)/(1 + ρ) each (the variance of a mean of
  // AR(1) samples). A few minutes of a slowly wandering temperature have shown little of its
  // range, however many samples they hold; a bench's readings that vary from one to the next
  // have shown it within tens of them.
  const rho = total > 0 ? Math.min(MAX_RHO, Math.max(0, carried / total)) : MAX_RHO;
  if ((m.n * (1 - rho)) / (1 + rho) < p.judgeAfterSamples) return;
  const lambda = Math.min(1, Math.max(p.shrinkage, k / nEff));
  const { sub, chol, y, e } = J;
  const cov = m.cov;
  // The lower triangle and diagonal only: cholesky never reads above the diagonal.
  const offDiagonal = 1 - lambda;
  for (let a = 0; a < k; a++) {
    const row = idx[a]! * d;
    for (let b = 0; b < a; b++) sub[a * k + b] = offDiagonal * cov[row + idx[b]!]!;
    sub[a * k + a] = cov[row + idx[a]!]!;
  }
  if (!cholesky(sub, k, chol)) return;
  const t2 = cholQuadratic(chol, xs, k, y);
  J.zT = hotellingZ(t2, k, nEff);
  // What the sample would be against a model known exactly: learned only below zRaise on this
  // scale too, so the wide early bar does not let a fault's first samples into the model.
  J.zLearn = chiSquareZ(t2, k);
  J.z = J.zT;
  J.by = 'T';
  if (p.mewmaR > 0) {
    for (let a = 0; a < k; a++) e[a] = mewma[idx[a]!]!;
    J.zM = chiSquareZ(cholQuadratic(chol, e, k, y) * ((2 - p.mewmaR) / p.mewmaR), k);
    if (m.statN >= p.mewmaWarmupSamples) {
      // The statistic's scale never below half a σ: a perfectly steady statistic must not make its last digit an alarm.
      J.uM = (J.zM - m.statLoc) / usableScale(m.statLoc, m.statScale, 0.5);
      J.uLearn = J.uM;
      // A limit learned from few independent samples is uncertain, its statistic's tail a t's, not
      // a normal's: the statistic of a MEWMA carries 1 − r of itself to the next sample, so its
      // learned samples count r/(2 − r) each (100 of them about 2.6), and until they count as
      // judgeAfterSamples uM is taken through that t. Learning still goes by the plain uM, so a
      // shift the young limit cannot yet raise on is not learned as normal either; and a sample
      // whose own T² is beyond calmBelow is off whatever the limit's doubt (a break that the
      // settling samples after a change of state half learned): there the plain uM stands.
      const nM = (m.statN * p.mewmaR) / (2 - p.mewmaR);
      if (p.youngMewmaT && J.uM > T_FROM && nM < p.judgeAfterSamples && J.zT <= p.calmBelow) J.uM = studentToZ(J.uM, Math.max(1, nM - 1));
      if (J.uM > J.zT) {
        J.z = J.uM;
        J.by = 'M';
      }
    }
  }
}

/**
 * While an alert is open (or a metric is still on its way back from one): a metric returning to
 * its mean is taken as explained by the fault that is ending: left out of T² (its value in J.xs
 * 0), its MEWMA component restarted (the clipped memory of the fault would hold the statistic up
 * for as long as the metric is anywhere beyond 3σ). True if some metric is.
 */
function excuse(p: MultivariateParams, m: MultivariateModel, d: number, rec: Recovery, ts: number): boolean {
  const { row, idx, xs, k } = J;
  row.fill(NaN, 0, d);
  for (let a = 0; a < k; a++) row[idx[a]!] = xs[a]!;
  if (observe(rec, d, p.recoverySamples, p.recoveryT, p.clip, ts, row) === 0) return false;
  for (let a = 0; a < k; a++) {
    if (rec.excused[idx[a]!] === 0) continue;
    xs[a] = 0;
    m.mewma[idx[a]!] = 0;
  }
  return true;
}

/** Beyond this z a young MEWMA limit's value is taken through its t (below, t and z differ little). */
const T_FROM = 2;

/** One sample, updating `s` in place. */
function update(p: MultivariateParams, s: MultivariateState, { ts, values, state, list }: SampleInput): readonly DetectorEvent[] {
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  let events: readonly DetectorEvent[] = NO_EVENTS;
  if (s.lastTs !== NEVER && ts - s.lastTs > p.maxGapS * 1000) {
    if (s.active) events = [{ kind: 'clear', ts, value: 0, message: messages.multivariateReset(ts - s.lastTs) }];
    Object.assign(s, fresh());
    delete s.recovery;
  }
  const aligned = addNames(p, s, values, list) && list !== undefined ? list.values : null;
  const d = s.names.length;
  const key = state === undefined ? NO_STATE : String(state);
  const entered = key !== s.key;
  let model = s.models[key];
  if (!model) {
    // A state beyond maxStates is not judged (bounded memory); the alert's counters wait for a known one.
    if (Object.keys(s.models).length >= p.maxModels) {
      s.key = key;
      s.since = 0;
      s.lastTs = ts;
      return events;
    }
    model = freshModel(d);
    s.models[key] = model;
  } else if (entered) {
    model.mewma.fill(0);
    carryOf(model, d).prev.fill(NaN);
  }
  const since = entered ? 1 : s.since + 1;
  judge(p, model, d, s.names, values, aligned, recoveryOf(p, s, d, entered), ts);
  s.key = key;
  s.since = since;
  s.lastTs = ts;
  // A device that reports no state never changes state: its first samples are its warm-up's, not a settling.
  if (since <= p.settleSamples && state !== undefined) {
    // Settling: not judged, but learned (unless an alert is open), so the model knows how a state
    // begins (a machine starting cold, its temperature still far below the running level): on the
    // simulated fleet, not learning them gave 6× the false alerts (settleSamples 90: 0.32 against
    // 0.05 per machine-day, 100 machines × 24 h).
    if (p.learnSettling && !s.active) learn(p, model, d);
    return events;
  }

  if (s.active) return stepOpen(p, s, ts, key, d, events);
  if (J.z > p.zRaise && J.by !== null) {
    startRun(s, true, ts);
    s.recovery?.inRun.fill(0);
    return [...events, raise(p, s.names, ts)];
  }
  // After an alert: kept while a metric is still on its way back, never learned meanwhile (its
  // values are not normal, only explained), nor the sample where one stopped short of normal.
  const rec = s.recovery;
  if (rec !== undefined) {
    if (J.excusing) return events;
    delete s.recovery;
    if (rec.out.includes(1)) return events;
  }
  if (quiet(p)) learn(p, model, d);
  return events;
}

/**
 * The recovery to judge this sample with: while an alert is open or a metric is still recovering
 * from one (started afresh when the alert opened, or when the metrics or the machine state
 * changed: its rows are standardised by one model); undefined otherwise, or when turned off.
 */
function recoveryOf(p: MultivariateParams, s: MultivariateState, d: number, entered: boolean): Recovery | undefined {
  if (p.recoverySamples === 0 || (!s.active && s.recovery === undefined)) return undefined;
  if (s.recovery === undefined || entered || s.recovery.excused.length !== d) s.recovery = freshRecovery(d, p.recoverySamples);
  return s.recovery;
}

/**
 * Some metric left out as recovering during the current calm run no longer is, and stopped short
 * of the range the detector takes as ordinary (clip).
 */
function stoppedRecovering(r: Recovery): boolean {
  for (let i = 0; i < r.inRun.length; i++) if (r.inRun[i] === 1 && r.excused[i] === 0 && r.out[i] === 1) return true;
  return false;
}

/** One judged sample of an open alert (J filled): its calm run, and the clear that ends it. */
function stepOpen(p: MultivariateParams, s: MultivariateState, ts: number, key: string, d: number, before: readonly DetectorEvent[]): readonly DetectorEvent[] {
  let events = before;
  const openFor = s.openFor + 1;
  // The calm run (a state saved before it was kept has no calmSum or calmFrom: the run starts there).
  const back = J.z <= p.calmBelow;
  let calm = back ? s.calm + 1 : 0;
  let calmSum = back ? (s.calmSum ?? 0) + J.z : 0;
  const calmFrom = !back ? 0 : calm === 1 ? ts : (s.calmFrom ?? ts);
  const rec = s.recovery;
  if (rec !== undefined) for (let i = 0; i < rec.inRun.length; i++) rec.inRun[i] = back && (rec.inRun[i] === 1 || rec.excused[i] === 1) ? 1 : 0;
  if (calm === 1) {
    const end = rec !== undefined && J.excusing ? endOfCause(rec, d, p.recoverySamples) : null;
    s.causeEndedAt = end === null ? ts : Math.min(ts, end.ts);
    s.causeEndedBack = end === null ? 0 : end.back;
  }
  const endedAt = calm === 0 ? ts : (s.causeEndedAt ?? calmFrom);
  const endedBack = calm === 0 ? 0 : (s.causeEndedBack ?? 0);
  // A run that leans on a recovering metric lasts at least the recovery's window: only once a
  // step back (a fault easing to a level where it stays) has left the window is it told from a
  // return, and stoppedRecovering voids the run.
  const leaned = rec !== undefined && rec.inRun.includes(1);
  const samplesNeeded = Math.max(calmSamplesNeeded(p, Math.max(0, openFor - calm - endedBack)), leaned ? p.recoverySamples : 0);
  let done = calm >= samplesNeeded && ts - calmFrom >= calmSpanNeeded(p, s.openedAt, endedAt);
  // Long enough but not back on average (a fault that goes on with calm samples inside it), or
  // a metric left out as recovering during the run stopped short of normal (a fault that eased
  // to a level where it stays): the run starts again.
  if (done && (calmSum / calm > p.zClear || (rec !== undefined && stoppedRecovering(rec)))) {
    done = false;
    calm = 0;
    calmSum = 0;
    if (rec !== undefined) rec.inRun.fill(0);
  }
  if (openFor >= p.relearnAfterSamples || done) {
    const relearn = openFor >= p.relearnAfterSamples;
    events = [...events, { kind: 'clear', ts, value: J.z, message: relearn ? messages.multivariateRelearned(openFor) : messages.multivariateCleared(J.z) }];
    // A new normal: this state's locations and covariance are learned again from here.
    if (relearn) s.models[key] = freshModel(d);
    // A metric still on its way back keeps being left out (it must not open a new alert on its way), the rest is dropped.
    if (relearn || !J.excusing) delete s.recovery;
    else s.recovery?.inRun.fill(0);
    startRun(s, false, undefined);
    return events;
  }
  if (J.z > p.zRaise && J.by !== null) events = [...events, raise(p, s.names, ts)];
  s.openFor = openFor;
  s.calm = calm;
  s.calmSum = calmSum;
  s.calmFrom = calm === 0 ? 0 : calmFrom;
  return events;
}

/** Judged samples of calm that clear an alert open for `before` judged samples before its calm run began. */
function calmSamplesNeeded(p: MultivariateParams, before: number): number {
  return Math.min(p.holdSamples, Math.max(p.holdMinSamples, before));
}

/** An alert opens (active, at openedAt) or clears: its open and calm counts start again. */
function startRun(s: MultivariateState, active: boolean, openedAt: number | undefined): void {
  s.active = active;
  s.openFor = 0;
  s.calm = 0;
  s.calmSum = 0;
  s.calmFrom = 0;
  s.openedAt = openedAt;
}

/** The span (ms) a calm run beginning at calmFrom must cover to clear an alert raised at openedAt. */
function calmSpanNeeded(p: MultivariateParams, openedAt: number | undefined, calmFrom: number): number {
  const full = p.holdS * 1000;
  return openedAt === undefined ? full : Math.min(full, Math.max(0, calmFrom - openedAt));
}

/**
 * The last judged sample is fit to learn from: below the raise level (on the χ² scale, stricter
 * than the F's while the model is young), and its MEWMA not creeping up (a slow drift once it shows).
 */
function quiet(p: MultivariateParams): boolean {
  return J.zLearn <= p.zRaise && J.uLearn <= p.learnBelow;
}

/**
 * The raise for the last judged sample. The metrics that moved most: each one's share of the
 * statistic that raised, x_i·(S⁻¹x)_i (T²) or the MEWMA's e_i·(S⁻¹e)_i·(2 − r)/r.
 */
function raise(p: MultivariateParams, names: readonly string[], ts: number): DetectorEvent {
  const k = J.k;
  const byM = J.by === 'M';
  const gain = (2 - p.mewmaR) / p.mewmaR;
  const x = byM ? J.e : J.xs;
  const sx = new Float64Array(k);
  cholSolve(J.chol, x, k, sx);
  const contrib = new Float64Array(k);
  const shown: number[] = [];
  for (let a = 0; a < k; a++) {
    contrib[a] = byM ? x[a]! * sx[a]! * gain : x[a]! * sx[a]!;
    shown.push(byM ? x[a]! / Math.sqrt(p.mewmaR / (2 - p.mewmaR)) : x[a]!);
  }
  const total = contrib.reduce((a, b) => a + b, 0);
  const order = Array.from(contrib.keys()).sort((a, b) => contrib[b]! - contrib[a]!);
  const top = order.slice(0, p.top).map((a) => ({ metric: names[J.idx[a]!]!, z: shown[a]!, share: contrib[a]! / total }));
  return { kind: 'raise', ts, value: J.z, threshold: p.zRaise, message: messages.multivariateRaised(J.z, k, top) };
}

/**
 * Learn the last judged sample (its values are in J) into m: each metric's robust location/scale,
 * the covariance of the standardised ready metrics, the MEWMA statistic's own scale.
 */
function learn(p: MultivariateParams, m: MultivariateModel, d: number): void {
  const { count, loc, scale } = m;
  for (let i = 0; i < d; i++) {
    const v = J.v[i]!;
    if (Number.isNaN(v)) continue;
    const n = count[i]! + 1;
    const l = loc[i]!;
    const sc = scale[i]!;
    loc[i] = locUpdate(n, l, sc, v, p.alpha, p.plainSamples, p.clip);
    scale[i] = scaleUpdate(n, l, sc, v - l, p.alpha, p.plainSamples, p.clip);
    count[i] = n;
  }
  const k = J.k;
  if (k < 2) return;
  const n = m.n + 1;
  const a = Math.max(p.alpha, 1 / n);
  const cov = m.cov;
  const { idx, xc, lagx } = J;
  const { mean, lag } = carryOf(m, d);
  for (let u = 0; u < k; u++) {
    const x = xc[u]!; // clipped by judge, which every learned sample went through first
    const i = idx[u]!;
    mean[i] = mean[i]! + a * (x - mean[i]!);
    const product = lagx[i]!;
    if (!Number.isNaN(product)) lag[i] = lag[i]! + a * (product - lag[i]!);
  }
  // cov is symmetric (every update is), and x_u·x_w = x_w·x_u exactly: each pair is computed
  // once, below the diagonal, and written to both halves.
  for (let u = 0; u < k; u++) {
    const iu = idx[u]!;
    const row = iu * d;
    const xu = xc[u]!;
    for (let w = 0; w < u; w++) {
      const iw = idx[w]!;
      const at = row + iw;
      const next = cov[at]! + a * (xu * xc[w]! - cov[at]!);
      cov[at] = next;
      cov[iw * d + iu] = next;
    }
    const at = row + iu;
    cov[at] = cov[at]! + a * (xu * xu - cov[at]!);
  }
  m.n = n;
  // Only a judged sample has a MEWMA statistic to learn (not one still waiting for its vectors to count).
  if (!(p.mewmaR > 0) || J.by === null) return;
  // The MEWMA statistic's own distribution (plain averages over its warm-up, then slow).
  const statN = m.statN + 1;
  const statLoc = m.statLoc;
  m.statLoc = locUpdate(statN, statLoc, m.statScale, J.zM, p.statAlpha, p.mewmaWarmupSamples, p.clip, 0.5);
  m.statScale = scaleUpdate(statN, statLoc, m.statScale, J.zM - statLoc, p.statAlpha, p.mewmaWarmupSamples, p.clip, 0.5);
  m.statN = statN;
}

export const multivariateDetector: DetectorModule<MultivariateParams, MultivariateState> = {
  kind: 'multivariate',
  summary: "how a device's metrics move together, per machine state: streaming Hotelling T² and MEWMA with a shrunk covariance, naming the metrics that moved most",
  paramsSchema: multivariateParamsSchema,
  defaultCategory: 'safety',
  initial: fresh,
  ...sampleSteps(copyState, update),
};
