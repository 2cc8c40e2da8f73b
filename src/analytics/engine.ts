import { deviceKey, type DeviceRef, type TelemetryBatch } from '../contract/index.js';
import { isSignalMetric } from '../contract/metrics.js';
import type { Point } from '../storage/point.js';
import { addSample, cadencesOf, inState, type Cadence, type SampleTime } from './cadence.js';
import { detectorFor, type AnyDetector } from './detectors/index.js';
import { DeviceEnergyAccumulator, toEnergyPoint, type EnergyConfig, type EnergyWindow } from './energy/index.js';
import { exportDeviceState, importDeviceState, type DeviceStateJson } from './device-state.js';
import { createRuleResolver, type ResolvedRule, type RulesConfig } from './rules/index.js';
import { EACH_METRIC, HEARTBEAT_METRIC } from './rules/schema.js';
import type { AnomalyEvent, DetectorEvent, DetectorInput, SampleInput, SampleList } from './types.js';

/**
 * Metrics tracked per device by one rule on every metric (`+`): one detector state each, so a
 * device that invents a new metric name with every sample cannot grow the engine without bound.
 * Metrics beyond the cap (in order of first appearance) are not judged by that rule.
 */
export const EACH_METRIC_CAP = 32;

/** A rule on every metric keeps, per device, one detector state per metric it has seen. */
type PerMetricStates = Map<string, unknown>;

/**
 * A rule on every metric's states and params by the position of their metric in the last sample
 * it judged (for in-place detectors, whose state objects stay the same): the next sample most
 * likely names the same metrics in the same order, and then each is found by comparing its name
 * with the one at its position instead of two look-ups by name.
 */
interface Slots {
  names: string[];
  states: unknown[];
  params: unknown[];
}

/**
 * What the rules on every metric (`+`) need to know of one metric name, shared by the devices of a
 * rules list (rules/resolve.ts shares one list per class) and made on first sight: whether it is a
 * signal, and per rule index the params its per-value detector judges that metric with (the
 * detector names the metric in its messages). One look-up per metric per sample instead of one
 * per rule.
 */
interface MetricInfo {
  signal: boolean;
  /** Parallel to the rules: a `+` per-value rule's params for this metric (else undefined). */
  params: unknown[];
  /** Indices of the rules on this very metric (their value is found in the same pass over the sample). */
  fixed: number[];
}

/** A sample's metrics as a record whose values are read by position (see AnalyticsEngine.sampleRecord). */
interface SampleRecord {
  names: string[];
  record: Record<string, number>;
  /** The values the record reads now, indexed like names. */
  values: readonly number[];
}

/** A record of `holder.names` (the first `count`) whose properties read `holder.values` at their position when read. */
function recordByPosition(holder: SampleRecord, count: number): Record<string, number> {
  const record: Record<string, number> = {};
  for (let j = 0; j < count; j++) Object.defineProperty(record, holder.names[j]!, { get: () => holder.values[j]!, enumerable: true });
  return record;
}

/** Names remembered per rules list: a fleet inventing metric names without end is judged, just not cached beyond this. */
const METRIC_INFO_CAP = 4096;

/**
 * The metric infos of a rules list, by name, and the names and infos of the last sample collected
 * with it by position: the devices of a class mostly send the same metrics in the same order, so a
 * metric's info is then found by comparing its name with the one at its position (the same string)
 * instead of a look-up by name.
 */
interface MetricInfos {
  byName: Map<string, MetricInfo>;
  lastNames: string[];
  lastInfos: MetricInfo[];
  /** How many metrics the last sample named (lastNames may be longer, from an earlier sample). */
  lastCount: number;
  /**
   * The rules the last sample's metrics let judge, in rule order (the first `runLength`): the rules
   * on every metric and those on a metric it has. The next sample naming the same metrics in the
   * same order is judged by the same rules, so the rules on a metric it lacks (the range rules
   * of the catalogue's other metrics, the ones on derived window metrics) are not even tested.
   */
  run: Int32Array;
  runLength: number;
  /** The same for the means a rule with a cadence judged last (their metrics are the signal ones, in their own order). */
  lastMeanNames: string[];
  lastMeanInfos: MetricInfo[];
}

