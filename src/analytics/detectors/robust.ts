import { z } from 'zod';
import { NO_EVENTS, type DetectorEvent, type DetectorInput } from '../types.js';
import { isStale, metricParam, QUIET, type Latch } from './latch.js';
import { messages } from './messages.js';
import { pureStep, type DetectorModule } from './module.js';
import { gapRestart, MAD_TO_STD, NEVER } from './robust-scale.js';
import { addSample, chooseProfile, copySeason, newSeason, seasonalOffset, type SeasonState } from './seasonal-profile.js';
import { addToTrend, approachExplains, startTrend, TREND, trendAt, trendFlat, type TrendSums } from './settling.js';

/**
 * A scale-free outlier and level-shift detector for any metric, including ones whose unit and
 * noise level nobody configured. Every threshold is in units of the signal's own learned spread,
 * so the same defaults fit a 0.0004 g vibration channel and a 70 °C temperature.
 *
 * Location and scale are robust EWMAs (robust-scale.ts: Huber-clipped, so one spike neither drags
 * the location nor widens the scale). The scale's floor is relative to the signal, never absolute:
 * `minScaleRel` × |location| (at least 0.1 %), and 0.1 % of the largest spread seen since the last
 * restart, so a perfectly flat signal does not make every step infinite.
 *
 * Three tests raise, on the standardised signal z = (x − location) / scale:
 * - outlier: |z| > zRaise;
 * - short-window mean: the mean of about the last `meanSamples` values, z-scored against the
 *   learned spread of such means about the location, beyond zMeanRaise, and at least `meanMinZ`
 *   scales from the location. Averaging cancels noise, so a level shift or a burst shows in the
 *   mean long before one sample is zRaise out; the spread is learned (not assumed to be
 *   scale / √k), so a signal that wanders has wide means and its wander is not taken for a shift;
 * - level shift / drift: a two-sided CUSUM of z (slack `cusumK`, decision `cusumH`), which
 *   accumulates evidence from a run of moderately high values that no single sample would show.
 *   Its sums restart after every alert and while the signal sits near its location.
 * An alert stays open while any holds and clears once |z| has stayed ≤ zClear for `holdSamples`
 * samples in a row, so a burst or a sustained anomaly is one alert, not one per spike. After an
 * alert the bar rises: the outlier test then needs more than that alert's peak |z| (the mean
 * test and the CUSUM proportionally more), sinking back to zRaise over ~`barMemory` samples. A signal whose
 * ordinary spikes are heavy-tailed thus raises on the first of them and then only on a larger
 * one, instead of on every spike of the same size. While open, nothing is learned; an alert
 * open for `relearnAfterSamples` is taken as the new normal: it clears (saying so) and the
 * detector re-learns from the new level (the average since the alert opened). During
 * `warmupSamples` it only learns.
 *
 * Episodes that recur are not news: the detector remembers its last `episodes` episodes (the
 * location each left, the value that opened it, its largest |value − location|). One that opens
 * with both levels within `episodeTol` of a remembered one's excursion is a repeat (a daily
 * peak, a shift change, a machine's regular cycle): it is followed exactly like an alert (held
 * open, cleared, re-learned) but silently, and raises only if it grows `episodeTol` beyond the
 * peak of the one it repeats; it then takes that one's place in the memory, so a recurring pattern
 * keeps one place. A fixed bar cannot do this: a daily peak thousands of σ out would
 * need a bar that stays that high for a whole day, and would then hide every smaller anomaly.
 *
 * A restart is not judged until it has settled (settling.ts): after a gap of more than `settleGap`
 * typical sample intervals (a machine back from a stop or an idle spell, whose other states a rule
 * did not feed it), a signal still moving towards a level it may settle at (the learned one, or
 * one within the usual spread of restarts' levels), at a pace that a time constant of at most
 * `settleTauS` explains, is settling, and is neither judged nor learned. Once its trend is flat, or
 * it moves as no such approach does (`SETTLE_MISSES` samples in a row: it heads away, or too
 * slowly), its level is judged against the spread of restarts' levels (see `settled`).
 *
 * A daily or weekly cycle is not a shift (seasonal-profile.ts): once a profile over one of
 * `seasonPeriodsS` explains `seasonExplains` of the signal's variance, every test above judges the
 * value less what the profile expects at its phase (the residual, about the overall level), and
 * the alert's value and baseline are told as the signal's own (the baseline: what is usual at
 * that time). The tests start afresh (warm-up) when the reference changes, and change it only
 * while no alert is open; once judged against a profile, visits of its bins that were part of an
 * alert are not learned.
 */
