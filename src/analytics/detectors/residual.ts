import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type SampleInput } from '../types.js';
import { isStale, metricParam } from './latch.js';
import { messages } from './messages.js';
import { sampleSteps, type DetectorModule } from './module.js';
import { cholesky, cholSolve } from './multivariate-math.js';
import { robustUpdate, scaleUpdate, usableScale } from './robust-scale.js';

/**
 * Each metric of a device judged against what the device's other metrics predict for it, now and
 * as they were over the last minutes. Temperature lags load by the machine's thermal time
 * constant (minutes to half an hour), so a machine that runs hotter than its recent load explains
 * has lost cooling, and a temperature that climbs while the load that drives it does not is a
 * drifting sensor: slow faults that stay within each metric's own range and that a test of the
 * metric alone learns as its new normal.
 *
 * Every metric is standardised by its robust location and scale (robust-scale.ts), and smoothed by
 * two first-order lags (time constants `lagShortS` and `lagLongS`, in seconds so that they mean the
 * same whatever the sample rate; a sum of two such lags fits any thermal time constant between
 * and around them). The vector u = (z, lagShort(z), lagLong(z)) has an EWMA mean and covariance;
 * every `refitEvery` samples each metric's linear regression on the other metrics' three entries
 * (never its own: its own lag would follow a drift) is solved from that covariance (ridge
 * `ridge` × the diagonal, so a short or collinear history stays solvable). Per sample, each
 * metric's residual in units of its regression's residual spread is averaged over about
 * `meanSamples` samples, and that average is judged against its own learned location and spread
 * (residuals of slow signals are smooth, so their average wanders more than white noise would):
 * beyond `zRaise` it raises, naming the metric.
 *
 * Learns only quiet samples (no alert open, every averaged residual within `learnBelow`), so a
 * fault is not learned as normal; an alert clears after `holdSamples` samples within `zClear`, or,
 * open for `relearnAfterSamples`, is taken as the new normal (everything re-learned). State is
 * plain arrays (JSON), bounded by `maxMetrics` (d) metrics: 9d² + 12d numbers.
 */
export const residualParamsSchema = z
  .strictObject({
    ...metricParam,
    /**
     * EWMA weight of the mean and covariance of u (memory ≈ 1/alpha samples, 2,000: over five
     * hours at 10-s samples, so a fault developing over an hour or two is not learned as normal).
     */
    alpha: z.number().gt(0).max(1).default(0.0005),
    /** EWMA weight of each metric's robust location and scale. */
    scaleAlpha: z.number().gt(0).max(1).default(0.001),
    /** Samples learned before the regressions are solved, and again before their residuals are judged. */
    warmupSamples: z.number().int().min(10).default(500),
    lagShortS: z.number().positive().default(300),
    lagLongS: z.number().positive().default(1200),
    refitEvery: z.number().int().positive().default(50),
    ridge: z.number().min(0).default(0.05),
    /**
     * Judged only when its regression explains at least this share of a metric's variance (R²): a
     * metric the others barely predict (noisy vibration) has residuals that are mostly its own noise.
     */
    minExplained: z.number().min(0).max(1).default(0.9),
    /** Columns tracked: metrics and machine-state indicators, first seen first. */
    maxMetrics: z.number().int().min(2).max(16).default(12),
    /** Span of each residual's short-window mean (an EWMA with weight 1/meanSamples). */
    meanSamples: z.number().positive().default(60),
    zRaise: z.number().positive().default(10),
    /**
     * Floor of the learned spread of each residual's average, in residual σ: learned over a few
     * hundred quiet samples it can come out far narrower than the months ahead need.
     */
    minSpread: z.number().positive().default(0.5),
    /** Samples learned in a machine state before samples in it are judged. */
    stateWarmupSamples: z.number().int().min(0).default(500),
    /** Consecutive samples beyond zRaise before it raises: the faults this is for last hours, a start or a stop does not. */
    raiseSamples: z.number().int().positive().default(90),
    zClear: z.number().min(0).default(3),
    learnBelow: z.number().positive().default(4),
    clip: z.number().positive().default(3),
    holdSamples: z.number().int().positive().default(100),
    relearnAfterSamples: z.number().int().positive().default(2000),
    maxGapS: z.number().positive().default(3600),
  })
  .refine((p) => p.zClear < p.zRaise, { message: 'zClear must be smaller than zRaise', path: ['zClear'] })
  .refine((p) => p.lagShortS < p.lagLongS, { message: 'lagShortS must be shorter than lagLongS', path: ['lagShortS'] });

export type ResidualParams = z.output<typeof residualParamsSchema>;