const METRIC_INFO = new WeakMap<readonly ResolvedRule[], MetricInfos>();

function metricInfoOf(rules: readonly ResolvedRule[]): MetricInfos {
  let infos = METRIC_INFO.get(rules);
  if (!infos) {
    infos = { byName: new Map(), lastNames: [], lastInfos: [], lastCount: -1, run: new Int32Array(rules.length), runLength: 0, lastMeanNames: [], lastMeanInfos: [] };
    METRIC_INFO.set(rules, infos);
  }
  return infos;
}

/**
 * A rule's params with `metric` set, built key by key in the rule's order: every metric's copy then
 * has the same hidden class, so the detector's reads of its params stay fast (a spread copy with a
 * different `metric` got a class of its own per metric, which made every read of a param slow).
 */
function withMetric(params: Record<string, unknown>, metric: string): Readonly<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key in params) out[key] = key === 'metric' ? metric : params[key];
  out.metric = metric;
  return Object.freeze(out);
}

function infoFor(byName: Map<string, MetricInfo>, rules: readonly ResolvedRule[], detectors: readonly AnyDetector[], name: string): MetricInfo {
  let info = byName.get(name);
  if (info === undefined) {
    const signal = isSignalMetric(name);
    const fixed: number[] = [];
    rules.forEach((r, i) => {
      if (r.metric === name) fixed.push(i);
    });
    info = { signal, params: rules.map((r, i) => (signal && r.metric === EACH_METRIC && !detectors[i]!.stepSample ? withMetric(r.params as Record<string, unknown>, name) : undefined)), fixed };
    if (byName.size < METRIC_INFO_CAP) byName.set(name, info);
  }
  return info;
}

/** The window whose closing feeds the derived energy metrics to the rules (defaults.ts). */
const DETECTION_WINDOW_MS = 15 * 60_000;

export interface AnalyticsOutput {
  readonly events: readonly AnomalyEvent[];
  /** `energy` points of the windows this batch closed. */
  readonly points: readonly Point[];
}

/**
 * What most batches give (no event, no window closed): one frozen output, not two new lists and
 * an object per batch.
 */
const NOTHING: AnalyticsOutput = Object.freeze({ events: Object.freeze([]) as readonly AnomalyEvent[], points: Object.freeze([]) as readonly Point[] });

export interface AnalyticsStats {
  devices: number;
  /** Samples skipped by the detectors because they were not newer than the device's last (replays). */
  samplesNotNewer: number;
  windowsClosed: number;
}

/** What a rule is judged on: a fixed metric's value, every signal metric (`+`), or a batch's arrival (`*`). */
const FIXED = 0;
const EACH = 1;
const HEARTBEAT = 2;
const ROLES = new WeakMap<readonly ResolvedRule[], Uint8Array>();

/** Each rule's role, found once per rules list instead of comparing its metric with `*` and `+` per sample. */
function rolesOf(rules: readonly ResolvedRule[]): Uint8Array {
  let roles = ROLES.get(rules);
  if (!roles) {
    roles = Uint8Array.from(rules, (r) => (r.metric === HEARTBEAT_METRIC ? HEARTBEAT : r.metric === EACH_METRIC ? EACH : FIXED));
    ROLES.set(rules, roles);
  }
  return roles;
}

const HEARTBEATS = new WeakMap<readonly ResolvedRule[], Int32Array>();

/**
 * The indices of the heartbeat rules (metric `*`), found once per rules list: each batch steps
 * them, and a search of every rule's role for them per batch (the defaults have one among more
 * than twenty rules) was 1.6 % of the steady bench's CPU profile.
 */
function heartbeatsOf(rules: readonly ResolvedRule[]): Int32Array {
  let heartbeats = HEARTBEATS.get(rules);
  if (!heartbeats) {
    const roles = rolesOf(rules);
    heartbeats = Int32Array.from(rules.keys()).filter((i) => roles[i] === HEARTBEAT);
    HEARTBEATS.set(rules, heartbeats);
  }
  return heartbeats;
}

/**
 * A per-value rule's Slots for these metrics (the first `count`), each state found or made (up to
 * EACH_METRIC_CAP, in order) in `states`; arrays of the exact length, as they are kept per device.
 */
