/**
 * A learned profile of a signal over a daily or weekly cycle, for robust.ts: what the signal
 * usually is at this phase of the period, and whether that explains most of its variance.
 *
 * A daily cycle (a shift pattern, day and night traffic, a building's load) read against a flat
 * location looks like a shift twice a day: every rise is many σ out. Once a period is confirmed,
 * robust.ts judges the residual from this profile instead, and a rise that does not come at its
 * hour (or one twice as high) is what stands out.
 *
 * Per candidate period: the period cut into bins of at least one typical sample interval (at most
 * `seasonBins`), each bin the EWMA of the means of its visits (memory `seasonMemory` periods).
 * Samples are only summed (as differences from what the bin held, and their squares) while the
 * phase stays in one bin of the finest profile, and each such visit is handed to every profile
 * when the phase moves on (a coarser bin adds up several of them, then is learned): the cost per
 * sample is a comparison and three additions, whatever the number of profiles, and a fast signal
 * (1 Hz, 300 samples a bin) teaches each bin once per visit, like a slow one. Each sample is compared with
 * what its bin held (out of sample: before its visit is folded in) and with the overall level
 * (from the visit's sums of differences and of their squares, added up when it ends): the
 * period is confirmed once a period's worth of samples say the profile leaves less than
 * `1 − seasonExplains` of the variance about the level. Sample by sample, not visit by visit: a
 * visit's mean hides the noise, the more samples it spans the more, so profiles of different bin
 * widths (a week's bins are coarser) could not be compared. Plain arrays of numbers: the state
 * stays JSON.
 */

export interface SeasonProfile {
  periodMs: number;
  binMs: number;
  /** Per bin: the EWMA of its visits' means, and how many visits it learned (capped at the memory). */
  mean: number[];
  count: number[];
  /** EWMAs, over the same samples, of the squared residual from the profile and from the level. */
  res2: number;
  dev2: number;
  /** Samples compared so far (the EWMAs' weight per sample is max(1/n, wMin)). */
  n: number;
  /** Samples a period at the interval the profile was made for, and the EWMAs' least weight (memory `seasonMemory` periods). */
  perPeriod: number;
  wMin: number;
  /**
   * The profile's visit in progress: its bin (−1 none), what the bin held when it began, and the
   * sum, the sum of squares and the count of its samples' differences from that; dirty: some
   * sample of it was part of an alert (it is not learned).
   */
  bin: number;
  ref: number;
  sum: number;
  sq: number;
  k: number;
  dirty: boolean;
}

export interface SeasonState {
  /** The overall level (EWMA of visits' means) the profile's share of variance is measured about. */
  level: number;
  nl: number;
  profiles: SeasonProfile[];
  /** The profile robust.ts judges against, −1 none. */
  active: number;
  /**
   * The visit in progress of the finest profile's bin (the first): when it began and ends (ms),
   * what its bin held, and its samples' differences from that (sum, sum of squares, count);
   * dirty: some sample of it was part of an alert.
   */
  from: number;
  until: number;
  ref: number;
  sum: number;
  sq: number;
  k: number;
  dirty: boolean;
}

/** robust.ts's parameters of the profile (see there). */
export interface SeasonParams {
  seasonPeriodsS: readonly number[];
  seasonBins: number;
  seasonMemory: number;
  seasonExplains: number;
}

/** A new season state for a signal sampled every dtMs: one profile per period that holds at least 4 bins. */
export function newSeason(p: SeasonParams, dtMs: number): SeasonState {
  const profiles: SeasonProfile[] = [];
  // Shortest period first: its bins are the finest (the visits every profile is handed).
  for (const periodS of [...p.seasonPeriodsS].sort((a, b) => a - b)) {
    const periodMs = periodS * 1000;
    const bins = binsOf(p, periodMs, dtMs, profiles[0]?.binMs);
    // Too few samples a period to tell a cycle from noise.
    if (bins < 4) continue;
    const perPeriod = periodMs / Math.max(dtMs, 1);
    profiles.push({ periodMs, binMs: periodMs / bins, mean: new Array<number>(bins).fill(0), count: new Array<number>(bins).fill(0), res2: 0, dev2: 0, n: 0, perPeriod, wMin: 1 / (perPeriod * p.seasonMemory), bin: -1, ref: 0, sum: 0, sq: 0, k: 0, dirty: false });
  }
  return { level: 0, nl: 0, profiles, active: -1, from: 0, until: 0, ref: 0, sum: 0, sq: 0, k: 0, dirty: false };
}