export interface ResidualState {
  /** Tracked metrics, first seen first; index i of the per-metric arrays. */
  names: string[];
  /** Samples learned (all metrics present) since the last (re)start, and since the last refit. */
  n: number;
  sinceFit: number;
  /** Per column: samples learned while it was 1 (machine-state indicators; 0 for metrics). */
  inState: number[];
  /** Per metric: robust location and scale, last standardised value, its two lags. */
  loc: number[];
  scale: number[];
  last: number[];
  lagShort: number[];
  lagLong: number[];
  /** EWMA mean (3d) and covariance (3d × 3d, row-major) of u. */
  mean: number[];
  cov: number[];
  /** Per metric: regression coefficients over u (3d, its own three entries 0), residual spread and share of variance explained; empty until fitted. */
  beta: number[];
  sigma: number[];
  explained: number[];
  /** Per metric: short-window mean of the standardised residual, its learned location and spread, samples learned. */
  rbar: number[];
  rLoc: number[];
  rScale: number[];
  rN: number;
  /** Consecutive samples beyond zRaise so far. */
  over: number;
  active: boolean;
  openFor: number;
  calm: number;
  lastTs: number | null;
}

const FRESH: ResidualState = {
  names: [],
  n: 0,
  sinceFit: 0,
  inState: [],
  loc: [],
  scale: [],
  last: [],
  lagShort: [],
  lagLong: [],
  mean: [],
  cov: [],
  beta: [],
  sigma: [],
  explained: [],
  rbar: [],
  rLoc: [],
  rScale: [],
  rN: 0,
  over: 0,
  active: false,
  openFor: 0,
  calm: 0,
  lastTs: null,
};

/** A fresh state tracking `names` (a device that adds a metric starts over: its regressions change). */
function start(names: string[], ts: number | null): ResidualState {
  const d = names.length;
  const zeros = (k: number): number[] => Array<number>(k).fill(0);
  return { ...FRESH, names, inState: zeros(d), loc: zeros(d), scale: zeros(d), last: zeros(d), lagShort: zeros(d), lagLong: zeros(d), mean: zeros(3 * d), cov: zeros(9 * d * d), rbar: zeros(d), rLoc: zeros(d), rScale: zeros(d), lastTs: ts };
}

/**
 * The state with more columns (a machine state seen for the first time), keeping what was
 * learned: the new columns were 0 until now, so their entries of the mean and covariance are 0.
 * The regressions are solved again at the next learned sample. A new metric, by contrast, restarts
 * the model (start): nothing about it is known.
 */
function withColumns(s: ResidualState, names: string[]): ResidualState {
  const d0 = s.names.length;
  const d = names.length;
  const pad = (a: readonly number[]): number[] => [...a, ...Array<number>(d - d0).fill(0)];
  // u's index of (block b, metric i) is b·d + i: remap the 3d0 entries into 3d.
  const at = (k: number): number => Math.floor(k / d0) * d + (k % d0);
  const mean = Array<number>(3 * d).fill(0);
  const cov = Array<number>(9 * d * d).fill(0);
  for (let a = 0; a < 3 * d0; a++) {
    mean[at(a)] = s.mean[a]!;
    for (let b = 0; b < 3 * d0; b++) cov[at(a) * 3 * d + at(b)] = s.cov[a * 3 * d0 + b]!;
  }
  return { ...s, names, inState: pad(s.inState), loc: pad(s.loc), scale: pad(s.scale), last: pad(s.last), lagShort: pad(s.lagShort), lagLong: pad(s.lagLong), mean, cov, beta: [], sigma: [], explained: [], rbar: pad(s.rbar), rLoc: pad(s.rLoc), rScale: pad(s.rScale) };
}

/** Each metric's regression on the other metrics' entries of u, from the covariance; null when not solvable. */
function fit(p: ResidualParams, s: ResidualState): { beta: number[]; sigma: number[]; explained: number[] } | null {
  const d = s.names.length;
  const q = 3 * d;
  const k = q - 3;
  const beta = Array<number>(d * q).fill(0);
  const sigma = Array<number>(d).fill(0);
  const shares = Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    const xs: number[] = [];
    for (let a = 0; a < q; a++) if (a % d !== i) xs.push(a);
    const sxx = new Float64Array(k * k);
    const sxy = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) sxx[a * k + b] = s.cov[xs[a]! * q + xs[b]!]! * (a === b ? 1 + p.ridge : 1) + (a === b ? 1e-6 : 0);
      sxy[a] = s.cov[xs[a]! * q + i]!;
    }
    const l = new Float64Array(k * k);
    if (!cholesky(sxx, k, l)) return null;
    const b = new Float64Array(k);
    cholSolve(l, sxy, k, b);
    let explained = 0;
    for (let a = 0; a < k; a++) {
      beta[i * q + xs[a]!] = b[a]!;
      explained += b[a]! * sxy[a]!;
    }
    const syy = s.cov[i * q + i]!;
    // Never below 1 % of the metric's own variance: a near-perfect fit must not make its last digit an alarm.
    sigma[i] = Math.sqrt(Math.max(syy - explained, 1e-2 * syy, Number.MIN_VALUE));
    shares[i] = syy > 0 ? 1 - sigma[i]! ** 2 / syy : 0;
  }
  return { beta, sigma, explained: shares };
}

