import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type SampleInput } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import { sampleSteps, type DetectorModule } from './module.js';
import { cholesky, cholSolve } from './multivariate-math.js';
import { LEARNED, learnInto } from './robust-scale.js';

/**
 * Slow faults of a device's physics: each metric's next value against what the sample before and
 * the machine state predict for it, with a decision that needs persistence.
 *
 * The model is a first-order one (an ARX model): x_i(t) regressed on every metric one sample
 * before (its own too) and on the machine state now (one indicator column per state seen). A
 * temperature following its heat input with any thermal time constant τ is of that form
 * (T(t) = T(t−1) + (target − T(t−1))·Δt/τ, the target linear in the load and the state), so no lag
 * has to be chosen, and the residual is the part of each step that the physics did not make:
 * small, and little autocorrelated. A model of the level from the other metrics (residual.ts)
 * leaves the temperature's whole slow wander in its residual, more than a sensor drifting a few
 * degrees an hour. Regressors are taken one sample before, never now: a metric computed from
 * another (current from power) would otherwise predict it exactly, and the smallest
 * nonlinearity between them would be many residual σ.
 *
 * Lost cooling raises the temperature's target, so every step climbs more than predicted; a
 * sensor reading high by d makes each step fall back by d·Δt/τ more than the true temperature
 * does, plus its own rate: both shift the residual's mean for as long as the fault lasts. Each
 * residual is standardised by a scale learned per machine state (the model fits some states
 * better than others) and clipped to `clip` σ; the first `settleSamples` after a change of state
 * are not judged. Their means over blocks of `blockSamples` judged samples, in units of the learned
 * spread of such means (which holds whatever autocorrelation the residuals have), clipped to
 * `blockClip`, go into a two-sided CUSUM (slack `cusumK`, decision `cusumH`): a shift of a fraction
 * of a block's spread that lasts for hours raises, one odd block (a start, a stop, a trip's
 * run-up) does not. Two blocks in a row beyond `blockRaise` spreads on one side raise at once.
 *
 * A block is learned only when it ends quiet: no alert open and every block mean within
 * `learnBelow` spreads. Its samples wait in pending sums until then, so a drift that has begun
 * teaches the model nothing from the blocks that show it. Relations have a long memory
 * (1/`alpha` samples), the regressions (one factorisation: they share their regressors) are solved
 * every `refitEvery` learned samples. An alert clears after `clearBlocks` judged blocks in a row
 * with its metric's mean within `clearWithin` spreads (the sums, capped at twice the decision,
 * then start afresh), or, open for `relearnAfterSamples`, the model is re-learned. A device with one metric is not judged: nothing
 * else predicts it. Pairs of samples further apart than `maxStepFactor` × the usual interval are
 * neither judged nor learned (a gap is not a step).
 *
 * Its sample counts were chosen on data 10 s apart (blocks of 10 min, a memory of ~5.5 h), so as a
 * rule on every metric it is judged on the engine's cadence (`judgeEveryS`, cadence.ts): a device
 * reporting faster is judged every ~9 s on the means of its metrics, each mean within one machine
 * state, and "the sample before" is the previous judged mean. A first-order relation between
 * samples holds between such means too (with its own coefficients, which are learned), and the
 * gap check and per-state settling count judged means: a mean 3 × the usual 9 s after the last is
 * a gap, the first 3 means after a change of state (about 27 s) are not judged. Judged on every
 * sample, a 1 Hz machine's blocks were 1 min and its memory 33 min, too short for a temperature's
 * healthy wander.
 *
 * State: plain arrays (JSON). For d metrics, s state columns (0 without state, else `maxStates`)
 * and q = 2d + s: the mean (q) and covariance (its upper triangle, q(q + 1)/2) of (x(t), x(t−1), state)
 * and the block's pending sums of the same size, the coefficients (d·(q − d)), per metric and state
 * a residual scale and a pending sum, and per metric nine numbers: q(q + 1) + 2q + d(q − d) + 2d·s +
 * 2s + 9d, 474 numbers for a simulated machine (6 metrics, 4 states; 714 with full q × q matrices).
 */
