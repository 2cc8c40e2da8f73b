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
 *
 * Memory: most signals have no cycle, and a full profile is 288 means and counts. A profile's
 * arrays hold only the bins visited since its first (in the order of the period, from `first`),
 * so none is allocated in full before a period has passed. While no profile is judged against,
 * once every live profile has been compared over LETGO_PERIODS of its periods and leaves more than
 * LETGO_ABOVE of the variance, they are let go (their arrays freed) and each is tried again from
 * empty RETRY_PERIODS of its periods later, twice as long after each try that failed (up to
 * RETRY_MAX periods). All at once, not one by one: the day's profile alone let go after three
 * days, and a daily cycle that some NAB series took ten more days to show was found later than
 * before; and the finest profile's means are the reference every other profile's sums are moved
 * from, so letting it go beside a live one changes that one's rounding. While every profile is
 * let go a sample costs one comparison and the overall level is not learned (it starts afresh
 * when one is tried again).
 */

export interface SeasonProfile {
  periodMs: number;
  binMs: number;
  /** Bins the period is cut into. */
  bins: number;
  /**
   * Per bin from `first` on (index j: bin (first + j) mod bins), as far as bins were visited: the
   * EWMA of its visits' means, and how many visits it learned (capped at the memory). A bin beyond
   * them holds 0 and learned nothing.
   */
  first: number;
  mean: number[];
  count: number[];
  /** Let go (no arrays, nothing learned) until this time (ms); 0: live. */
  idleUntil: number;
  /** Times it was let go (each try waits twice as long). */
  tries: number;
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
  /** Every profile is let go: the visit in progress lasts until the first is tried again. */
  idle: boolean;
}

/** robust.ts's parameters of the profile (see there). */
export interface SeasonParams {
  seasonPeriodsS: readonly number[];
  seasonBins: number;
  seasonMemory: number;
  seasonExplains: number;
}

/**
 * The arrays of a profile that holds no bin, shared (frozen: room() replaces them, never writes
 * into them).
 */
const NONE: number[] = Object.freeze([]) as unknown as number[];

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
    profiles.push({ periodMs, binMs: periodMs / bins, bins, first: 0, mean: NONE, count: NONE, idleUntil: 0, tries: 0, res2: 0, dev2: 0, n: 0, perPeriod, wMin: 1 / (perPeriod * p.seasonMemory), bin: -1, ref: 0, sum: 0, sq: 0, k: 0, dirty: false });
  }
  // Of their exact length (an array grown by push keeps room for more).
  return { level: 0, nl: 0, profiles: profiles.slice(), active: -1, from: 0, until: 0, ref: 0, sum: 0, sq: 0, k: 0, dirty: false, idle: false };
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
  return Math.min(pr.bins - 1, Math.floor((phase < 0 ? phase + pr.periodMs : phase) / pr.binMs));
}

/** The index of bin b in pr's arrays, −1 if they do not reach it (it learned nothing). */
function slotOf(pr: SeasonProfile, b: number): number {
  const j = b >= pr.first ? b - pr.first : b - pr.first + pr.bins;
  return j < pr.mean.length ? j : -1;
}

/** What bin b of pr holds (0 before its first visit is learned). */
function heldAt(pr: SeasonProfile, b: number): number {
  const j = slotOf(pr, b);
  return j < 0 ? 0 : pr.mean[j]!;
}

/** How many visits bin b of pr learned. */
function countAt(pr: SeasonProfile, b: number): number {
  const j = slotOf(pr, b);
  return j < 0 ? 0 : pr.count[j]!;
}

/**
 * The index of bin b in pr's arrays, grown to reach it (with bins that learned nothing). Grown by
 * copies a quarter longer (and 4 bins), never beyond `bins`, not by push (an array grown by push
 * keeps room for half as much again and 16 more: most of a profile's memory in its first hours);
 * a copy per visit of the bins so far cost 40 % more per sample of `robust` in its first day.
 */
function room(pr: SeasonProfile, b: number): number {
  if (pr.mean.length === 0) pr.first = b;
  const j = b >= pr.first ? b - pr.first : b - pr.first + pr.bins;
  if (j < pr.mean.length) return j;
  const length = Math.min(pr.bins, Math.max(j + 1, Math.ceil(pr.mean.length * 1.25) + 4));
  const mean = new Array<number>(length);
  const count = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    mean[i] = i < pr.mean.length ? pr.mean[i]! : 0;
    count[i] = i < pr.count.length ? pr.count[i]! : 0;
  }
  pr.mean = mean;
  pr.count = count;
  return j;
}

/**
 * A state handed over from a version whose profiles held every bin from the start: the same
 * arrays, read from bin 0, live.
 */
function upgrade(s: SeasonState): void {
  for (const pr of s.profiles) {
    if ((pr as Partial<SeasonProfile>).bins !== undefined) continue;
    pr.bins = pr.mean.length;
    pr.first = 0;
    pr.idleUntil = 0;
    pr.tries = 0;
  }
}