function slotsOf(def: AnyDetector, states: PerMetricStates, i: number, names: readonly string[], infos: readonly MetricInfo[], count: number): Slots {
  const slotNames = names.slice(0, count);
  const params = infos.slice(0, count).map((info) => info.params[i]);
  const slotStates = slotNames.map((name, j) => {
    let state = states.get(name);
    if (state === undefined && states.size < EACH_METRIC_CAP) {
      state = def.initial(params[j]);
      states.set(name, state);
    }
    return state;
  });
  return { names: slotNames, states: slotStates, params };
}

/**
 * Per rules list, what the machine state lets judge: per state, a flag per rule (0: the rule is
 * limited to other states), and per rule the settling time it waits after a change of state
 * (−Infinity: none). Found once per state reported instead of searching each rule's states on
 * every sample; a device that reports no state is judged by every rule, without settling.
 */
interface StateGates {
  byState: Map<number, Uint8Array>;
  /** Every rule judges (no state reported). */
  all: Uint8Array;
  settleMs: Float64Array;
}

const STATE_GATES = new WeakMap<readonly ResolvedRule[], StateGates>();

function stateGatesOf(rules: readonly ResolvedRule[]): StateGates {
  let gates = STATE_GATES.get(rules);
  if (!gates) {
    gates = {
      byState: new Map(),
      all: new Uint8Array(rules.length).fill(1),
      // The product is computed as the per-sample test did (settleS * 1000), so the comparison is the same.
      settleMs: Float64Array.from(rules, (r) => (r.states && r.settleS !== undefined ? r.settleS * 1000 : -Infinity)),
    };
    STATE_GATES.set(rules, gates);
  }
  return gates;
}

/** Which rules judge a device in `state` (undefined: none reported). */
function gateFor(rules: readonly ResolvedRule[], state: number | undefined): Uint8Array {
  const gates = stateGatesOf(rules);
  if (state === undefined) return gates.all;
  let gate = gates.byState.get(state);
  if (!gate) {
    gate = Uint8Array.from(rules, (r) => (!r.states || r.states.includes(state) ? 1 : 0));
    gates.byState.set(state, gate);
  }
  return gate;
}

/**
 * A rule's state for a device that has not needed one yet: a map of per-metric states for a
 * per-value rule on every metric, else the detector's initial state.
 */
function initialState(rule: ResolvedRule, def: AnyDetector): unknown {
  return rule.metric === EACH_METRIC && !def.stepSample ? new Map() : def.initial(rule.params);
}

/**
 * Rule i's state of device d, made on its first use: most devices never send some metrics the
 * rules name (a gas limit on a press, a range of the catalogue's every metric), and the rules on
 * derived energy metrics wait for a window to close, so no state is kept for them until then.
 */
export function stateOf(d: DeviceState, i: number): unknown {
  let state = d.states[i];
  if (state === undefined) state = d.states[i] = initialState(d.rules[i]!, d.detectors[i]!);
  return state;
}

/** Rules lists are shared by the devices of a class (rules/resolve.ts), and so are their detector lists. */
const DETECTORS_OF = new WeakMap<readonly ResolvedRule[], readonly AnyDetector[]>();

function detectorsOf(rules: readonly ResolvedRule[]): readonly AnyDetector[] {
  let d = DETECTORS_OF.get(rules);
  if (!d) {
    d = rules.map((r) => detectorFor(r.detector));
    DETECTORS_OF.set(rules, d);
  }
  return d;
}

