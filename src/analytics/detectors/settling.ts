/**
 * Recognising a signal that is still settling after a restart (robust.ts): a machine back from a
 * stop or an idle spell heats up (or cools down) towards its running level with its thermal time
 * constant, far from that level in its own σ for a good while, and that approach is physics, not
 * a fault. What tells it apart from a fault is its direction and pace: it moves towards the level
 * learned before, fast enough to close the gap within a plausible time constant. A fault (lost
 * cooling, a drift, a stuck valve) moves away from the level, or stops short of it.
 *
 * The trend is a straight line fitted by exponentially weighted least squares to the samples since
 * the restart (memory `samples`); its slope and its level now are what is judged. For a first-order
 * approach x(t) = L + (x₀ − L)·e^(−t/τ) the gap still to close is slope × τ, so an approach
 * explains the trend when it heads into the range of levels the signal may settle at and
 * slope × maxTau reaches that range.
 *
 * The sums are plain numbers of the detector's state (JSON), time in seconds from the restart.
 */
export interface TrendSums {
  /** Samples since the restart. */
  tk: number;
  /** Exponentially weighted sums: weights, t, v, t², t·v, v² (t in s from t0). */
  tw: number;
  tt: number;
  tv: number;
  ttt: number;
  ttv: number;
  tvv: number;
  /** Time of the first sample after the restart (ms). */
  t0: number;
}

/** The sums of a restart at `ts`, before its first sample. */
export function startTrend(s: TrendSums, ts: number): void {
  s.tk = 0;
  s.tw = 0;
  s.tt = 0;
  s.tv = 0;
  s.ttt = 0;
  s.ttv = 0;
  s.tvv = 0;
  s.t0 = ts;
}

/** Adds a sample to the fit (older ones weigh 1 − 1/samples less each time). */
export function addToTrend(s: TrendSums, ts: number, value: number, samples: number): void {
  const keep = 1 - 1 / samples;
  const t = (ts - s.t0) / 1000;
  s.tk++;
  s.tw = s.tw * keep + 1;
  s.tt = s.tt * keep + t;
  s.tv = s.tv * keep + value;
  s.ttt = s.ttt * keep + t * t;
  s.ttv = s.ttv * keep + t * value;
  s.tvv = s.tvv * keep + value * value;
}

/**
 * What the fit says now: the slope (per second), the fitted level at the last sample's time,
 * √(Σw·(t − t̄)²), and the σ of the values about the line: noise / spread is the slope's standard error.
 */
export const TREND = { slope: 0, level: 0, spread: 0, noise: 0 };

/** Writes the fitted slope and level at time `ts` into TREND (no object per sample). */
export function trendAt(s: TrendSums, ts: number): void {
  const t = (ts - s.t0) / 1000;
  const meanT = s.tt / s.tw;
  const meanV = s.tv / s.tw;
  const varT = s.ttt / s.tw - meanT * meanT;
  const slope = varT > 0 ? (s.ttv / s.tw - meanT * meanV) / varT : 0;
  TREND.slope = slope;
  TREND.level = meanV + slope * (t - meanT);
  TREND.spread = Math.sqrt(Math.max(0, varT) * s.tw);
  TREND.noise = Math.sqrt(Math.max(0, s.tvv / s.tw - meanV * meanV - slope * slope * varT));
}

/**
 * Whether the fitted trend is flat: its slope within twice its standard error, or so small that
 * even an approach with time constant `maxTauS` has less than `tolerance` still to go.
 */
export function trendFlat(maxTauS: number, tolerance: number): boolean {
  const move = Math.abs(TREND.slope);
  return move * TREND.spread <= 2 * TREND.noise || move * maxTauS <= tolerance;
}

/**
 * Whether the trend at `level`, moving at `slope` per second, is an approach towards some level
 * within `width` of `loc`: heading into that range, at a pace that reaches it with a time constant
 * of at most `maxTauS` (a first-order approach still has slope × τ to go).
 */
export function approachExplains(level: number, slope: number, loc: number, width: number, maxTauS: number): boolean {
  const reach = slope * maxTauS;
  return reach > 0 ? level < loc + width && level + reach >= loc - width : level > loc - width && level + reach <= loc + width;
}