export const robustParamsSchema = z
  .strictObject({
    ...metricParam,
    /** EWMA weight of each new sample once warmed up (memory ≈ 1/alpha samples). */
    alpha: z.number().gt(0).max(1).default(0.003),
    warmupSamples: z.number().int().min(2).default(100),
    zRaise: z.number().positive().default(8),
    zClear: z.number().min(0).default(2),
    /** Huber clip of each update, in scales. */
    clip: z.number().positive().default(3),
    /** Scale floor as a fraction of |location|. */
    minScaleRel: z.number().min(0).default(1e-3),
    cusumK: z.number().min(0).default(1),
    /** CUSUM decision level, in scales; 0 disables the change test. */
    cusumH: z.number().min(0).default(40),
    /** Samples an alert may stay open before its level is accepted as the new normal. */
    relearnAfterSamples: z.number().int().positive().default(300),
    /**
     * An alert whose recent mean is still more than `holdBeyond` scales from the level it left
     * after relearnAfterSamples stays open (nothing learned) up to this many samples in all: a
     * fault that lasts is one alert for as long as it lasts, and the level it left stays the
     * reference its end is judged against. 0: re-learn at relearnAfterSamples regardless.
     */
    maxOpenSamples: z.number().int().min(0).default(0),
    /**
     * See maxOpenSamples: how far the recent mean must still be from the level the alert left, on
     * the side it opened: holdBeyond scales, and holdShare of the opening excursion (a spike that
     * opened it and a level a little above the old one is no lasting shift: that re-learns as before).
     */
    holdBeyond: z.number().min(0).default(5),
    holdShare: z.number().min(0).max(1).default(0.3),
    /** Consecutive samples back within zClear before an open alert clears (one quiet sample amid a burst is not the end). */
    holdSamples: z.number().int().positive().default(100),
    /** After an alert, the outlier test's bar rises to the alert's peak |z| and sinks back to zRaise over about this many samples; 0: fixed bar. */
    barMemory: z.number().min(0).default(1000),
    /**
     * Quiet samples beyond this |z| are not learned at all. Clipping alone is not enough: a ramp
     * (wear, a drift) of a fraction of σ per sample keeps every sample under the clip, and the
     * clipped deviations still widen the scale by a few % per sample, so location and scale follow
     * it into the new level without ever raising.
     */
    learnBelow: z.number().positive().default(5),
    direction: z.enum(['both', 'above', 'below']).default('both'),
    /** Span of the short-window mean (an EWMA with weight 1/meanSamples); 0 disables the mean test. */
    meanSamples: z.number().min(0).default(10),
    /** The mean test's raise level, in units of the learned spread of the short-window mean about the location. */
    zMeanRaise: z.number().positive().default(8),
    /**
     * The mean test also needs the mean this many point scales from the location. On a smooth
     * signal the short mean is the signal itself and its learned spread the point scale, so
     * without this the mean test would be an outlier test at zMeanRaise instead of zRaise.
     */
    meanMinZ: z.number().min(0).default(5),
    /** A gap longer than this restarts warm-up (the machine may have been stopped or re-set). */
    maxGapS: z.number().positive().default(86_400),
    /** Past episodes remembered (from-level, opening value, peak excursion); 0: none, every episode raises. */
    episodes: z.number().int().min(0).max(32).default(8),
    /**
     * An episode that opens within this fraction of a remembered one's excursion of both its levels
     * (from and to) is a repeat: it is followed silently unless it grows this fraction beyond the
     * remembered one's peak.
     */
    episodeTol: z.number().min(0).default(0.1),
    /**
     * A gap between samples longer than this many typical intervals (learned) is a restart, and
     * what follows it is watched for a settling approach before it is judged; 0: never.
     */
    settleGap: z.number().min(0).default(10),
    /** The longest time constant (s) of an approach to the learned level taken as settling. */
    settleTauS: z.number().positive().default(3600),
    /** Memory of the settling trend's straight-line fit, in samples. */
    settleSamples: z.number().int().min(2).default(30),
    /**
     * Restarts whose settled level is taken as it comes, only learning how far restarts' levels
     * spread from the level before them; after these, a restart's level within zRaise of that
     * spread is the level the rest of the run is judged against (see update).
     */
    restartWarmup: z.number().int().min(0).default(5),
    /** Candidate periods (s) of a cycle judged as usual (seasonal-profile.ts); []: none. */
    seasonPeriodsS: z.array(z.number().positive()).max(4).default([86_400, 604_800]),
    /** Most bins a period is cut into (at least a typical sample interval each). */
    seasonBins: z.number().int().min(4).max(2016).default(288),
    /** Memory of each bin, in periods. */
    seasonMemory: z.number().min(1).default(5),
    /** Share of the variance about the level a profile must explain to be judged against. */
    seasonExplains: z.number().gt(0).lt(1).default(0.85),
  })
  .refine((p) => p.zClear < p.zRaise, { message: 'zClear must be smaller than zRaise', path: ['zClear'] });

export type RobustParams = z.output<typeof robustParamsSchema>;