/**
 * How many bins a period is cut into: at most seasonBins, none narrower than a sample interval,
 * and for a longer period, when it can be, each a whole number of the finest profile's bins
 * (`finestMs`): the visits it is handed then fall in one of its bins each, not now in one and now
 * in two (a week of 30-min samples: 168 bins of an hour, not 288 of 35 min, some of which no
 * visit would begin in).
 */
function binsOf(p: SeasonParams, periodMs: number, dtMs: number, finestMs: number | undefined): number {
  const bins = Math.min(p.seasonBins, Math.floor(periodMs / Math.max(dtMs, 1)));
  if (finestMs === undefined) return bins;
  for (let m = Math.max(1, Math.ceil(periodMs / finestMs / p.seasonBins)); m * finestMs * 4 <= periodMs; m++) {
    const aligned = periodMs / (finestMs * m);
    if (Math.abs(aligned - Math.round(aligned)) < 1e-9) return Math.round(aligned);
  }
  return bins;
}

/** The bin of `ts` in profile `pr`. */
function binOf(pr: SeasonProfile, ts: number): number {
  const phase = ts % pr.periodMs;
  return Math.min(pr.mean.length - 1, Math.floor((phase < 0 ? phase + pr.periodMs : phase) / pr.binMs));
}

/**
 * Ends the visit in progress of profile i: its samples are compared with what their bin held and
 * with the level (from the visit's sums: no work per sample beyond three additions), then its
 * mean is learned into the bin, unless dirty.
 */
function fold(p: SeasonParams, s: SeasonState, i: number): void {
  const pr = s.profiles[i]!;
  const b = pr.bin;
  const k = pr.k;
  if (b < 0 || k === 0) return;
  const ref = pr.ref;
  const sum = pr.sum;
  const sq = pr.sq;
  // An alert's samples are compared all the same: a profile that no longer fits must show it.
  if (pr.count[b]! > 0 && s.nl > 0) {
    const off = ref - s.level;
    const w = Math.min(1, k * Math.max(1 / (pr.n + k), pr.wMin));
    pr.res2 += (sq / k - pr.res2) * w;
    pr.dev2 += ((sq + 2 * off * sum) / k + off * off - pr.dev2) * w;
    pr.n += k;
  }
  if (pr.dirty) return;
  const m = ref + sum / k;
  pr.mean[b] = pr.mean[b]! + (m - pr.mean[b]!) * Math.max(1 / (pr.count[b]! + 1), 1 / p.seasonMemory);
  pr.count[b] = Math.min(pr.count[b]! + 1, p.seasonMemory);
  // The level is learned once, from the first profile's visits.
  if (i === 0) {
    s.nl += 1;
    s.level += (m - s.level) * Math.max(1 / s.nl, 1 / (pr.mean.length * p.seasonMemory));
  }
}

/**
 * Hands the finest bin's visit that just ended to every profile: a profile whose bin it is not in
 * ends its own visit first (compared, learned), then adds it, its sums moved from the finest bin's
 * reference to its own.
 */
function endVisit(p: SeasonParams, s: SeasonState): void {
  if (s.k === 0) return;
  for (let i = 0; i < s.profiles.length; i++) {
    const pr = s.profiles[i]!;
    const b = binOf(pr, s.from);
    if (b !== pr.bin) {
      fold(p, s, i);
      pr.bin = b;
      pr.ref = pr.mean[b]!;
      pr.sum = 0;
      pr.sq = 0;
      pr.k = 0;
      pr.dirty = false;
    }
    const d = s.ref - pr.ref;
    pr.sq += s.sq + 2 * d * s.sum + s.k * d * d;
    pr.sum += s.sum + s.k * d;
    pr.k += s.k;
    if (s.dirty) pr.dirty = true;
    // The finest profile's visit is this one: it ends now.
    if (i === 0) {
      fold(p, s, 0);
      pr.bin = -1;
      pr.k = 0;
    }
  }
}