export const dynamicsParamsSchema = z
  .strictObject({
    ...metricParam,
    /** EWMA weight of the mean and covariance (memory ≈ 1/alpha learned samples: ~5.5 h at 10-s samples). */
    alpha: z.number().gt(0).max(1).default(0.0005),
    /** Samples learned before the regressions are solved. */
    warmupSamples: z.number().int().min(10).default(500),
    refitEvery: z.number().int().positive().default(50),
    /** Ridge × each regressor's variance: collinear metrics (power, current, power factor) stay solvable. */
    ridge: z.number().min(0).default(1e-4),
    maxMetrics: z.number().int().min(2).max(16).default(12),
    /** Machine states given an indicator column (first seen first); a sample in another state is neither judged nor learned. */
    maxStates: z.number().int().min(1).max(8).default(4),
    /** EWMA weight of each residual's location and scale per machine state. */
    residualAlpha: z.number().gt(0).max(1).default(0.002),
    /** Residuals learned in a machine state before residuals in it are judged. */
    stateWarmupSamples: z.number().int().min(1).default(200),
    /** Samples after a change of machine state that are not judged (the step across it is the least linear). */
    settleSamples: z.number().int().min(0).default(3),
    /** Standardised residuals are clipped to ±clip before they enter the sums (and clip the learning). */
    clip: z.number().positive().default(4),
    /** Judged samples per block: the CUSUM takes each block's mean residual. */
    blockSamples: z.number().int().positive().default(60),
    /** EWMA weight of the location and spread of each metric's block means (memory ~50 blocks). */
    blockAlpha: z.number().gt(0).max(1).default(0.02),
    /** Blocks learned before block means are judged. */
    warmupBlocks: z.number().int().min(2).default(30),
    /** Block means enter the CUSUM clipped to ±blockClip spreads: one odd block (a trip's run-up) must not decide alone. */
    blockClip: z.number().positive().default(3),
    /** Two consecutive block means beyond this many spreads, on the same side, raise at once. */
    blockRaise: z.number().positive().default(20),
    /** CUSUM slack and decision, in spreads of a block mean. */
    cusumK: z.number().min(0).default(0.75),
    cusumH: z.number().positive().default(30),
    /** A block whose mean is more than this many spreads from the usual is not learned (nor is any block while an alert is open). */
    learnBelow: z.number().positive().default(3),
    /** An alert clears after `clearBlocks` judged blocks in a row whose mean for its metric is within `clearWithin` spreads. */
    clearWithin: z.number().positive().default(1),
    clearBlocks: z.number().int().positive().default(3),
    relearnAfterSamples: z.number().int().positive().default(4320),
    maxStepFactor: z.number().gt(1).default(3),
    maxGapS: z.number().positive().default(3600),
    /**
     * In a rule on every metric, a device reporting faster than this is judged about this often,
     * on the mean of each metric since the last judged sample (cadence.ts, read by the engine);
     * data this far apart or further is judged sample by sample as it comes. 0: every sample.
     * The sample counts above were chosen on data 10 s apart, so the default keeps their times.
     */
    judgeEveryS: z.number().min(0).default(10),
  })
  ;

export type DynamicsParams = z.output<typeof dynamicsParamsSchema>;