/** Periods a profile is compared before it may be let go, and the share of the variance it must leave then. */
const LETGO_PERIODS = 2;
const LETGO_ABOVE = 0.5;
/** Periods a profile let go waits before it is tried again (the first time; then twice as long each time), and the longest wait. */
const RETRY_PERIODS = 4;
const RETRY_MAX = 16;

/** Compared over LETGO_PERIODS periods, and leaves more than LETGO_ABOVE of the variance. */
function explainsNothing(pr: SeasonProfile): boolean {
  return pr.n >= LETGO_PERIODS * pr.perPeriod && unexplained(pr) > LETGO_ABOVE;
}

/** Lets profile pr go at `ts` (see the top of this file). */
function letGo(pr: SeasonProfile, ts: number): void {
  pr.tries += 1;
  pr.idleUntil = ts + Math.min(RETRY_PERIODS * 2 ** (pr.tries - 1), RETRY_MAX) * pr.periodMs;
  pr.mean = NONE;
  pr.count = NONE;
  pr.first = 0;
  pr.res2 = 0;
  pr.dev2 = 0;
  pr.n = 0;
  pr.bin = -1;
  pr.k = 0;
  pr.dirty = false;
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
  if (countAt(pr, b) > 0 && s.nl > 0) {
    const off = ref - s.level;
    const w = Math.min(1, k * Math.max(1 / (pr.n + k), pr.wMin));
    pr.res2 += (sq / k - pr.res2) * w;
    pr.dev2 += ((sq + 2 * off * sum) / k + off * off - pr.dev2) * w;
    pr.n += k;
  }
  if (pr.dirty) return;
  const m = ref + sum / k;
  const j = room(pr, b);
  pr.mean[j] = pr.mean[j]! + (m - pr.mean[j]!) * Math.max(1 / (pr.count[j]! + 1), 1 / p.seasonMemory);
  pr.count[j] = Math.min(pr.count[j]! + 1, p.seasonMemory);
}

/**
 * Learns the finest bin's visit that just ended into the overall level (unless dirty), right
 * after the first profile has compared it: each profile measures its share about the level as it
 * stood when its visit ended.
 */
function learnLevel(p: SeasonParams, s: SeasonState): void {
  if (s.dirty) return;
  const m = s.ref + s.sum / s.k;
  s.nl += 1;
  s.level += (m - s.level) * Math.max(1 / s.nl, 1 / (s.profiles[0]!.bins * p.seasonMemory));
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
    if (pr.idleUntil > 0) {
      if (i === 0) learnLevel(p, s);
      continue;
    }
    const b = binOf(pr, s.from);
    if (b !== pr.bin) {
      fold(p, s, i);
      if (s.active < 0 && explainsNothing(pr) && s.profiles.every((q) => q.idleUntil > 0 || explainsNothing(q))) {
        letGo(pr, s.from);
        if (i === 0) learnLevel(p, s);
        continue;
      }
      pr.bin = b;
      pr.ref = heldAt(pr, b);
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
      learnLevel(p, s);
      pr.bin = -1;
      pr.k = 0;
    }
  }
}

/**
 * Profiles let go whose wait is over at `ts` start again from empty; true if every profile is
 * still let go. The level is learned afresh when one starts after all were let go (it was not
 * learned meanwhile, and a stale level makes any profile look like it explains the drift).
 */
function retry(s: SeasonState, ts: number): boolean {
  let idle = true;
  let wasIdle = true;
  for (const pr of s.profiles) {
    if (pr.idleUntil === 0) wasIdle = false;
    else if (ts >= pr.idleUntil) pr.idleUntil = 0;
    if (pr.idleUntil === 0) idle = false;
  }
  if (wasIdle && !idle) {
    s.level = 0;
    s.nl = 0;
  }
  return idle;
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
    upgrade(s);
    // A visit that spanned a time when every profile was let go is no bin's (nothing learns it).
    if (!s.idle) endVisit(p, s);
    s.idle = retry(s, ts);
    s.from = ts;
    if (s.idle) {
      // One comparison a sample until the first profile is tried again.
      s.until = Math.min(...s.profiles.map((q) => q.idleUntil));
      s.ref = s.level;
      s.sum = 0;
      s.sq = 0;
      s.k = 0;
      s.dirty = false;
      return true;
    }
    const b = binOf(pr, ts);
    s.until = ts - (ts % pr.binMs) + pr.binMs;
    // A profile let go holds nothing: differences from the level keep the sums' precision.
    s.ref = pr.idleUntil > 0 ? s.level : heldAt(pr, b);
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
  upgrade(s);
  const bins = pr.bins;
  const b = binOf(pr, ts);
  let best = s.level;
  let bestDist = Infinity;
  for (let d = -1; d <= 1; d++) {
    const j = slotOf(pr, (b + d + bins) % bins);
    if (j < 0 || pr.count[j]! === 0) continue;
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