/** Everything the engine keeps about one device: its rules' detector states and its energy accumulator. */
export interface DeviceState {
  site: string;
  line: string;
  device: string;
  rules: readonly ResolvedRule[];
  /** Parallel to `rules`: each rule's detector, looked up once per device instead of per step. */
  detectors: readonly AnyDetector[];
  /** The rules list's metric infos (shared, see MetricInfo). */
  metricInfo: MetricInfos;
  /** Parallel to `rules` (shared like them): what each rule is judged on (rolesOf). */
  roles: Uint8Array;
  /** The heartbeat rules' indices (shared like `rules`): heartbeatsOf. */
  heartbeats: Int32Array;
  /** Parallel to `rules`: undefined until the rule first needs it (read through stateOf). */
  states: unknown[];
  /** Parallel to `rules`: how often a rule on every metric judges the device (cadence.ts); null: every sample. */
  cadences: (Cadence | null)[];
  /** Parallel to `rules`: a per-value rule on every metric's Slots, made on its first sample. */
  slots: (Slots | undefined)[];
  /** Latest sample time the detectors have seen (older or equal samples are replays). */
  lastTs: number;
  /** Last reported machine state (the `state` metric), for rules limited to some states. */
  machineState: number | undefined;
  /** Sample time the device entered `machineState` (the first sample seen, after a restart), for `settleS`. */
  stateSince: number;
  /** gateFor(rules, gateState): which rules judge in the machine state last seen (a cache, not handed over). */
  gate: Uint8Array;
  gateState: number | undefined;
  /** Parallel to `rules` (shared like them): the settling time of a rule limited to some states, else −Infinity. */
  settleMs: Float64Array;
  energy: DeviceEnergyAccumulator;
}

/**
 * The analytics stage (docs/architecture.md, docs/analytics.md): per device, runs every effective rule's detector over each
 * new sample, accounts energy over tumbling windows, and feeds the closed 15-min windows'
 * derived metrics (`intensity_kwh_per_unit`, `idle_share`, `power_factor_avg`) to the rules as
 * ordinary inputs. No I/O: it returns events for the alert manager and points for storage.
 *
 * Time: detectors judge sample time, except silence, which is about arrival: a gateway
 * replaying an hour of backlog is not silent, so the heartbeat input is the arrival time.
 * Historical batches (e.g. Sparkplug `is_historical`) are accounted but kept out of detection.
 */
export class AnalyticsEngine {
  private readonly devices = new Map<string, DeviceState>();
  /**
   * The same devices by site, line and device id, for the look-up of every batch: the key string
   * (deviceKey) is then built only for a device not seen yet, not once per batch.
   */
  private readonly byRef = new Map<string, Map<string, Map<string, DeviceState>>>();
  private readonly rulesFor: (key: string) => readonly ResolvedRule[];
  private samplesNotNewer = 0;
  private readonly input: DetectorInput = { ts: 0, value: 0 };
  /** The signal metrics of the sample being judged (see collect). */
  private readonly names: string[] = [];
  private readonly values: number[] = [];
  private readonly infos: MetricInfo[] = [];
  /**
   * The values of the rules on a fixed metric, indexed like the rules, found in the same pass: a
   * rule's value is this sample's when its stamp is the sample's serial (else the metric is absent).
   */
  private ruleValues = new Float64Array(16);
  private ruleStamps = new Int32Array(16);
  private serial = 0;
  /**
   * The time of the sample being judged, read from here by the rules on every metric (stepEach,
   * judgeEach, the cadence's addSample) rather than passed to them: a number passed to a call V8
   * leaves out of line becomes a heap object, one per call (three per sample, 41 bytes).
   */
  private readonly sampleTime: SampleTime = { ts: 0 };
  /**
   * The sample handed to per-sample detectors as a record, reused while the signal metrics keep
   * their names (they read it and keep nothing of it): see sampleRecord.
   */
  private readonly sampleValues: SampleRecord = { names: [], record: {}, values: [] };
  /** The means a rule with a cadence judges (cadence.ts), with their metrics and infos: scratch like names. */
  private readonly meanNames: string[] = [];
  private readonly meanValues: number[] = [];
  private readonly meanInfos: MetricInfo[] = [];
  /** The cadence this sample (its serial) was last added to, and what addSample gave: rules sharing it reuse the means. */
  private addedTo: Cadence | null = null;
  private addedSerial = 0;
  private addedCount = -1;
  private readonly sampleList: { names: readonly string[]; values: ArrayLike<number>; count: number } = { names: this.names, values: this.values, count: 0 };
  private readonly sampleInput: { ts: number; values: Readonly<Record<string, number>>; state: number | undefined; list: SampleList } = { ts: 0, values: {}, state: undefined, list: this.sampleList };
  private windowsClosed = 0;
  /** The events of the call being run (process, tick, offline), made on the first one: see emit. */
  private sink: AnomalyEvent[] | null = null;