export interface DynamicsState {
  /** Tracked metrics, first seen first (index i of the per-metric arrays). */
  metrics: string[];
  /** Machine state codes with an indicator column, first seen first; `slots` columns (0 for a device without state). */
  codes: number[];
  slots: number;
  /** Samples learned since the last (re)start, and since the last refit. */
  n: number;
  sinceFit: number;
  /** The last sample's values (valid when `prevOk`), its state code (−1: none) and time. */
  prev: number[];
  prevOk: boolean;
  prevCode: number;
  lastTs: number | null;
  /** The usual interval between samples, s (an EWMA). */
  stepS: number;
  /** Samples still to skip judging after a change of state. */
  settle: number;
  /**
   * EWMA mean (q) and covariance of u = (x(t), x(t−1), state indicators): the upper triangle only,
   * row by row (q(q + 1)/2 numbers; tri() gives where row i starts). A state saved with the full
   * q × q matrix is packed on its next sample (packTriangles).
   */
  mean: number[];
  cov: number[];
  /** Per metric: coefficients over u (q each, its own x(t) 0); empty until fitted. */
  beta: number[];
  /** Per metric and context (state column, or one context without state): residual scale (σ); per context: samples learned. */
  rScale: number[];
  rN: number[];
  /** The block's pending sums, learned when it ends quiet: deviations of u from the mean (q), their products (packed upper triangle, as cov), samples; absolute residuals per metric and context, samples per context. */
  pSum: number[];
  pCross: number[];
  pN: number;
  pAbs: number[];
  pCnt: number[];
  /** Per metric: sum of standardised residuals over the block's `judgedIn` judged samples (of `inBlock`), the last block's mean. */
  acc: number[];
  judgedIn: number;
  inBlock: number;
  blockMean: number[];
  /** Per metric: learned location and spread of block means, over `blocks` learned blocks. */
  bLoc: number[];
  bScale: number[];
  blocks: number;
  /** Per metric: the last judged block's mean in spreads (0 before any). */
  lastY: number[];
  /** Per metric: CUSUM of standardised block means, upwards and downwards. */
  up: number[];
  down: number[];
  active: boolean;
  /** The metric the open alert is about (index), −1 when none. */
  alerted: number;
  openFor: number;
  /** Judged blocks in a row with the alert's metric back within `clearWithin`. */
  calm: number;
}

const FRESH: DynamicsState = {
  metrics: [],
  codes: [],
  slots: 0,
  n: 0,
  sinceFit: 0,
  prev: [],
  prevOk: false,
  prevCode: -1,
  lastTs: null,
  stepS: 0,
  settle: 0,
  mean: [],
  cov: [],
  beta: [],
  rScale: [],
  rN: [],
  pSum: [],
  pCross: [],
  pN: 0,
  pAbs: [],
  pCnt: [],
  acc: [],
  judgedIn: 0,
  inBlock: 0,
  blockMean: [],
  bLoc: [],
  bScale: [],
  blocks: 0,
  lastY: [],
  up: [],
  down: [],
  active: false,
  alerted: -1,
  openFor: 0,
  calm: 0,
};

/**
 * k zeros in an array V8 keeps as packed doubles from the start. `Array(k).fill(0)` makes holey
 * small-integer arrays that turn into double arrays at their first fractional value, so the same
 * loops met arrays of two or three element kinds (fresh states, learned ones, and fresh ones made
 * after an allocation site had learned) and their optimised code was thrown away and rebuilt.
 */
function zeros(k: number): number[] {
  const a = [0.5];
  a.pop();
  for (let i = 0; i < k; i++) a.push(0);
  // A copy of the exact length: an array grown by push keeps room for half as much again (a
  // covariance of 136 numbers took the room of 212), and these are kept per device.
  return a.slice();
}

/**
 * Where row i of a packed upper triangle of a q × q matrix would start if rows were q long: entry
 * (i, j), j ≥ i, is at tri(q, i) + j. Row i holds q − i entries, so it starts at
 * i·q − i(i − 1)/2, less the i entries left of the diagonal.
 */
const tri = (q: number, i: number): number => i * q - ((i * (i + 1)) >> 1);

/** Numbers in a packed upper triangle of a q × q matrix. */
const triLength = (q: number): number => (q * (q + 1)) >> 1;

/**
 * A state saved when the covariance and the pending products were kept as full q × q matrices
 * (their upper triangle used): the same numbers, packed.
 */
function packTriangles(s: DynamicsState, q: number): void {
  const pack = (full: readonly number[]): number[] => {
    const out = zeros(triLength(q));
    for (let i = 0; i < q; i++) for (let j = i; j < q; j++) out[tri(q, i) + j] = full[i * q + j]!;
    return out;
  };
  s.cov = pack(s.cov);
  s.pCross = pack(s.pCross);
}

/** A fresh model of `metrics`, with `slots` state columns. */
function start(metrics: string[], slots: number, lastTs: number | null): DynamicsState {
  const d = metrics.length;
  const q = 2 * d + slots;
  const contexts = d * Math.max(1, slots);
  return {
    ...FRESH,
    metrics,
    codes: [],
    slots,
    prev: zeros(d),
    // Empty until fitted, but of the element kind of the coefficients that replace it.
    beta: zeros(0),
    lastTs,
    mean: zeros(q),
    cov: zeros(triLength(q)),
    rScale: zeros(contexts),
    rN: zeros(Math.max(1, slots)),
    pSum: zeros(q),
    pCross: zeros(triLength(q)),
    pAbs: zeros(contexts),
    pCnt: zeros(Math.max(1, slots)),
    acc: zeros(d),
    blockMean: zeros(d),
    bLoc: zeros(d),
    bScale: zeros(d),
    lastY: zeros(d),
    up: zeros(d),
    down: zeros(d),
  };
}