export interface RobustState extends TrendSums {
  /** Samples learned since the last (re)start. */
  n: number;
  loc: number;
  scale: number;
  /** Largest scale seen since the last restart: the relative floor's reference. */
  maxScale: number;
  /** CUSUM sums of z above and below. */
  up: number;
  down: number;
  /** Samples since the alert opened. */
  openFor: number;
  /** Consecutive samples back (see update) while the alert is open, and the sum of their z. */
  calm: number;
  calmSum: number;
  /** Current raise level of the outlier test (≥ zRaise), and the largest |z| of the open alert. */
  bar: number;
  peak: number;
  lastTs: number | null;
  latch: Latch;
  side: 1 | -1;
  /** Short-window mean of the values, and the learned spread of its distance from the location. */
  mean: number;
  meanScale: number;
  /** Plain average of the values since the open alert opened (its level, should it be re-learned). */
  openMean: number;
  /**
   * Remembered episodes, oldest first, three numbers each: the location it left, the value that
   * opened it, its largest |value − location|. Plain numbers so the state stays JSON; replaced,
   * never changed in place (FRESH's empty one is shared).
   */
  known: number[];
  /** The open episode: the location it left, its opening value, its peak |value − from|. */
  epFrom: number;
  epTo: number;
  epPeak: number;
  /** The open episode repeats a remembered one (the remembered peak; 0: it raised). */
  repeatOf: number;
  /** Typical interval between samples (ms; EWMA of the intervals that were not gaps), 0 before the second sample. */
  dt: number;
  /** Back from a gap and still settling (nothing judged or learned); the trend fit is in the TrendSums fields. */
  settling: boolean;
  /** Consecutive settling samples the approach did not explain. */
  miss: number;
  /** Restarts settled so far, and the spread of their levels about the level before them (a σ). */
  restarts: number;
  restartScale: number;
  /** The daily and weekly profiles (null until the sample interval is known, or none asked for). */
  season: SeasonState | null;
}

/**
 * A fresh state. Made by an object literal, not by spreading a constant: V8 stores a number into
 * a field of an object cloned by a spread as a new heap object each time (the clone may share its
 * boxes with the original), which was three allocations per metric and sample. lastTs starts as
 * NEVER, a number (robust-scale.ts: a field that starts null boxes every timestamp stored in it);
 * null, in a state handed over from an older version, means the same.
 */
/** The empty episode memory, shared by every fresh state (`known` is replaced, never written into). */
const NO_EPISODES: number[] = [];

function fresh(): RobustState {
  return { n: 0, loc: 0, scale: 0, maxScale: 0, up: 0, down: 0, openFor: 0, calm: 0, calmSum: 0, bar: 0, peak: 0, lastTs: NEVER, latch: QUIET, side: 1, mean: 0, meanScale: 0, openMean: 0, known: NO_EPISODES, epFrom: 0, epTo: 0, epPeak: 0, repeatOf: 0, dt: 0, settling: false, miss: 0, restarts: 0, restartScale: 0, season: null, tk: 0, tw: 0, tt: 0, tv: 0, ttt: 0, ttv: 0, tvv: 0, t0: 0 };
}

const FRESH: RobustState = fresh();


/**
 * Learn the input's value into `s` (in place), quiet, on `side`; the caller has set the CUSUM sums
 * (s.up, s.down) and the short-window mean (s.mean). Given the input and the state, not their
 * numbers: a number passed to a call the compiler did not inline is a new heap object.
 */
function learn(p: RobustParams, s: RobustState, input: DetectorInput, side: 1 | -1): void {
  const v = input.value;
  const n = s.n + 1;
  const loc = s.loc;
  // learnInto and scaleUpdate (robust-scale.ts) of the value and of the mean's distance, written
  // out with what they share computed once: the weight, the scale floor (max(minScaleRel · |loc|,
  // 0.1 % of the largest scale)) and the relative floor of both usable scales. Called, the
  // weight's division, the floor and the clip were each worked out two or three times.
  const a = Math.max(p.alpha, 1 / n);
  const dev = v - loc;
  let locDev = dev;
  let absDev = Math.abs(dev) * MAD_TO_STD;
  let meanDev = Math.abs(s.mean - loc) * MAD_TO_STD;
  if (n > p.warmupSamples) {
    const rel = 1e-3 * Math.abs(loc);
    const floor = Math.max(p.minScaleRel * Math.abs(loc), 1e-3 * s.maxScale);
    const c = p.clip * Math.max(s.scale, rel, floor, Number.MIN_VALUE);
    locDev = Math.max(-c, Math.min(c, dev));
    absDev = Math.min(absDev, c);
    meanDev = Math.min(meanDev, p.clip * Math.max(s.meanScale, rel, floor, Number.MIN_VALUE));
  }
  const scale = n === 1 ? 0 : s.scale + a * (absDev - s.scale);
  s.meanScale = p.meanSamples > 0 ? (n === 1 ? 0 : s.meanScale + a * (meanDev - s.meanScale)) : 0;
  s.n = n;
  s.maxScale = Math.max(s.maxScale, scale);
  s.loc = loc + a * locDev;
  s.scale = scale;
  s.openFor = 0;
  s.calm = 0;
  s.calmSum = 0;
  s.peak = 0;
  s.lastTs = input.ts;
  s.latch = QUIET;
  s.side = side;
  s.openMean = 0;
}