/**
 * The machine state as indicator columns, one per state seen (`state=2`: 1 while running, else 0):
 * inputs of every regression (a stop explains a cooling machine, and its lags how long ago it
 * stopped), never judged themselves. Indicators, not the state's number: a state's effect on a
 * metric is its own, not proportional to the code.
 */
const STATE_PREFIX = 'state=';

/**
 * One sample, updating `s` in place (the engine keeps one state per device and rule); the pure
 * `stepSample` copies the state first. Arrays are changed in place except when a model starts
 * over or grows, which replaces them.
 */
function update(p: ResidualParams, s: ResidualState, input: SampleInput): readonly DetectorEvent[] {
  const { ts } = input;
  let values = input.values;
  if (input.state !== undefined) {
    const own = `${STATE_PREFIX}${input.state}`;
    const withStates: Record<string, number> = { ...input.values, [own]: 1 };
    for (const name of s.names) if (name.startsWith(STATE_PREFIX) && name !== own) withStates[name] = 0;
    values = withStates;
  }
  if (isStale(s.lastTs, ts)) return NO_EVENTS;
  let events: readonly DetectorEvent[] = NO_EVENTS;
  const gapS = s.lastTs === null ? 0 : (ts - s.lastTs) / 1000;
  if (gapS > p.maxGapS) {
    if (s.active) events = [{ kind: 'clear', ts, value: 0, message: messages.residualReset(gapS * 1000) }];
    Object.assign(s, start(s.names, null));
  }
  // New metrics (up to maxMetrics) restart the model with them; new machine states join it.
  let grown: string[] | null = null;
  for (const name in values) {
    if ((grown ?? s.names).length >= p.maxMetrics) break;
    if (!s.names.includes(name) && !(grown?.includes(name) ?? false)) (grown ??= [...s.names]).push(name);
  }
  if (grown) Object.assign(s, grown.slice(s.names.length).every((n) => n.startsWith(STATE_PREFIX)) && s.n > 0 ? withColumns(s, grown) : start(grown, s.lastTs));
  const d = s.names.length;
  if (d < 2) {
    s.lastTs = ts;
    return events;
  }
  // Every tracked metric must be present: a regression needs all its inputs at one time.
  for (const name of s.names) if (values[name] === undefined) return events;

  const q = 3 * d;
  const warm = s.n >= p.warmupSamples;
  // Until a metric has a spread (its first samples) it stands at its location.
  // State indicators enter as they are (0 or 1).
  const u = new Array<number>(q);
  // The lags advance by the time since the last sample, whatever the sample rate.
  const wS = s.n === 0 ? 1 : 1 - Math.exp(-gapS / p.lagShortS);
  const wL = s.n === 0 ? 1 : 1 - Math.exp(-gapS / p.lagLongS);
  for (let i = 0; i < d; i++) {
    const name = s.names[i]!;
    const z = name.startsWith(STATE_PREFIX) ? values[name]! : s.n < 2 ? 0 : (values[name]! - s.loc[i]!) / usableScale(s.loc[i]!, s.scale[i]!);
    s.last[i] = z;
    s.lagShort[i] = s.lagShort[i]! + wS * (z - s.lagShort[i]!);
    s.lagLong[i] = s.lagLong[i]! + wL * (z - s.lagLong[i]!);
    u[i] = z;
    u[d + i] = s.lagShort[i]!;
    u[2 * d + i] = s.lagLong[i]!;
  }

  // Judge: each metric's residual, averaged, against its learned spread.
  let worst = 0;
  let worstAt = -1;
  if (warm && s.beta.length > 0) {
    for (let i = 0; i < d; i++) {
      let pred = 0;
      for (let a = 0; a < q; a++) pred += s.beta[i * q + a]! * (u[a]! - s.mean[a]!);
      const res = Math.max(-p.clip * 3, Math.min(p.clip * 3, (u[i]! - s.mean[i]! - pred) / s.sigma[i]!));
      s.rbar[i] = s.rbar[i]! + (res - s.rbar[i]!) / p.meanSamples;
    }
    // A machine state with few learned samples (a stop, a fault) is not judged: they taught the
    // regressions little about it.
    const own = input.state === undefined ? -1 : s.names.indexOf(`${STATE_PREFIX}${input.state}`);
    const usual = input.state === undefined || (own >= 0 && s.inState[own]! >= p.stateWarmupSamples);
    if (s.rN >= p.warmupSamples && usual) {
      for (let i = 0; i < d; i++) {
        if (s.names[i]!.startsWith(STATE_PREFIX) || s.explained[i]! < p.minExplained) continue;
        const dev = Math.abs(s.rbar[i]! - s.rLoc[i]!) / usableScale(s.rLoc[i]!, s.rScale[i]!, p.minSpread);
        if (dev > worst) [worst, worstAt] = [dev, i];
      }
    }
  }
  s.lastTs = ts;

  if (s.active) {
    s.openFor += 1;
    s.calm = worst <= p.zClear ? s.calm + 1 : 0;
    if (s.openFor >= p.relearnAfterSamples) {
      events = [...events, { kind: 'clear', ts, value: worst, message: messages.residualRelearned(s.openFor) }];
      Object.assign(s, start(s.names, ts));
    } else if (s.calm >= p.holdSamples) {
      events = [...events, { kind: 'clear', ts, value: worst, message: messages.residualCleared() }];
      Object.assign(s, { active: false, openFor: 0, calm: 0 });
    }
    return events;
  }
  s.over = worst > p.zRaise ? s.over + 1 : 0;
  if (s.over >= p.raiseSamples) {
    const name = s.names[worstAt]!;
    const side = s.rbar[worstAt]! - s.rLoc[worstAt]! >= 0 ? 1 : -1;
    events = [...events, { kind: 'raise', ts, value: values[name]!, threshold: p.zRaise, message: messages.residualRaised(name, values[name]!, side * worst) }];
    Object.assign(s, { active: true, openFor: 0, calm: 0, over: 0 });
    return events;
  }
  if (worst <= p.learnBelow && s.over === 0) learn(p, s, values, u);
  return events;
}

