/**
 * The analytics stage's own vocabulary: detector inputs, steps and definitions. Detectors are
 * pure: (params, state, input) → (state, events). No I/O, no clocks: time is always the
 * sample's (or the tick's) timestamp, so replays and evaluation scripts see exactly what the
 * live platform sees.
 */

// The alert vocabulary (categories, severities, messages, the events that raise and clear alerts)
// belongs to src/alerts/; re-exported here for the detectors and rules.
import type { ConditionEvent } from '../alerts/types.js';
export { CATEGORIES, SEVERITIES, SEVERITY_RANK, type AnomalyEvent, type Category, type Message, type Severity } from '../alerts/types.js';

/** One value of one metric of one device at one time (bad-quality readings never get here). */
export interface DetectorInput {
  ts: number;
  value: number;
}

/**
 * One sample of a device for a per-sample (multivariate) detector: its signal metrics at one
 * time, in the sample's order. Absent and bad-quality metrics are simply not there.
 */
export interface SampleInput {
  ts: number;
  values: Readonly<Record<string, number>>;
  /** The device's last reported machine state (the `state` metric), if it reports one. */
  state?: number;
  /**
   * The same metrics as `values` in the same order, as parallel arrays (their first `count`
   * entries), when the caller has them (the engine does): a detector may read a value by position
   * instead of looking its name up in `values`.
   */
  list?: SampleList;
}

export interface SampleList {
  names: readonly string[];
  values: ArrayLike<number>;
  count: number;
}

/** What a detector says about one input (or tick): see ConditionEvent. */
export type DetectorEvent = ConditionEvent;

export interface Step<S> {
  state: S;
  events: readonly DetectorEvent[];
}

/** The events of a step that found nothing: shared and frozen, since that is most steps of most detectors. */
export const NO_EVENTS: readonly DetectorEvent[] = Object.freeze([]);

/**
 * A detector kind. `step` sees every input of its metric in timestamp order; `tick` (optional)
 * is called on the platform's clock for detectors that react to the absence of input (silence).
 * Both must be pure: return a new state or the same one, never mutate shared data or do I/O.
 *
 * States are plain data (numbers, strings, booleans, null, plain arrays and objects): a state
 * survives `JSON.parse(JSON.stringify(state))` unchanged, so a device's states can be handed to
 * another worker and continue there with the same events.
 */
export interface DetectorDef<P, S> {
  readonly kind: string;
  initial(params: P): S;
  step(params: P, state: S, input: DetectorInput): Step<S>;
  tick?(params: P, state: S, now: number): Step<S>;
  /**
   * The device announced it is offline (status topic death, Sparkplug NDEATH/DDEATH, a gateway's
   * will), at arrival time `at`.
   */
  offline?(params: P, state: S, at: number, reason: string | null): Step<S>;
  /**
   * Per-sample detectors (multivariate) judge all of a device's signal metrics at once: the engine
   * calls this instead of `step` with every sample, for rules on metric `+`. `step` is then unused.
   */
  stepSample?(params: P, state: S, input: SampleInput): Step<S>;
  /**
   * In-place forms of `step` and `stepSample`, for a caller that owns the state and shares it with
   * nobody (the engine keeps one per rule and device): the state object itself is updated and the
   * events returned, the same events the pure form gives. The learned detectors run on every
   * metric of every sample, where a new state per input (and the garbage it leaves) is most of
   * their cost. The pure forms copy the state and call these.
   */
  update?(params: P, state: S, input: DetectorInput): readonly DetectorEvent[];
  updateSample?(params: P, state: S, input: SampleInput): readonly DetectorEvent[];
}