  constructor(
    rules: RulesConfig,
    private readonly energy: EnergyConfig,
  ) {
    this.rulesFor = createRuleResolver(rules);
  }

  stats(): AnalyticsStats {
    return { devices: this.devices.size, samplesNotNewer: this.samplesNotNewer, windowsClosed: this.windowsClosed };
  }

  /** Rules in force for a device (for the API and explanations). */
  rules(key: string): readonly ResolvedRule[] {
    return this.rulesFor(key);
  }

  /** A device's state as plain JSON (device-state.ts), for handing it over to another process; null when unknown. */
  exportDevice(key: string): DeviceStateJson | null {
    const d = this.devices.get(key);
    return d ? exportDeviceState(d) : null;
  }

  /** The newest sample time the device's state has seen (null: none, or no state here): the cheap part of exportDevice. */
  lastTsOf(key: string): number | null {
    const t = this.devices.get(key)?.lastTs;
    return t !== undefined && Number.isFinite(t) ? t : null;
  }

  /** Go on from a device state another process exported (replaces what this engine had). */
  importDevice(json: DeviceStateJson): void {
    const key = deviceKey(json);
    this.forgetDevice(key);
    // The fresh state made here is filled in place (device-state.ts): the one both maps hold.
    importDeviceState(json, this.device(json), this.energy);
  }

  /** The device is processed elsewhere now: drop its state. */
  forgetDevice(key: string): boolean {
    const d = this.devices.get(key);
    if (!d) return false;
    this.devices.delete(key);
    const lines = this.byRef.get(d.site);
    const devices = lines?.get(d.line);
    devices?.delete(d.device);
    if (devices?.size === 0) lines!.delete(d.line);
    if (lines?.size === 0) this.byRef.delete(d.site);
    return true;
  }

  /** One validated batch, at arrival time `now`. */
  process(batch: TelemetryBatch, now: number): AnalyticsOutput {
    const d = this.device(batch);
    this.sink = null;
    let points: Point[] | null = null;
    const live = batch.historical !== true;
    const samples = batch.samples;
    for (let k = 0; k < samples.length; k++) {
      const sample = samples[k]!;
      const closed = d.energy.feed(sample);
      for (let c = 0; c < closed.length; c++) {
        const w = closed[c]!;
        (points ??= []).push(toEnergyPoint(w));
        this.windowsClosed++;
        if (live && w.windowMs === DETECTION_WINDOW_MS) this.detectWindow(d, w);
      }
      if (!live) continue;
      if (sample.ts <= d.lastTs) {
        this.samplesNotNewer++;
        continue;
      }
      d.lastTs = sample.ts;
      this.sampleTime.ts = sample.ts;
      const count = this.collect(d, sample.m);
      if (sample.m.state !== undefined && sample.m.state !== d.machineState) {
        d.machineState = sample.m.state;
        d.stateSince = sample.ts;
      }
      // The machine state changes seldom (an import may set it too): the rules it lets judge are looked up then.
      if (d.gateState !== d.machineState) {
        d.gate = gateFor(d.rules, d.machineState);
        d.gateState = d.machineState;
      }
      const { roles, gate, settleMs } = d;
      const { run, runLength } = d.metricInfo;
      // Settling only applies while a state is known (stateSince is then the time it was entered).
      const since = d.machineState === undefined ? Infinity : sample.ts - d.stateSince;
      for (let r = 0; r < runLength; r++) {
        const i = run[r]!;
        if (gate[i] === 0 || since < settleMs[i]!) continue;
        if (roles[i] === EACH) {
          this.stepEach(d, i, count);
          continue;
        }
        this.step(d, i, this.inputFor(d.detectors[i]!, sample.ts, this.ruleValues[i]!));
      }
    }
    if (live) {
      // Heartbeat rules (metric `*`): one input per batch, at arrival time.
      const heartbeats = d.heartbeats;
      for (let h = 0; h < heartbeats.length; h++) this.step(d, heartbeats[h]!, this.inputFor(d.detectors[heartbeats[h]!]!, now, samples.length));
    }
    const events = this.sink;
    this.sink = null;
    return events === null && points === null ? NOTHING : { events: events ?? NOTHING.events, points: points ?? NOTHING.points };
  }

