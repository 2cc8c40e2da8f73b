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
 * `seasonBins`), each bin the EWMA of the means of its visits (memory `seasonMemory` periods). Samples are
 * only summed while the phase stays in one bin, and the visit's mean is folded in when the phase
 * moves on, so the cost per sample is an index and two additions, and a fast signal (1 Hz, 300
 * samples a bin) teaches each bin once per visit, like a slow one. Each sample is compared with
 * what its bin held (out of sample: before its visit is folded in) and with the overall level: the
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
  /** Samples compared so far (the EWMAs' weight is max(1/n, wMin)). */
  n: number;
  /** Samples a period at the interval the profile was made for, and the EWMAs' least weight (memory `seasonMemory` periods). */
  perPeriod: number;
  wMin: number;
}

export interface SeasonState {
  /** The overall level (EWMA of visits' means) the profile's share of variance is measured about. */
  level: number;
  nl: number;
  profiles: SeasonProfile[];
  /** The profile robust.ts judges against, −1 none. */
  active: number;
  /** The visit in progress: its bin (over the first profile's, −1 none) per profile, its sum and count. */
  bin: number[];
  sum: number[];
  k: number[];
  /** Per profile: some sample of its visit in progress was part of an alert (that visit is not learned). */
  dirty: boolean[];
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
  for (const periodS of p.seasonPeriodsS) {
    const periodMs = periodS * 1000;
    const bins = Math.min(p.seasonBins, Math.floor(periodMs / Math.max(dtMs, 1)));
    // Too few samples a period to tell a cycle from noise.
    if (bins < 4) continue;
    const perPeriod = periodMs / Math.max(dtMs, 1);
    profiles.push({ periodMs, binMs: periodMs / bins, mean: new Array<number>(bins).fill(0), count: new Array<number>(bins).fill(0), res2: 0, dev2: 0, n: 0, perPeriod, wMin: 1 / (perPeriod * p.seasonMemory) });
  }
  return { level: 0, nl: 0, profiles, active: -1, bin: profiles.map(() => -1), sum: profiles.map(() => 0), k: profiles.map(() => 0), dirty: profiles.map(() => false) };
}

/** The bin of `ts` in profile `pr`. */
function binOf(pr: SeasonProfile, ts: number): number {
  const phase = ts % pr.periodMs;
  return Math.min(pr.mean.length - 1, Math.floor((phase < 0 ? phase + pr.periodMs : phase) / pr.binMs));
}

/** Folds the visit in progress of profile i into its bin (unless dirty). */
function fold(p: SeasonParams, s: SeasonState, i: number): void {
  const pr = s.profiles[i]!;
  const b = s.bin[i]!;
  const k = s.k[i]!;
  if (b < 0 || k === 0 || s.dirty[i]) return;
  const m = s.sum[i]! / k;
  pr.mean[b] = pr.mean[b]! + (m - pr.mean[b]!) * Math.max(1 / (pr.count[b]! + 1), 1 / p.seasonMemory);
  pr.count[b] = Math.min(pr.count[b]! + 1, p.seasonMemory);
  // The level is learned once, from the first profile's visits.
  if (i === 0) {
    s.nl += 1;
    s.level += (m - s.level) * Math.max(1 / s.nl, 1 / (pr.mean.length * p.seasonMemory));
  }
}

/**
 * Adds a sample to the visit in progress of every profile, folding each visit that ended first;
 * true if one did (the profiles' shares of variance may have moved). `dirty`: the sample was part
 * of an alert (its visits are then not learned into the bins).
 */
export function addSample(p: SeasonParams, s: SeasonState, ts: number, value: number, dirty: boolean): boolean {
  let moved = false;
  for (let i = 0; i < s.profiles.length; i++) {
    const b = binOf(s.profiles[i]!, ts);
    if (b !== s.bin[i]) {
      fold(p, s, i);
      s.bin[i] = b;
      s.sum[i] = 0;
      s.k[i] = 0;
      s.dirty[i] = false;
      moved = true;
    }
    s.sum[i] = s.sum[i]! + value;
    s.k[i] = s.k[i]! + 1;
    // An alert's samples are compared all the same: a profile that no longer fits must show it.
    if (dirty) s.dirty[i] = true;
    const pr = s.profiles[i]!;
    if (pr.count[b]! > 0 && s.nl > 0) {
      const r = value - pr.mean[b]!;
      const d = value - s.level;
      const w = Math.max(1 / (pr.n + 1), pr.wMin);
      pr.res2 += (r * r - pr.res2) * w;
      pr.dev2 += (d * d - pr.dev2) * w;
      pr.n += 1;
    }
  }
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
 * it leaves less than twice that bar and no other leaves half its share (a noisy week does not
 * switch the reference back and forth: each switch starts the tests' warm-up again).
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
  if (held < Math.min(1, 2 * bar) && !(best >= 0 && bestShare < BETTER * held)) return s.active;
  return best;
}

/** How much less of the variance another profile must leave to be preferred (see chooseProfile). */
const BETTER = 0.5;

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
  return { ...s, profiles: s.profiles.map((pr) => ({ ...pr, mean: [...pr.mean], count: [...pr.count] })), bin: [...s.bin], sum: [...s.sum], k: [...s.k], dirty: [...s.dirty] };
}