// Scratch buffers (never part of the state): u of the current sample, each metric's residual, and the fit's matrices.
let U = new Float64Array(0);
let RES = new Float64Array(0);
let SXX = new Float64Array(0);
let L = new Float64Array(0);
let SXY = new Float64Array(0);
let B = new Float64Array(0);

function ensureScratch(q: number): void {
  if (U.length >= q) return;
  U = new Float64Array(q);
  RES = new Float64Array(q);
  SXX = new Float64Array(q * q);
  L = new Float64Array(q * q);
  SXY = new Float64Array(q);
  B = new Float64Array(q);
}

/** cov[a][b] from the packed upper triangle. */
const covAt = (cov: readonly number[], q: number, a: number, b: number): number => (a <= b ? cov[tri(q, a) + b]! : cov[tri(q, b) + a]!);

/**
 * Every metric's ridge regression on the past and the state (u's entries from d on: every metric one
 * sample before, the state indicators), from the covariance: one factorisation for all metrics,
 * since they share their regressors. False (coefficients kept) when it is not solvable.
 */
function fit(p: DynamicsParams, s: DynamicsState): boolean {
  const d = s.metrics.length;
  const q = 2 * d + s.slots;
  const k = q - d;
  for (let a = 0; a < k; a++) {
    const ia = d + a;
    const va = covAt(s.cov, q, ia, ia);
    // A column without variance (a state not seen since the start) gets coefficient 0.
    for (let b = 0; b < k; b++) SXX[a * k + b] = a === b ? va * (1 + p.ridge) + 1e-12 : va > 0 && covAt(s.cov, q, d + b, d + b) > 0 ? covAt(s.cov, q, ia, d + b) : 0;
  }
  if (!cholesky(SXX, k, L)) return false;
  const beta = s.beta.length === d * k ? s.beta : zeros(d * k);
  for (let i = 0; i < d; i++) {
    for (let a = 0; a < k; a++) SXY[a] = covAt(s.cov, q, d + a, d + a) > 0 ? covAt(s.cov, q, d + a, i) : 0;
    cholSolve(L, SXY, k, B);
    for (let a = 0; a < k; a++) beta[i * k + a] = B[a]!;
  }
  s.beta = beta;
  return true;
}

/** The state's indicator column of `code`, adding it while there is room; −1 without one. */
function slotOf(p: DynamicsParams, s: DynamicsState, code: number): number {
  const at = s.codes.indexOf(code);
  if (at >= 0) return at;
  if (s.codes.length >= Math.min(p.maxStates, s.slots)) return -1;
  s.codes.push(code);
  return s.codes.length - 1;
}

/** The tracked metrics are exactly those of the sample (up to maxMetrics, in its order). */
function sameMetrics(s: DynamicsState, input: SampleInput, maxMetrics: number): boolean {
  const list = input.list;
  const m = s.metrics;
  if (list !== undefined) {
    const count = Math.min(list.count, maxMetrics);
    if (count !== m.length) return false;
    for (let j = 0; j < count; j++) if (list.names[j] !== m[j]) return false;
    return true;
  }
  let j = 0;
  for (const name in input.values) {
    if (j >= maxMetrics) break;
    if (m[j++] !== name) return false;
  }
  return j === m.length;
}

function metricsOf(input: SampleInput, maxMetrics: number): string[] {
  const list = input.list;
  if (list !== undefined) return list.names.slice(0, Math.min(list.count, maxMetrics));
  return Object.keys(input.values).slice(0, maxMetrics);
}

/**
 * One sample, updating `s` in place (the engine keeps one state per device and rule); the pure
 * `stepSample` copies the state first.
 */