/**
 * Where in `known` the remembered episode starts that an episode leaving `from` with value `to`
 * repeats (both levels within episodeTol of the larger excursion), newest first; −1 if none.
 */
function matchIndex(p: RobustParams, known: readonly number[], from: number, to: number): number {
  for (let i = known.length - W; i >= 0; i -= W) {
    const f = known[i]!;
    const t = known[i + 1]!;
    const tol = p.episodeTol * Math.max(Math.abs(t - f), Math.abs(to - from));
    if (Math.abs(from - f) <= tol && Math.abs(to - t) <= tol) return i;
  }
  return -1;
}

/** The peak excursion of the remembered episode this one repeats; 0 if none. */
function repeatedEpisode(p: RobustParams, known: readonly number[], from: number, to: number): number {
  const i = matchIndex(p, known, from, to);
  return i < 0 ? 0 : Math.max(known[i + 2]!, Number.MIN_VALUE);
}

/** The remembered episodes with one more, the oldest dropped beyond `episodes`. */
function remember(p: RobustParams, known: readonly number[], from: number, to: number, peak: number): number[] {
  if (p.episodes === 0) return [];
  // A repeat replaces the episode it repeats (moved to the newest end, with the larger peak), so a
  // pattern that recurs keeps one place and the memory holds that many different episodes.
  const i = matchIndex(p, known, from, to);
  const rest = i < 0 ? known : [...known.slice(0, i), ...known.slice(i + W)];
  const out = [...rest, from, to, i < 0 ? peak : Math.max(peak, known[i + 2]!)];
  return out.length > W * p.episodes ? out.slice(out.length - W * p.episodes) : out;
}

/** Numbers per remembered episode: the location it left, its opening value, its peak excursion. */
const W = 3;

/** Weight of each restart's offset in their learned spread, once past the first few (memory about 20 restarts). */
const RESTART_ALPHA = 0.05;
/** Weight of each new interval in the typical one (memory about 20 intervals). */
const DT_WEIGHT = 0.05;
/** Consecutive samples the approach does not explain that end the settling (one may be noise). */
const SETTLE_MISSES = 3;

/**
 * Notes the interval since the last sample: a gap of more than settleGap typical intervals starts
 * a settling watch (unless still warming up), any other interval is learned into the typical one.
 */
function noteInterval(p: RobustParams, st: RobustState, ts: number): void {
  if (st.lastTs === null || st.lastTs === NEVER) return;
  const interval = ts - st.lastTs;
  if (st.dt > 0 && p.settleGap > 0 && interval > p.settleGap * st.dt) {
    if (st.n < p.warmupSamples) return;
    st.settling = true;
    st.miss = 0;
    startTrend(st, ts);
    return;
  }
  st.dt = st.dt === 0 ? interval : st.dt + (interval - st.dt) * DT_WEIGHT;
}

/**
 * Adds the sample to the settling trend and says whether the signal is still settling: too few
 * samples to fit yet, or still moving (trendFlat: a slope beyond twice its standard error, and
 * enough for the slowest allowed approach to go zClear further) as an approach to a level it may settle at explains: the learned level, within
 * zClear, and any within zRaise of the spread of restarts' levels (any at all during restartWarmup).
 * SETTLE_MISSES moves in a row that no such approach explains end it, and so does a flat trend.
 */
function stillSettling(p: RobustParams, st: RobustState, input: DetectorInput, scale: number): boolean {
  addToTrend(st, input.ts, input.value, p.settleSamples);
  // Half the fit's memory before it is trusted: a line through a few samples is mostly noise.
  if (st.tk < p.settleSamples / 2) return true;
  trendAt(st, input.ts);
  if (trendFlat(p.settleTauS, p.zClear * scale)) return false;
  // While restarts only teach their spread, any level is one it may settle at: it settles when flat.
  const width = st.restarts < p.restartWarmup ? Infinity : p.zClear * scale + p.zRaise * st.restartScale;
  st.miss = approachExplains(TREND.level, TREND.slope, st.loc, width, p.settleTauS) ? 0 : st.miss + 1;
  return st.miss < SETTLE_MISSES;
}

/**
 * A restart has settled (TREND holds the fit at its last sample). The level a machine settles at
 * follows its operating point (a load that wanders between runs moves a furnace's running
 * temperature by many of its in-run σ), so a restart's level is judged against how far restarts'
 * levels usually lie from the level before them, not against the in-run σ: within zRaise of that
 * spread, it becomes the level the rest of the run is judged against; beyond, the ordinary tests
 * judge it. The first restartWarmup restarts only learn the spread; a level beyond learnBelow of it
 * is not learned (a fault's offset must not widen it).
 */