  /**
   * A device announced it is offline (see DetectorDef.offline). A device the engine has not seen
   * since it started is unknown, not silent: nothing is raised for it.
   */
  offline(ref: DeviceRef, now: number, reason: string | null): AnomalyEvent[] {
    const d = this.devices.get(deviceKey(ref));
    if (!d) return [];
    this.sink = null;
    for (let i = 0; i < d.rules.length; i++) {
      const def = d.detectors[i]!;
      if (!def.offline) continue;
      const rule = d.rules[i]!;
      const r = def.offline(rule.params, stateOf(d, i), now, reason);
      d.states[i] = r.state;
      this.emit(d, rule, r.events);
    }
    return this.drain();
  }

  /** Time-driven detection (silence), on the platform's clock. */
  tick(now: number): AnomalyEvent[] {
    this.sink = null;
    for (const d of this.devices.values()) {
      for (let i = 0; i < d.rules.length; i++) {
        const rule = d.rules[i]!;
        const def = d.detectors[i]!;
        if (!def.tick) continue;
        const r = def.tick(rule.params, stateOf(d, i), now);
        d.states[i] = r.state;
        this.emit(d, rule, r.events);
      }
    }
    return this.drain();
  }

  /** The events emitted since the sink was emptied, as a list of the caller's own. */
  private drain(): AnomalyEvent[] {
    const events = this.sink ?? [];
    this.sink = null;
    return events;
  }

  private device(batch: DeviceRef & { deviceKey?: string }): DeviceState {
    // A decoded batch carries its key: one look-up instead of three.
    const known = batch.deviceKey !== undefined ? this.devices.get(batch.deviceKey) : undefined;
    if (known) return known;
    let lines = this.byRef.get(batch.site);
    let devices = lines?.get(batch.line);
    let d = devices?.get(batch.device);
    if (!d) {
      const key = deviceKey(batch);
      const rules = this.rulesFor(key);
      const detectors = detectorsOf(rules);
      d = {
        site: batch.site,
        line: batch.line,
        device: batch.device,
        rules,
        detectors,
        metricInfo: metricInfoOf(rules),
        roles: rolesOf(rules),
        heartbeats: heartbeatsOf(rules),
        states: rules.map(() => undefined),
        cadences: cadencesOf(rules, EACH_METRIC),
        slots: rules.map(() => undefined),
        lastTs: -Infinity,
        machineState: undefined,
        stateSince: -Infinity,
        gate: gateFor(rules, undefined),
        gateState: undefined,
        settleMs: stateGatesOf(rules).settleMs,
        energy: new DeviceEnergyAccumulator(batch, this.energy),
      };
      this.devices.set(key, d);
      if (!lines) this.byRef.set(batch.site, (lines = new Map()));
      if (!devices) lines.set(batch.line, (devices = new Map()));
      devices.set(batch.device, d);
    }
    return d;
  }

  private detectWindow(d: DeviceState, w: EnergyWindow): void {
    // Intensity and power factor are judged on the energy drawn under load, and only in windows
    // that were mostly under load; idle share counts the energy drawn standing ready, not stopped
    // standby or a fault under repair (rules/defaults.ts says why).
    const loadedKwh = w.kwh - w.idleKwh;
    const mostlyLoaded = w.kwh > 0 && loadedKwh >= 0.5 * w.kwh;
    const pf = w.loadedPowerFactorAvg ?? null;
    const derived: Record<string, number | null> = {
      intensity_kwh_per_unit: mostlyLoaded && w.outputUnits > 0 ? loadedKwh / w.outputUnits : null,
      idle_share: w.kwh > 0 ? (w.readyIdleKwh ?? w.idleKwh) / w.kwh : null,
      power_factor_avg: mostlyLoaded && pf !== null ? Math.abs(pf) : null,
    };
    for (let i = 0; i < d.rules.length; i++) {
      const value = derived[d.rules[i]!.metric];
      if (value === undefined || value === null) continue;
      this.step(d, i, this.inputFor(d.detectors[i]!, w.end, value));
    }
  }

