/**
 * How often the heavy rules on every metric judge a device (`judgeEveryS` of the distribution and
 * multivariate detectors). Their cost is per judged sample and what they look for (a change of
 * the values' spread, a broken relation between metrics) takes many samples to show, so a device
 * that reports faster than `judgeEveryS` is judged about that often (once at least 90 % of it has
 * passed since the last judged sample, so data at the period with some jitter is still judged
 * sample by sample), on the mean of each metric over the samples since the last judged one (that
 * one excluded, the judged one included). Data at `judgeEveryS` spacing or slower (a NAB file
 * every 5 min, a fleet sampled every 10 s) is judged sample by sample on exactly its own values;
 * a 1 Hz machine with the default 10 s is judged every 9 s on 9-sample means, at a ninth of the
 * cost, and its heavy rules' sample counts (windows, warm-ups, runs) then span about the times
 * they were chosen for on the 10 s fleet. The cheap per-sample rules (outliers, limits) still see
 * every sample.
 *
 * Plain data (numbers, strings, arrays), so a device's pending means are handed over with its
 * state (device-state.ts).
 */
export interface Cadence {
  /** Time after the last judged sample from which a sample is due (DUE_SHARE of the period). */
  dueMs: number;
  /** Time of the last judged sample (-Infinity: none yet, so the first sample is judged at once). */
  judgedAt: number;
  /** Time of the last sample added. */
  lastTs: number;
  /** Samples added since the last judged one. */
  pending: number;
  /** The device's machine state they were reported in (null: none reported). */
  state: number | null;
  /**
   * The metrics seen (in order of first appearance), the sums of their values since the last
   * judged sample and how many: kept between judgements (the next samples most likely name the same
   * metrics), a metric absent from a whole period dropped when the period is judged.
   */
  names: string[];
  sums: number[];
  counts: number[];
}

/** The share of the period after which a sample is due: data at the period with jitter is judged sample by sample. */
const DUE_SHARE = 0.9;

export function newCadence(everyS: number): Cadence {
  return { dueMs: everyS * 1000 * DUE_SHARE, judgedAt: -Infinity, lastTs: -Infinity, pending: 0, state: null, names: [], sums: [], counts: [] };
}

/**
 * A cadence handed over as JSON (device-state.ts), going on at `dueMs` (this side's rule may say
 * otherwise). Built field by field: an object spread from another makes V8 box every number
 * stored into it afterwards.
 */
export function restoreCadence(saved: Cadence, dueMs: number): Cadence {
  return { dueMs, judgedAt: saved.judgedAt, lastTs: saved.lastTs, pending: saved.pending, state: saved.state ?? null, names: saved.names, sums: saved.sums, counts: saved.counts };
}

/** The rule's cadence when its params ask for one (a positive `judgeEveryS`), else null: judged on every sample. */
function cadenceOf(params: unknown): Cadence | null {
  const every = (params as { judgeEveryS?: unknown } | null)?.judgeEveryS;
  return typeof every === 'number' && every > 0 ? newCadence(every) : null;
}

/** What of a rule decides which samples its cadence is given (engine.ts). */
interface CadencedRule {
  metric: string;
  states?: readonly number[];
  settleS?: number;
  params: unknown;
}

/**
 * A device's cadence per rule (null: none, judged on every sample; only rules on every metric,
 * `+`, have one). Rules whose cadences always agree share one object: the same period, and the
 * same states and settling, so the engine, which passes a rule over outside its states or while
 * settling before its cadence sees the sample, hands them the same samples; it then sums each
 * sample once for all of them (engine.ts, stepEach). The built-in `distribution-change` and
 * `joint-deviation` share one; `off-dynamics`, judged in every state, has its own.
 */
export function cadencesOf(rules: readonly CadencedRule[], each: string): (Cadence | null)[] {
  const shared = new Map<string, Cadence>();
  return rules.map((r) => {
    const c = r.metric === each ? cadenceOf(r.params) : null;
    if (c === null) return null;
    const key = `${c.dueMs}|${r.states === undefined ? '*' : `${[...r.states].sort((a, b) => a - b).join(',')}|${r.settleS ?? 0}`}`;
    const known = shared.get(key);
    if (known) return known;
    shared.set(key, c);
    return c;
  });
}

/**
 * The device's machine state for the next sample (null: none reported). A change drops what was
 * pending, so a mean never spans two states (the multivariate detector keeps a model per state).
 */
export function inState(c: Cadence, state: number | null): void {
  if (c.state === state) return;
  c.state = state;
  if (c.pending > 0) {
    c.counts.fill(0);
    c.pending = 0;
  }
}

/** A sample's time, held in an object: see addSample. */
export interface SampleTime {
  ts: number;
}

/**
 * Add one sample's metrics (the first `count` of `names`/`values`) at time `at.ts` (a field
 * rather than an argument: the engine calls this for every sample, and V8 makes a heap object of
 * a number passed to a call it leaves out of line). When the sample
 * is due to be judged, the metrics of the period with their means are written to `outNames` and
 * `outValues` and their number returned; else −1. Pending samples more than `dueMs` before this
 * one are dropped first: after a pause (the machine left the rule's states, or went silent) a
 * mean must not span it.
 */
export function addSample(c: Cadence, at: Readonly<SampleTime>, names: readonly string[], values: ArrayLike<number>, count: number, outNames: string[], outValues: number[]): number {
  const { sums, counts } = c;
  const ts = at.ts;
  if (c.pending > 0 && !(ts - c.lastTs <= c.dueMs)) {
    counts.fill(0);
    c.pending = 0;
  }
  // Most samples name the known metrics in the same order: one comparison each.
  let same = c.names.length === count;
  for (let j = 0; same && j < count; j++) same = c.names[j] === names[j];
  for (let j = 0; j < count; j++) {
    let at = j;
    if (!same) {
      at = c.names.indexOf(names[j]!);
      if (at < 0) {
        at = c.names.length;
        c.names.push(names[j]!);
        sums.push(0);
        counts.push(0);
      }
    }
    // A metric's first value is stored as it is (not added to 0), so a mean of one value is that value exactly.
    sums[at] = counts[at] === 0 ? values[j]! : sums[at]! + values[j]!;
    counts[at] = counts[at]! + 1;
  }
  c.lastTs = ts;
  c.pending++;
  if (ts - c.judgedAt < c.dueMs) return -1;
  let n = 0;
  for (let j = 0; j < c.names.length; j++) {
    const k = counts[j]!;
    if (k === 0) continue;
    outNames[n] = c.names[j]!;
    outValues[n] = k === 1 ? sums[j]! : sums[j]! / k;
    n++;
  }
  // Metrics absent from the whole period are forgotten (they would make every sample take the slow
  // path above), and the arrays are cut to their exact length once they change (an array grown by
  // push keeps room for more, which is kept per device and rule).
  if (!same) {
    c.names = outNames.slice(0, n);
    c.sums = Array<number>(n).fill(0);
    c.counts = Array<number>(n).fill(0);
  } else counts.fill(0);
  c.judgedAt = ts;
  c.pending = 0;
  return n;
}