function settled(p: RobustParams, st: RobustState): void {
  const offset = TREND.level - st.loc;
  const usual = st.restarts < p.restartWarmup || Math.abs(offset) <= p.zRaise * st.restartScale;
  const n = st.restarts + 1;
  if (st.restarts < p.restartWarmup || Math.abs(offset) <= p.learnBelow * st.restartScale) st.restartScale += (Math.abs(offset) * MAD_TO_STD - st.restartScale) * Math.max(1 / n, RESTART_ALPHA);
  st.restarts = n;
  st.settling = false;
  // The short-window mean starts from the settled level: what it held before the stop is stale.
  st.mean = TREND.level;
  if (usual) st.loc = TREND.level;
}

/**
 * What the active seasonal profile expects less the level, for the judging in progress: events
 * tell value and baseline plus this (the signal's own numbers). A field, not an argument: a number
 * passed to a call left out of line is a new heap object.
 */
const SEASON = { off: 0 };
/** The residual input judged while a profile is active (reused: one object, not one per sample). */
const RESIDUAL: DetectorInput = { ts: 0, value: 0 };

/**
 * One step. Most samples find the state quiet (warmed up, no alert open, not settling, the
 * short-window mean within meanMinZ scales) and stay so: those are judged and learned here, in
 * one function (judge and learn left out of line cost a call each and worked out the scale, its
 * floor and the clip twice), with judge's and learn's arithmetic in their order, so the numbers
 * are the same to the last bit. Anything else (an alert to raise, the mean out, a gap, a restart,
 * warm-up) goes the full way (fullUpdate), the state untouched so far.
 */
function update(p: RobustParams, st: RobustState, input: DetectorInput): readonly DetectorEvent[] {
  const seasonal = p.seasonPeriodsS.length > 0;
  const season = st.season;
  const lastTs = st.lastTs;
  const ts = input.ts;
  if (seasonal && (season === null || season === undefined)) return fullUpdate(p, st, input);
  // Not stale, no gap (isStale, gapRestart), no restart (noteInterval), nothing to hand the slow path.
  if (lastTs === null || lastTs === NEVER || !(ts > lastTs) || ts - lastTs > p.maxGapS * 1000 || st.n < p.warmupSamples || st.settling || st.latch.active) return fullUpdate(p, st, input);
  const dt = st.dt;
  const interval = ts - lastTs;
  if (dt <= 0 || (p.settleGap > 0 && interval > p.settleGap * dt)) return fullUpdate(p, st, input);
  // Against an active profile, the residual is judged and learned (fullUpdate's RESIDUAL); the
  // profile learns the value itself.
  const raw = input.value;
  const value = seasonal && season!.active >= 0 ? raw - seasonalOffset(season!, ts, raw) : raw;
  const loc = st.loc;
  const absLoc = Math.abs(loc);
  const floor = Math.max(p.minScaleRel * absLoc, 1e-3 * st.maxScale);
  const rel = 1e-3 * absLoc;
  const scale = Math.max(st.scale, rel, floor, Number.MIN_VALUE);
  const mean = p.meanSamples > 0 ? st.mean + (value - st.mean) * (1 / Math.min(p.meanSamples, st.n + 1)) : 0;
  // With the mean meanMinZ scales out (or no mean test) the mean test and the CUSUM may raise: judge decides.
  if (p.meanSamples === 0 || Math.abs(mean - loc) > p.meanMinZ * scale) return fullUpdate(p, st, input);
  const dev = value - loc;
  const z = dev / scale;
  const watched = p.direction === 'above' ? z : p.direction === 'below' ? -z : Math.abs(z);
  // With the mean not out, only the outlier test can raise (judge's bar, sinking back to zRaise).
  const bar = p.barMemory > 0 && !(st.bar === p.zRaise && p.barMemory >= 1) ? Math.max(p.zRaise, p.zRaise + (st.bar - p.zRaise) * (1 - 1 / p.barMemory)) : p.zRaise;
  if (watched > bar) return fullUpdate(p, st, input);
  st.bar = bar;
  const zc = Math.max(-p.clip * 2, Math.min(p.clip * 2, z));
  // judge's max(0, ·) of the CUSUM's sums as (x + |x|) / 2, with no branch: the sums are 0 about
  // half the time, at random, and Math.max's compares and jumps then mispredict about as often.
  // The same number for every x these sums take (finite, below 2^1023: -0 gives 0, NaN stays NaN).
  const up = st.up + zc - p.cusumK;
  const down = st.down - zc - p.cusumK;
  st.up = p.direction === 'below' ? 0 : (up + Math.abs(up)) * 0.5;
  st.down = p.direction === 'above' ? 0 : (down + Math.abs(down)) * 0.5;
  st.mean = mean;
  st.dt = dt + (interval - dt) * DT_WEIGHT;
  st.lastTs = ts;
  if (Math.abs(z) <= p.learnBelow) {
    // learn: past warm-up, so clipped; the floor, the scale and so the clip are judge's.
    const n = st.n + 1;
    // max(alpha, 1/n) without the division once n·alpha > 1 (then 1/n rounds to alpha at most).
    const a = n * p.alpha > 1 ? p.alpha : Math.max(p.alpha, 1 / n);
    const c = p.clip * scale;
    const next = st.scale + a * (Math.min(Math.abs(dev) * MAD_TO_STD, c) - st.scale);
    const meanScale = st.meanScale;
    st.meanScale = meanScale + a * (Math.min(Math.abs(mean - loc) * MAD_TO_STD, p.clip * Math.max(meanScale, rel, floor, Number.MIN_VALUE)) - meanScale);
    st.n = n;
    st.maxScale = Math.max(st.maxScale, next);
    st.loc = loc + a * Math.max(-c, Math.min(c, dev));
    st.scale = next;
    // What learn resets: already so while quiet, but for openMean after the last alert's clear.
    st.openMean = 0;
    if (st.latch !== QUIET) st.latch = QUIET;
  }
  if (!seasonal) return NO_EVENTS;
  // teachSeason's common case, here: passed to a call left out of line, ts and value would each be
  // a new heap object.
  if (ts < season!.until && ts >= season!.from) {
    const dv = raw - season!.ref;
    season!.sum += dv;
    season!.sq += dv * dv;
    season!.k += 1;
  } else {
    teachSeason(p, st, season!, input);
  }
  return NO_EVENTS;
}