/** Learn one quiet sample in place: locations and scales, the mean and covariance of u, the residual averages' spread; refit when due. */
function learn(p: ResidualParams, s: ResidualState, values: Readonly<Record<string, number>>, u: readonly number[]): void {
  const d = s.names.length;
  const q = 3 * d;
  const n = s.n + 1;
  for (let i = 0; i < d; i++) {
    const name = s.names[i]!;
    if (name.startsWith(STATE_PREFIX)) {
      s.inState[i] = s.inState[i]! + values[name]!;
      continue;
    }
    const r = robustUpdate(n, s.loc[i]!, s.scale[i]!, values[name]!, p.scaleAlpha, p.warmupSamples, p.clip);
    s.loc[i] = r.loc;
    s.scale[i] = r.scale;
  }
  const a = Math.max(p.alpha, 1 / n);
  for (let i = 0; i < q; i++) s.mean[i] = s.mean[i]! + a * (u[i]! - s.mean[i]!);
  for (let i = 0; i < q; i++) {
    const di = u[i]! - s.mean[i]!;
    for (let j = 0; j < q; j++) s.cov[i * q + j] = s.cov[i * q + j]! + a * (di * (u[j]! - s.mean[j]!) - s.cov[i * q + j]!);
  }
  const fitted = s.beta.length > 0;
  s.n = n;
  s.sinceFit += 1;
  if (n >= p.warmupSamples && (!fitted || s.sinceFit >= p.refitEvery)) {
    const f = fit(p, s);
    if (f) Object.assign(s, { beta: f.beta, sigma: f.sigma, explained: f.explained, sinceFit: 0 });
  }
  if (!fitted) return;
  s.rN += 1;
  for (let i = 0; i < d; i++) {
    const r = s.rbar[i]!;
    s.rScale[i] = scaleUpdate(s.rN, s.rLoc[i]!, s.rScale[i]!, r - s.rLoc[i]!, p.alpha, p.warmupSamples, p.clip, p.minSpread);
    s.rLoc[i] = s.rLoc[i]! + Math.max(p.alpha, 1 / s.rN) * (r - s.rLoc[i]!);
  }
}

/** A copy sharing nothing that update changes in place. */
function copyState(s: ResidualState): ResidualState {
  return {
    ...s,
    names: [...s.names],
    inState: [...s.inState],
    loc: [...s.loc],
    scale: [...s.scale],
    last: [...s.last],
    lagShort: [...s.lagShort],
    lagLong: [...s.lagLong],
    mean: [...s.mean],
    cov: [...s.cov],
    beta: [...s.beta],
    sigma: [...s.sigma],
    explained: [...s.explained],
    rbar: [...s.rbar],
    rLoc: [...s.rLoc],
    rScale: [...s.rScale],
  };
}

export const residualDetector: DetectorModule<ResidualParams, ResidualState> = {
  kind: 'residual',
  summary: "each metric against what the device's other metrics, now and lagged, predict for it (slow faults: lost cooling, a drifting sensor)",
  paramsSchema: residualParamsSchema,
  defaultCategory: 'safety',
  // Each state its own object: the engine updates its states in place (updateSample).
  initial: () => copyState(FRESH),
  ...sampleSteps(copyState, update),
};