  /**
   * One pass over sample `m` for all the rules: the values of the rules on a fixed metric (see
   * ruleValues), and the signal metrics (in the sample's order) with their values and infos for the
   * rules on every metric (scratch arrays, reused); returns how many signal metrics. One look-up per
   * metric of the sample instead of one per rule.
   */
  private collect(d: DeviceState, m: Readonly<Record<string, number>>): number {
    if (this.ruleStamps.length < d.rules.length) {
      this.ruleValues = new Float64Array(d.rules.length);
      this.ruleStamps = new Int32Array(d.rules.length);
    }
    const serial = (this.serial = (this.serial + 1) | 0);
    const { ruleValues, ruleStamps } = this;
    let n = 0;
    const infos = d.metricInfo;
    const { byName, lastNames, lastInfos } = infos;
    let at = 0;
    let same = true;
    for (const name in m) {
      let info: MetricInfo;
      if (lastNames[at] === name) info = lastInfos[at]!;
      else {
        info = infoFor(byName, d.rules, d.detectors, name);
        lastNames[at] = name;
        lastInfos[at] = info;
        same = false;
      }
      at++;
      const value = m[name]!;
      const fixed = info.fixed;
      for (let f = 0; f < fixed.length; f++) {
        ruleStamps[fixed[f]!] = serial;
        ruleValues[fixed[f]!] = value;
      }
      if (!info.signal) continue;
      this.names[n] = name;
      this.values[n] = value;
      this.infos[n] = info;
      n++;
    }
    if (!same || at !== infos.lastCount) {
      infos.lastCount = at;
      infos.runLength = 0;
      // Absent or bad-quality metrics give no evidence either way: their rules are left out.
      for (let i = 0; i < d.roles.length; i++) if (d.roles[i] === EACH || (d.roles[i] === FIXED && ruleStamps[i] === serial)) infos.run[infos.runLength++] = i;
    }
    return n;
  }

  /**
   * Metrics collected as a record (see sampleValues), rebuilt only when their names change: its
   * properties read the values by position from the list the detector is handed with it, so nothing
   * is written into it per sample. (Writing each value into it by name turned every number into a
   * heap object, on every sample; the detectors read the list, and the record only for a sample
   * whose metrics they do not know yet.)
   */
  private sampleRecord(names: readonly string[], values: readonly number[], count: number): Readonly<Record<string, number>> {
    const cached = this.sampleValues;
    let same = cached.names.length === count;
    for (let j = 0; same && j < count; j++) same = cached.names[j] === names[j];
    if (!same) {
      cached.names = names.slice(0, count);
      cached.record = recordByPosition(cached, count);
    }
    cached.values = values;
    return cached.record;
  }

  /**
   * A rule on every metric (`+`) judges the sample's signal metrics, or, with a cadence, adds them
   * to the means it judges once per period (cadence.ts); at sampleTime.
   */
  private stepEach(d: DeviceState, i: number, count: number): void {
    const cadence = d.cadences[i];
    if (!cadence) {
      this.judgeEach(d, i, this.names, this.values, this.infos, count);
      return;
    }
    const { meanNames, meanInfos } = this;
    // Rules sharing a cadence (cadencesOf) are stepped for the same samples: the first adds the
    // sample and finds the means' infos, the others judge the same means (judging does not change them).
    let n = this.addedCount;
    if (cadence !== this.addedTo || this.addedSerial !== this.serial) {
      inState(cadence, d.machineState ?? null);
      n = this.addedCount = addSample(cadence, this.sampleTime, this.names, this.values, count, meanNames, this.meanValues);
      this.addedTo = cadence;
      this.addedSerial = this.serial;
      const { byName, lastMeanNames, lastMeanInfos } = d.metricInfo;
      for (let j = 0; j < n; j++) {
        const name = meanNames[j]!;
        if (lastMeanNames[j] !== name) {
          lastMeanNames[j] = name;
          lastMeanInfos[j] = infoFor(byName, d.rules, d.detectors, name);
        }
        meanInfos[j] = lastMeanInfos[j]!;
      }
    }
    if (n < 0) return;
    this.judgeEach(d, i, meanNames, this.meanValues, meanInfos, n);
  }