/**
 * A step the full way, whatever the state: update's path for every sample its quiet path does not
 * take, and the reference that path must match (the tests feed both the same samples).
 */
export function fullUpdate(p: RobustParams, st: RobustState, input: DetectorInput): readonly DetectorEvent[] {
  if (p.seasonPeriodsS.length === 0) return judge(p, st, input);
  // Restored after judging: a re-learning or a restart resets the tests' state, not the cycle.
  const season = st.season ?? null;
  let events: readonly DetectorEvent[];
  if (season !== null && season.active >= 0) {
    const off = seasonalOffset(season, input.ts, input.value);
    SEASON.off = off;
    RESIDUAL.ts = input.ts;
    RESIDUAL.value = input.value - off;
    events = judge(p, st, RESIDUAL);
    SEASON.off = 0;
  } else {
    events = judge(p, st, input);
  }
  if (season === null) {
    st.season = st.dt > 0 ? newSeason(p, st.dt) : null;
    return events;
  }
  // Put back only if a re-learning or a restart took it (a store per sample costs a write barrier).
  if (st.season !== season) st.season = season;
  // A stale sample (judge ignored it) teaches nothing.
  if (st.lastTs !== input.ts) return events;
  teachSeason(p, st, season, input);
  return events;
}

/** The profiles learn a sample that was judged (the state's lastTs is its time). */
function teachSeason(p: RobustParams, st: RobustState, season: SeasonState, input: DetectorInput): void {
  const { ts, value } = input;
  const dirty = st.latch.active;
  // Within the visit in progress (most samples), the profile's three sums are all there is to do.
  if (ts < season.until && ts >= season.from) {
    const dv = value - season.ref;
    season.sum += dv;
    season.sq += dv * dv;
    season.k += 1;
    if (dirty && season.active >= 0) season.dirty = true;
    return;
  }
  // While judged against a flat location, its alerts say nothing of the cycle (the first days'
  // rises raise): every visit is learned. Once judged against a profile, an alert's visits are not.
  if (addSample(p, season, ts, value, dirty && season.active >= 0) && !dirty) {
    const next = chooseProfile(p, season);
    if (next !== season.active) {
      // Another reference: the tests learn the new residual's level and spread from the start.
      season.active = next;
      Object.assign(st, FRESH, { lastTs: st.lastTs, dt: st.dt, season, bar: st.bar, known: st.known });
    }
  }
}