function update(p: DynamicsParams, s: DynamicsState, input: SampleInput): readonly DetectorEvent[] {
  const { ts, values } = input;
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  let events: readonly DetectorEvent[] = NO_EVENTS;
  const gapS = s.lastTs === null ? 0 : (ts - s.lastTs) / 1000;
  const slots = input.state === undefined ? 0 : p.maxStates;
  const same = sameMetrics(s, input, p.maxMetrics);
  // Read outside the closure below: a state captured by a closure lives in a context, and every one
  // of this function's many reads of it would go through that.
  const tracked = s.metrics;
  // A sample missing a tracked metric is skipped (and the next one is no step from it).
  if (!same && s.n > 0 && gapS <= p.maxGapS && slots === s.slots && metricsOf(input, p.maxMetrics).every((m) => tracked.includes(m))) {
    s.lastTs = ts;
    s.prevOk = false;
    return NO_EVENTS;
  }
  // A long gap, a new metric or a state appearing restart the model: its relations are new.
  if (gapS > p.maxGapS || !same || slots !== s.slots) {
    if (s.active) events = [{ kind: 'clear', ts, value: 0, message: gapS > p.maxGapS ? messages.dynamicsReset(gapS * 1000) : messages.dynamicsCleared() }];
    Object.assign(s, start(metricsOf(input, p.maxMetrics), slots, null));
  }
  const d = s.metrics.length;
  s.lastTs = ts;
  if (d < 2) return events;
  const code = input.state === undefined ? -1 : input.state;
  const slot = slots === 0 ? 0 : slotOf(p, s, code);
  // Metrics read by position when the engine gives them so (their order is the tracked one).
  const list = input.list;
  const byList = list !== undefined;
  const changed = code !== s.prevCode;
  const wasOk = s.prevOk;
  const pairGap = gapS;
  const q = 2 * d + slots;
  ensureScratch(q);
  if (s.cov.length !== triLength(q)) packTriangles(s, q);
  // u = (x(t), x(t−1), indicators); x(t−1) from the state before it is overwritten.
  for (let i = 0; i < d; i++) {
    U[i] = byList ? list.values[i]! : values[s.metrics[i]!]!;
    U[d + i] = s.prev[i]!;
  }
  for (let c = 0; c < slots; c++) U[2 * d + c] = c === slot ? 1 : 0;
  for (let i = 0; i < d; i++) s.prev[i] = U[i]!;
  s.prevOk = true;
  s.prevCode = code;
  if (changed) s.settle = p.settleSamples;
  // The first sample, a step across a gap, or a state without a column: nothing to judge or learn.
  if (!wasOk || slot < 0 || (s.stepS > 0 && pairGap > p.maxStepFactor * s.stepS)) return events;
  s.stepS = s.stepS === 0 ? pairGap : s.stepS + 0.01 * (Math.min(pairGap, 2 * s.stepS) - s.stepS);

  const contexts = Math.max(1, slots);
  const fitted = s.beta.length > 0;
  const judged = fitted && s.settle === 0 && s.rN[slot]! >= p.stateWarmupSamples;
  if (s.settle > 0) s.settle -= 1;
  if (fitted) {
    for (let i = 0; i < d; i++) {
      let pred = s.mean[i]!;
      const row = i * (q - d);
      for (let a = d; a < q; a++) pred += s.beta[row + a - d]! * (U[a]! - s.mean[a]!);
      RES[i] = U[i]! - pred;
    }
  }
  // Standardised residuals are summed over the block's judged samples; the block's mean, in units
  // of the learned spread of such means (which holds whatever autocorrelation the residuals have),
  // enters the CUSUM.
  if (judged) {
    for (let i = 0; i < d; i++) {
      const scale = s.rScale[i * contexts + slot]!;
      if (scale > 0) s.acc[i] = s.acc[i]! + Math.max(-p.clip, Math.min(p.clip, RES[i]! / scale));
    }
    s.judgedIn += 1;
  }
  if (!s.active) pend(p, s, q, slot, fitted);
  else s.openFor += 1;
  s.inBlock += 1;
  if (s.inBlock < p.blockSamples) return events;

  // The block ends: judge its mean, then learn it only if it was quiet.
  let quiet = !s.active;
  let judgedBlock = false;
  if (s.judgedIn >= p.blockSamples / 2) {
    judgedBlock = true;
    const cap = 2 * p.cusumH;
    for (let i = 0; i < d; i++) {
      const m = s.acc[i]! / s.judgedIn;
      s.blockMean[i] = m;
      if (s.blocks < p.warmupBlocks || !(s.bScale[i]! > 0)) continue;
      const y = (m - s.bLoc[i]!) / s.bScale[i]!;
      if (Math.abs(y) > p.learnBelow) quiet = false;
      const yc = Math.max(-p.blockClip, Math.min(p.blockClip, y));
      s.up[i] = Math.min(cap, Math.max(0, s.up[i]! + yc - p.cusumK));
      s.down[i] = Math.min(cap, Math.max(0, s.down[i]! - yc - p.cusumK));
      // Two blocks in a row beyond `blockRaise` on the same side decide at once: a shift that
      // large (lost cooling on a fast machine) need not wait for the clipped sum.
      const last = s.lastY[i]!;
      if (y > p.blockRaise && last > p.blockRaise) s.up[i] = cap;
      if (y < -p.blockRaise && last < -p.blockRaise) s.down[i] = cap;
      s.lastY[i] = y;
    }
  }
  s.acc.fill(0);
  s.judgedIn = 0;
  s.inBlock = 0;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < d; i++) {
    const sum = Math.max(s.up[i]!, s.down[i]!);
    if (sum > worst) [worst, worstAt] = [sum, i];
  }

  if (s.active) {
    const m = s.alerted;
    if (s.openFor >= p.relearnAfterSamples) {
      events = [...events, { kind: 'clear', ts, value: worst, message: messages.dynamicsRelearned(s.openFor) }];
      Object.assign(s, start(s.metrics, s.slots, ts), { prev: [...s.prev], prevOk: true, prevCode: code, stepS: s.stepS });
    } else {
      if (judgedBlock) s.calm = Math.abs(s.lastY[m]!) <= p.clearWithin ? s.calm + 1 : 0;
      if (s.calm >= p.clearBlocks) {
        // The decision starts afresh: what the sums held was the alert's.
        events = [...events, { kind: 'clear', ts, value: worst, message: messages.dynamicsCleared() }];
        Object.assign(s, { active: false, alerted: -1, openFor: 0, calm: 0 });
        s.up.fill(0);
        s.down.fill(0);
      }
    }
    clearPending(s);
    return events;
  }
  if (worst > p.cusumH) {
    const name = s.metrics[worstAt]!;
    const value = U[worstAt]!;
    const higher = s.up[worstAt]! >= s.down[worstAt]!;
    events = [...events, { kind: 'raise', ts, value, threshold: p.cusumH, message: messages.dynamicsRaised(name, value, higher) }];
    Object.assign(s, { active: true, alerted: worstAt, openFor: 0 });
    clearPending(s);
    return events;
  }
  if (!quiet) {
    clearPending(s);
    return events;
  }
  commit(p, s, q);
  if (judgedBlock) {
    const nb = s.blocks + 1;
    s.blocks = nb;
    for (let i = 0; i < d; i++) {
      learnInto(nb, s.bLoc[i]!, s.bScale[i]!, s.blockMean[i]!, p.blockAlpha, p.warmupBlocks, p.clip);
      s.bLoc[i] = LEARNED.loc;
      s.bScale[i] = LEARNED.scale;
    }
  }
  return events;
}

