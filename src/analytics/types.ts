/**
 * The vocabulary shared by the analytics stage (detectors, energy accounting) and the alert
 * manager. Detectors are pure: (params, state, input) → (state, events). No I/O, no clocks:
 * time is always the sample's (or the tick's) timestamp, so replays and evaluation scripts see
 * exactly what the live platform sees.
 */

/** safety: danger to people or plant; energy: waste; sensor: the instrument, not the process, is wrong; data: missing or late data. */
export type Category = 'safety' | 'energy' | 'sensor' | 'data';
export const CATEGORIES: readonly Category[] = ['safety', 'energy', 'sensor', 'data'];

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
/** For "minimum severity" filters. */
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** A human message, in English and Chinese. */
export interface Message {
  en: string;
  zh: string;
}

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
}

/**
 * What a detector says about one input (or tick):
 * - `raise`: the condition holds at `ts` (after any minimum duration). Emitted for every input
 *   while it holds: the first opens an alert, the later ones update it (count, last seen, peak).
 * - `clear`: the condition has ended (past any hysteresis). Emitted once.
 */
export interface DetectorEvent {
  kind: 'raise' | 'clear';
  ts: number;
  /** The value that raised (or cleared) the condition, in the metric's unit. */
  value: number;
  /** The limit that was crossed, if the rule has one. */
  threshold?: number;
  /** The learned baseline (mean) the value deviated from, if the rule learns one. */
  baseline?: number;
  message: Message;
}

/** A detector event placed in context: which device, which rule; ready for the alert manager. */
export interface AnomalyEvent extends DetectorEvent {
  site: string;
  line: string;
  device: string;
  /** The rule id from the rules configuration (e.g. `temperature-high`). Dedup key: device + rule. */
  rule: string;
  metric: string;
  category: Category;
  severity: Severity;
}

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
}