  /**
   * Judge `count` signal metrics by a rule on every metric, at sampleTime: a per-sample detector
   * gets them at once; a per-value detector steps its own state of each metric (up to EACH_METRIC_CAP).
   */
  private judgeEach(d: DeviceState, i: number, names: readonly string[], vals: readonly number[], infos: readonly MetricInfo[], count: number): void {
    const rule = d.rules[i]!;
    const def = d.detectors[i]!;
    const ts = this.sampleTime.ts;
    if (def.stepSample) {
      const values = this.sampleRecord(names, vals, count);
      let input: SampleInput;
      if (def.updateSample) {
        input = this.sampleInput;
        this.sampleInput.ts = ts;
        this.sampleInput.values = values;
        this.sampleInput.state = d.machineState;
        this.sampleList.names = names;
        this.sampleList.values = vals;
        this.sampleList.count = count;
      } else input = d.machineState === undefined ? { ts, values: { ...values } } : { ts, values: { ...values }, state: d.machineState };
      let events: readonly DetectorEvent[];
      if (def.updateSample) events = def.updateSample(rule.params, stateOf(d, i), input);
      else {
        const r = def.stepSample(rule.params, stateOf(d, i), input);
        d.states[i] = r.state;
        events = r.events;
      }
      if (events.length > 0) this.emit(d, rule, events);
      return;
    }
    // One input object reused for every in-place step: they read it and keep nothing of it.
    const input = this.input;
    if (def.update) {
      let slots = d.slots[i];
      let same = slots !== undefined && slots.names.length === count;
      for (let j = 0; same && j < count; j++) same = slots!.names[j] === names[j];
      // The per-metric states are looked up only when the metrics change (the slots hold them).
      if (!same) slots = d.slots[i] = slotsOf(def, stateOf(d, i) as PerMetricStates, i, names, infos, count);
      for (let j = 0; j < count; j++) {
        const state = slots!.states[j];
        if (state === undefined) continue; // beyond EACH_METRIC_CAP
        input.ts = ts;
        input.value = vals[j]!;
        const events = def.update(slots!.params[j], state, input);
        if (events.length > 0) this.emit(d, rule, events, names[j]);
      }
      return;
    }
    const states = stateOf(d, i) as PerMetricStates;
    for (let j = 0; j < count; j++) {
      const name = names[j]!;
      const params = infos[j]!.params[i];
      let state = states.get(name);
      if (state === undefined) {
        if (states.size >= EACH_METRIC_CAP) continue;
        state = def.initial(params);
      }
      const r = def.step(params, state, { ts, value: vals[j]! });
      states.set(name, r.state);
      if (r.events.length > 0) this.emit(d, rule, r.events, name);
    }
  }

  /**
   * The input for one step of `def`: an in-place detector reads its input and keeps nothing of it,
   * so one object is reused for all; a pure one may keep it (rate-of-change keeps its previous
   * input), so it gets its own.
   */
  private inputFor(def: AnyDetector, ts: number, value: number): DetectorInput {
    if (!def.update) return { ts, value };
    const input = this.input;
    input.ts = ts;
    input.value = value;
    return input;
  }

  private step(d: DeviceState, i: number, input: DetectorInput): void {
    const rule = d.rules[i]!;
    const def = d.detectors[i]!;
    let events: readonly DetectorEvent[];
    // Read in place; stateOf (a call) only for the first step of the rule.
    let state = d.states[i];
    if (state === undefined) state = stateOf(d, i);
    if (def.update) events = def.update(rule.params, state, input);
    else {
      const r = def.step(rule.params, state, input);
      d.states[i] = r.state;
      events = r.events;
    }
    if (events.length > 0) this.emit(d, rule, events);
  }

  /**
   * `metric`: the metric a `+` rule's per-value detector judged; its alert is keyed by rule and
   * metric (`robust:vibration_g`), so each metric of the device has its own open alert.
   */
  private emit(d: DeviceState, rule: ResolvedRule, events: readonly DetectorEvent[], metric?: string): void {
    const id = metric === undefined ? rule.id : `${rule.id}:${metric}`;
    const out = (this.sink ??= []);
    for (const e of events) out.push({ ...e, site: d.site, line: d.line, device: d.device, rule: id, metric: metric ?? rule.metric, category: rule.category, severity: rule.severity });
  }
}