/**
 * Add the sample in U (residuals in RES when fitted) to the block's pending sums: deviations from
 * the current mean and their products, and each residual's absolute size in its state. They are
 * learned when the block ends quiet (commit), else dropped: a block whose residuals have begun
 * to drift teaches the model nothing.
 */
function pend(p: DynamicsParams, s: DynamicsState, q: number, slot: number, fitted: boolean): void {
  const mean = s.mean;
  const sum = s.pSum;
  const cross = s.pCross;
  for (let i = 0; i < q; i++) {
    const di = U[i]! - mean[i]!;
    sum[i] = sum[i]! + di;
    const row = tri(q, i);
    for (let j = i; j < q; j++) cross[row + j] = cross[row + j]! + di * (U[j]! - mean[j]!);
  }
  s.pN += 1;
  // The residuals' part runs before the model is fitted too, adding 0: optimised code that reaches
  // an access or call it never ran before (the model fits long after pend is optimised, a state
  // warms later still) has no type feedback for it and is thrown away. Likewise the bound is
  // computed in every case and is none before the state is warm (Math.min(r, Infinity) is r).
  const d = s.metrics.length;
  const contexts = Math.max(1, s.slots);
  const warm = s.rN[slot]! >= p.stateWarmupSamples;
  const rScale = s.rScale;
  const pAbs = s.pAbs;
  for (let i = 0; i < d; i++) {
    const at = i * contexts + slot;
    const bound = p.clip * rScale[at]!;
    const r = Math.min(Math.abs(RES[i]!), warm ? bound : Infinity);
    pAbs[at] = pAbs[at]! + (fitted ? r : 0);
  }
  s.pCnt[slot] = s.pCnt[slot]! + (fitted ? 1 : 0);
}