function judge(p: RobustParams, st: RobustState, input: DetectorInput): readonly DetectorEvent[] {
  const { ts, value } = input;
  const off = SEASON.off;
  if (isStale(st.lastTs, ts)) return NO_EVENTS;
  const gap = gapRestart(p, st, input);
  if (gap !== null) Object.assign(st, FRESH);
  let events = gap ?? NO_EVENTS;
  noteInterval(p, st, ts);
  if (st.settling && st.tk === 0 && st.latch.active) {
    // An alert still open when its run ended (a machine that tripped, stopped or idled, whose other
    // states the rule is not fed) ends with it: the next run is judged afresh once it has settled
    // (the same episode again is followed silently: the raised bar, the episode memory; a larger
    // one raises). Waiting for calm samples, counted in judged
    // samples, kept it open across stops and many short runs, and every row between was alarmed.
    if (st.repeatOf === 0) events = [...events, { kind: 'clear', ts, value: value + off, baseline: st.loc + off, message: messages.robustRunEnded(p.metric, value + off, ts - st.lastTs!) }];
    const known = remember(p, st.known, st.epFrom, st.epTo, st.epPeak);
    Object.assign(st, { up: 0, down: 0, openFor: 0, calm: 0, calmSum: 0, bar: Math.max(st.bar, st.peak), peak: 0, latch: QUIET, known, epPeak: 0, repeatOf: 0 });
  }
  if (st.n < p.warmupSamples) {
    st.up = 0;
    st.down = 0;
    // The short-window mean after the value (a plain average while fewer than meanSamples samples
    // were seen: past them 1/(n + 1) is no larger than 1/meanSamples, and is not worked out),
    // written out here and below rather than called, as the scale floor is in learn.
    st.mean = p.meanSamples > 0 ? (st.n === 0 ? value : st.mean + (value - st.mean) * (1 / Math.min(p.meanSamples, st.n + 1))) : 0;
    learn(p, st, input, 1);
    return events;
  }

  // The floor once for both scales (each call left out of line returns its number as a new heap object).
  // The scale floor (as in learn) and usableScale (robust-scale.ts) written out, for the same reason.
  const floor = Math.max(p.minScaleRel * Math.abs(st.loc), 1e-3 * st.maxScale);
  const scale = Math.max(st.scale, 1e-3 * Math.abs(st.loc), floor, Number.MIN_VALUE);
  if (st.settling) {
    if (stillSettling(p, st, input, scale)) {
      // Neither judged nor learned (the short-window mean starts again from the settled level).
      st.up = 0;
      st.down = 0;
      st.lastTs = ts;
      return events;
    }
    settled(p, st);
  }
  const mean = p.meanSamples > 0 ? (st.n === 0 ? value : st.mean + (value - st.mean) * (1 / Math.min(p.meanSamples, st.n + 1))) : 0;
  const z = (value - st.loc) / scale;
  const watched = p.direction === 'above' ? z : p.direction === 'below' ? -z : Math.abs(z);
  // CUSUM on the clipped z: one huge spike is the outlier test's business, not evidence of a shift.
  const zc = Math.max(-p.clip * 2, Math.min(p.clip * 2, z));
  const up = p.direction === 'below' ? 0 : Math.max(0, st.up + zc - p.cusumK);
  const down = p.direction === 'above' ? 0 : Math.max(0, st.down - zc - p.cusumK);
  // A raised bar sinks back to zRaise and then stays there exactly (most samples): no division
  // then, for the bar nor for its ratio to zRaise (1 exactly), which scales the other two tests.
  const bar = p.barMemory > 0 && !(st.bar === p.zRaise && p.barMemory >= 1) ? Math.max(p.zRaise, p.zRaise + (st.bar - p.zRaise) * (1 - 1 / p.barMemory)) : p.zRaise;
  const ratio = bar === p.zRaise ? 1 : bar / p.zRaise;
  const hBar = p.cusumH * ratio;
  // The short-window mean, judged against the learned spread of such means about the location:
  // a level shift or a burst of wider noise moves it long before any single sample is 8σ out,
  // and a signal that wanders has a wide spread of means, so its wander is not taken for a shift.
  // Both the mean test and the CUSUM need the recent mean meanMinZ scales out (when the mean
  // test is on): the CUSUM's sums also grow on a slow wander of a few σ, which is no fault.
  const farMean = p.meanSamples === 0 || Math.abs(mean - st.loc) > p.meanMinZ * scale;
  // The mean's z only when farMean lets the mean test raise (seldom): its division and scale are
  // otherwise spent on a number nothing reads.
  const zMean = p.meanSamples > 0 && farMean ? (mean - st.loc) / Math.max(st.meanScale, 1e-3 * Math.abs(st.loc), floor, Number.MIN_VALUE) : 0;
  const watchedMean = p.direction === 'above' ? zMean : p.direction === 'below' ? -zMean : Math.abs(zMean);
  const meanBreach = p.meanSamples > 0 && watchedMean > p.zMeanRaise * ratio && farMean;
  const cusumBreach = p.cusumH > 0 && Math.max(up, down) > hBar && farMean;
  const breach = watched > bar || meanBreach || cusumBreach;
  st.bar = bar;
  st.mean = mean;
  if (st.latch.active) {
    const openFor = st.openFor + 1;
    const openMean = st.openMean + (value - st.openMean) / (openFor + 1);
    // Back: no sample beyond twice zClear, and the samples since the last one that was, on
    // average, within zClear (checked once holdSamples are in: a lasting small shift starts the run
    // again). Every sample within zClear was a run noise seldom gives (4.5 % of normal samples are
    // beyond 2σ: 100 in a row about once in 100 tries), so an alert whose signal was long back
    // stayed open until it re-learned, from an average that held the fault.
    const back = Math.abs(z) <= 2 * p.zClear;
    let calm = back ? st.calm + 1 : 0;
    let calmSum = back ? st.calmSum + z : 0;
    if (calm >= p.holdSamples && Math.abs(calmSum / calm) > p.zClear) {
      calm = 0;
      calmSum = 0;
    }
    const peak = Math.max(st.peak, watched);
    const threshold = st.loc + off + st.side * p.zRaise * scale;
    const epPeak = Math.max(st.epPeak, Math.abs(value - st.epFrom));
    let repeatOf = st.repeatOf;
    // A repeat that grows well beyond the episode it repeats is news after all.
    if (repeatOf > 0 && Math.abs(value - st.epFrom) > repeatOf * (1 + p.episodeTol) && watched > p.zRaise) {
      repeatOf = 0;
      events = [...events, { kind: 'raise', ts, value: value + off, baseline: st.loc + off, threshold, message: messages.robustRaised(p.metric, value + off, st.loc + off, z, false) }];
    }
    const loud = repeatOf === 0;
    // Still beyond the level it left, on the side it opened, by a good share of the opening
    // excursion: the fault goes on, and re-learning would take it as normal (and its end for a
    // new fault).
    const holding = openFor < p.maxOpenSamples && Math.abs(mean - st.loc) > Math.max(p.holdBeyond * scale, p.holdShare * Math.abs(st.epTo - st.epFrom)) && (mean - st.loc) * (st.epTo - st.epFrom) > 0;
    if (openFor >= p.relearnAfterSamples && !holding) {
      if (loud) events = [...events, { kind: 'clear', ts, value: value + off, baseline: st.loc + off, threshold, message: messages.robustRelearned(p.metric, value + off, openFor) }];
      // The new level becomes the location: the average since the alert opened when the mean test
      // is on (the last sample alone may be one of the new regime's spikes, and a location on a
      // spike raises again at once), else the last value. The scale carries on from the old one.
      const loc = p.meanSamples > 0 ? openMean : value;
      const known = remember(p, st.known, st.epFrom, st.epTo, epPeak);
      Object.assign(st, FRESH, { n: p.warmupSamples, loc, scale: st.scale, maxScale: st.maxScale, bar: p.zRaise, lastTs: ts, mean: loc, meanScale: st.meanScale, known, dt: st.dt });
      return events;
    }
    if (calm >= p.holdSamples) {
      if (loud) events = [...events, { kind: 'clear', ts, value: value + off, baseline: st.loc + off, threshold, message: messages.baselineCleared(p.metric, value + off, st.loc + off, p.zClear) }];
      // The short-window mean restarts from this calm sample: still full of the episode, it
      // would raise again at once.
      const known = remember(p, st.known, st.epFrom, st.epTo, epPeak);
      Object.assign(st, { up: 0, down: 0, openFor: 0, calm: 0, calmSum: 0, bar: Math.max(bar, peak), peak: 0, lastTs: ts, latch: QUIET, mean: value, known, epPeak: 0, repeatOf: 0 });
      return events;
    }
    if (loud && watched > p.zRaise) events = [...events, { kind: 'raise', ts, value: value + off, baseline: st.loc + off, threshold, message: messages.robustRaised(p.metric, value + off, st.loc + off, z, false) }];
    Object.assign(st, { up: 0, down: 0, openFor, calm, calmSum, peak, lastTs: ts, openMean, epPeak, repeatOf });
    return events;
  }
  if (breach) {
    const side: 1 | -1 = watched > bar ? (z >= 0 ? 1 : -1) : meanBreach ? (zMean >= 0 ? 1 : -1) : up >= down ? 1 : -1;
    const threshold = st.loc + off + side * p.zRaise * scale;
    // A shift found by the mean test is told as the recent mean's distance in the signal's σ.
    const byMean = meanBreach && watched <= bar;
    const epTo = byMean ? mean : value;
    // An episode like one seen before (a daily rise, a shift change) is followed, not raised.
    const repeatOf = repeatedEpisode(p, st.known, st.loc, epTo);
    if (repeatOf === 0) events = [...events, { kind: 'raise', ts, value: value + off, baseline: st.loc + off, threshold, message: messages.robustRaised(p.metric, epTo + off, st.loc + off, byMean ? (mean - st.loc) / scale : z, watched <= bar) }];
    Object.assign(st, { up: 0, down: 0, openFor: 0, calm: 0, calmSum: 0, peak: watched, lastTs: ts, latch: { active: true, since: ts }, side, openMean: value, epFrom: st.loc, epTo, epPeak: Math.abs(value - st.loc), repeatOf });
    return events;
  }
  // Quiet: learn (clipped), keep the CUSUM sums. A sample beyond learnBelow is not learned at
  // all: a slow ramp (wear, a drift) must not be followed sample by sample until it is normal.
  if (Math.abs(z) > p.learnBelow) {
    st.up = up;
    st.down = down;
    st.lastTs = ts;
  } else {
    st.up = up;
    st.down = down;
    learn(p, st, input, st.side);
  }
  return events;
}

export const robustDetector: DetectorModule<RobustParams, RobustState> = {
  kind: 'robust',
  summary: 'scale-free outlier and level-shift test on a robust EWMA location and scale (any metric, no units needed)',
  paramsSchema: robustParamsSchema,
  defaultCategory: 'safety',

  // Each state its own object: the engine updates its states in place (update); step copies first.
  initial: fresh,
  // `known` is replaced on every change, never written into; the seasonal profile is written in place.
  step: pureStep((s: RobustState) => ({ ...s, season: copySeason(s.season) }), update),
  update,
};