/**
 * Adds a sample to the visit in progress; true if a visit ended first (the profiles' shares of
 * variance may have moved). `dirty`: the sample was part of an alert (its visits are then not
 * learned into the bins).
 */
export function addSample(p: SeasonParams, s: SeasonState, ts: number, value: number, dirty: boolean): boolean {
  if (s.profiles.length === 0) return false;
  let moved = false;
  // The phase is computed only when the visit has ended: a remainder of a 13-digit timestamp per
  // profile and sample cost a third of the detector's time.
  if (ts >= s.until || ts < s.from) {
    const pr = s.profiles[0]!;
    endVisit(p, s);
    const b = binOf(pr, ts);
    s.from = ts;
    s.until = ts - (ts % pr.binMs) + pr.binMs;
    s.ref = pr.mean[b]!;
    s.sum = 0;
    s.sq = 0;
    s.k = 0;
    s.dirty = false;
    moved = true;
  }
  // Differences from what the bin held, not values: the sums of squares of a signal far from
  // zero would lose its variance to rounding.
  const dv = value - s.ref;
  s.sum += dv;
  s.sq += dv * dv;
  s.k += 1;
  if (dirty) s.dirty = true;
  return moved;
}

/** Share of the variance about the level profile `pr` leaves unexplained (1 before it can tell). */
export function unexplained(pr: SeasonProfile): number {
  if (pr.n < pr.perPeriod || pr.dev2 <= 0) return 1;
  return pr.res2 / pr.dev2;
}

/**
 * The profile to judge against: one that leaves less than 1 − seasonExplains of the variance, a
 * longer period only if it leaves less than half what a shorter one does (a daily cycle is also
 * weekly, but a week's bins are seven times fewer visits). The active one keeps its place while
 * it leaves less than HOLD and no other leaves half its share (a noisy week does not switch the
 * reference back and forth: each switch starts the tests' warm-up again).
 */
export function chooseProfile(p: SeasonParams, s: SeasonState): number {
  const bar = 1 - p.seasonExplains;
  let best = -1;
  let bestShare = bar;
  for (let i = 0; i < s.profiles.length; i++) {
    const u = unexplained(s.profiles[i]!);
    if (u < (best < 0 ? bar : BETTER * bestShare)) {
      best = i;
      bestShare = u;
    }
  }
  if (s.active < 0 || best === s.active) return best;
  const held = unexplained(s.profiles[s.active]!);
  if (held < Math.max(bar, HOLD) && !(best >= 0 && bestShare < BETTER * held)) return s.active;
  return best;
}

/** How much less of the variance another profile must leave to be preferred (see chooseProfile). */
const BETTER = 0.5;
/**
 * The active profile is dropped once it leaves more than this share of the variance. Its alerts'
 * samples count against it (a profile that no longer fits must show it), so the bar to keep it is
 * well above the bar to take it: a few holidays in a month of taxi rides raised the weekly
 * profile's share from 0.15 to 0.30, and the next holiday was judged against a flat level again.
 */
const HOLD = 0.5;

/**
 * What the active profile expects at `ts` less the level: of its bin and the two beside it, the one
 * closest to `value` (0 when none has learned anything). A daily event comes a few minutes early
 * or late (a job, a shift's start): judged against its own bin alone, it reads as missing in one
 * bin and out of place in the next, two alerts a day; a rise that does not come at all, or comes
 * hours off, is still as far from all three.
 */
export function seasonalOffset(s: SeasonState, ts: number, value: number): number {
  const pr = s.profiles[s.active]!;
  const bins = pr.mean.length;
  const b = binOf(pr, ts);
  let best = s.level;
  let bestDist = Infinity;
  for (let d = -1; d <= 1; d++) {
    const j = (b + d + bins) % bins;
    if (pr.count[j]! === 0) continue;
    const dist = Math.abs(value - pr.mean[j]!);
    if (dist < bestDist) {
      best = pr.mean[j]!;
      bestDist = dist;
    }
  }
  return best - s.level;
}

/** A deep copy (the pure step must not write into the state it was given). */
export function copySeason(s: SeasonState | null | undefined): SeasonState | null {
  if (!s) return null;
  return { ...s, profiles: s.profiles.map((pr) => ({ ...pr, mean: [...pr.mean], count: [...pr.count] })) };
}