function clearPending(s: DynamicsState): void {
  s.pSum.fill(0);
  s.pCross.fill(0);
  s.pN = 0;
  s.pAbs.fill(0);
  s.pCnt.fill(0);
}

/** Mean absolute deviation → σ for normal data. */
const MAD_TO_STD = 1.25;

/** Learn the pending block: merge it into the EWMA mean and covariance and the residual scales; refit when due. */
function commit(p: DynamicsParams, s: DynamicsState, q: number): void {
  const m = s.pN;
  if (m > 0) {
    // The block as m samples of an EWMA: weight 1 − (1 − alpha)^m, or their share of all so far while that is larger.
    const w = Math.max(1 - (1 - p.alpha) ** m, m / (s.n + m));
    const mean = s.mean;
    const cov = s.cov;
    for (let i = 0; i < q; i++) {
      const wi = (w * s.pSum[i]!) / m;
      const row = tri(q, i);
      for (let j = i; j < q; j++) cov[row + j] = (1 - w) * cov[row + j]! + (w * s.pCross[row + j]!) / m - (wi * w * s.pSum[j]!) / m;
    }
    for (let i = 0; i < q; i++) mean[i] = mean[i]! + (w * s.pSum[i]!) / m;
    s.n += m;
    s.sinceFit += m;
  }
  const d = s.metrics.length;
  const contexts = Math.max(1, s.slots);
  for (let c = 0; c < contexts; c++) {
    const k = s.pCnt[c]!;
    if (k === 0) continue;
    const rn = s.rN[c]!;
    const w = Math.max(1 - (1 - p.residualAlpha) ** k, k / (rn + k));
    for (let i = 0; i < d; i++) {
      const at = i * contexts + c;
      s.rScale[at] = s.rScale[at]! + w * ((MAD_TO_STD * s.pAbs[at]!) / k - s.rScale[at]!);
    }
    s.rN[c] = rn + k;
  }
  clearPending(s);
  if (s.n >= p.warmupSamples && (s.beta.length === 0 || s.sinceFit >= p.refitEvery) && fit(p, s)) s.sinceFit = 0;
}

/** A copy sharing nothing that update changes in place. */
function copyState(s: DynamicsState): DynamicsState {
  return {
    ...s,
    metrics: [...s.metrics],
    codes: [...s.codes],
    prev: [...s.prev],
    mean: [...s.mean],
    cov: [...s.cov],
    beta: [...s.beta],
    rScale: [...s.rScale],
    rN: [...s.rN],
    pSum: [...s.pSum],
    pCross: [...s.pCross],
    pAbs: [...s.pAbs],
    pCnt: [...s.pCnt],
    acc: [...s.acc],
    blockMean: [...s.blockMean],
    bLoc: [...s.bLoc],
    bScale: [...s.bScale],
    lastY: [...s.lastY],
    up: [...s.up],
    down: [...s.down],
  };
}

export const dynamicsDetector: DetectorModule<DynamicsParams, DynamicsState> = {
  kind: 'dynamics',
  summary: "each metric's next value against what its last value and the device's other metrics predict, with a CUSUM on the residual (slow faults: lost cooling, a drifting sensor)",
  paramsSchema: dynamicsParamsSchema,
  defaultCategory: 'safety',
  initial: () => copyState(FRESH),
  ...sampleSteps(copyState, update),
};
