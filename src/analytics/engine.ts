import { deviceKey, type DeviceRef, type TelemetryBatch } from '../contract/index.js';
import { isSignalMetric } from '../contract/metrics.js';
import type { Point } from '../storage/point.js';
import { detectorFor, type AnyDetector } from './detectors/index.js';
import { DeviceEnergyAccumulator, toEnergyPoint, type EnergyConfig, type EnergyWindow } from './energy/index.js';
import { exportDeviceState, importDeviceState, type DeviceStateJson } from './device-state.js';
import { createRuleResolver, type ResolvedRule, type RulesConfig } from './rules/index.js';
import { EACH_METRIC, HEARTBEAT_METRIC } from './rules/schema.js';
import type { AnomalyEvent, DetectorEvent, DetectorInput } from './types.js';

/**
 * Metrics tracked per device by one rule on every metric (`+`): one detector state each, so a
 * device that invents a new metric name with every sample cannot grow the engine without bound.
 * Metrics beyond the cap (in order of first appearance) are not judged by that rule.
 */
export const EACH_METRIC_CAP = 32;

/** A rule on every metric keeps, per device, one detector state per metric it has seen. */
type PerMetricStates = Map<string, unknown>;

/**
 * A `+` rule's params for one metric (the detector names the metric in its messages), shared by
 * every device: one object per (rule params, metric), made on first use.
 */
const PARAMS_FOR_METRIC = new WeakMap<object, Map<string, unknown>>();

function paramsFor(params: object, metric: string): unknown {
  let byMetric = PARAMS_FOR_METRIC.get(params);
  if (!byMetric) {
    byMetric = new Map();
    PARAMS_FOR_METRIC.set(params, byMetric);
  }
  let p = byMetric.get(metric);
  if (p === undefined) {
    p = Object.freeze({ ...params, metric });
    byMetric.set(metric, p);
  }
  return p;
}

/** The window whose closing feeds the derived energy metrics to the rules (defaults.ts). */
const DETECTION_WINDOW_MS = 15 * 60_000;

export interface AnalyticsOutput {
  events: AnomalyEvent[];
  /** `energy` points of the windows this batch closed. */
  points: Point[];
}

export interface AnalyticsStats {
  devices: number;
  /** Samples skipped by the detectors because they were not newer than the device's last (replays). */
  samplesNotNewer: number;
  windowsClosed: number;
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
  /** Parallel to `rules`. */
  states: unknown[];
  /** Latest sample time the detectors have seen (older or equal samples are replays). */
  lastTs: number;
  /** Last reported machine state (the `state` metric), for rules limited to some states. */
  machineState: number | undefined;
  /** Sample time the device entered `machineState` (the first sample seen, after a restart), for `settleS`. */
  stateSince: number;
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
  private readonly rulesFor: (key: string) => readonly ResolvedRule[];
  private samplesNotNewer = 0;
  private windowsClosed = 0;

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

  /** Go on from a device state another process exported (replaces what this engine had). */
  importDevice(json: DeviceStateJson): void {
    const key = deviceKey(json);
    this.devices.delete(key);
    this.devices.set(key, importDeviceState(json, this.device(json), this.energy));
  }

  /** The device is processed elsewhere now: drop its state. */
  forgetDevice(key: string): boolean {
    return this.devices.delete(key);
  }

  /** One validated batch, at arrival time `now`. */
  process(batch: TelemetryBatch, now: number): AnalyticsOutput {
    const d = this.device(batch);
    const events: AnomalyEvent[] = [];
    const points: Point[] = [];
    const live = batch.historical !== true;
    for (const sample of batch.samples) {
      for (const w of d.energy.feed(sample)) {
        points.push(toEnergyPoint(w));
        this.windowsClosed++;
        if (live && w.windowMs === DETECTION_WINDOW_MS) this.detectWindow(d, w, events);
      }
      if (!live) continue;
      if (sample.ts <= d.lastTs) {
        this.samplesNotNewer++;
        continue;
      }
      d.lastTs = sample.ts;
      if (sample.m.state !== undefined && sample.m.state !== d.machineState) {
        d.machineState = sample.m.state;
        d.stateSince = sample.ts;
      }
      for (let i = 0; i < d.rules.length; i++) {
        const rule = d.rules[i]!;
        if (rule.metric === HEARTBEAT_METRIC) continue;
        if (rule.states && d.machineState !== undefined) {
          if (!rule.states.includes(d.machineState)) continue;
          if (rule.settleS !== undefined && sample.ts - d.stateSince < rule.settleS * 1000) continue;
        }
        if (rule.metric === EACH_METRIC) {
          this.stepEach(d, i, sample.ts, sample.m, events);
          continue;
        }
        const value = sample.m[rule.metric];
        if (value === undefined) continue; // absent or bad-quality: no evidence either way
        this.step(d, i, { ts: sample.ts, value }, events);
      }
    }
    if (live) {
      // Heartbeat rules (metric `*`): one input per batch, at arrival time.
      for (let i = 0; i < d.rules.length; i++) if (d.rules[i]!.metric === HEARTBEAT_METRIC) this.step(d, i, { ts: now, value: batch.samples.length }, events);
    }
    return { events, points };
  }

  /**
   * A device announced it is offline (see DetectorDef.offline). A device the engine has not seen
   * since it started is unknown, not silent: nothing is raised for it.
   */
  offline(ref: DeviceRef, now: number, reason: string | null): AnomalyEvent[] {
    const d = this.devices.get(deviceKey(ref));
    const events: AnomalyEvent[] = [];
    if (!d) return events;
    for (let i = 0; i < d.rules.length; i++) {
      const def = d.detectors[i]!;
      if (!def.offline) continue;
      const rule = d.rules[i]!;
      const r = def.offline(rule.params, d.states[i], now, reason);
      d.states[i] = r.state;
      this.emit(d, rule, r.events, events);
    }
    return events;
  }

  /** Time-driven detection (silence), on the platform's clock. */
  tick(now: number): AnomalyEvent[] {
    const events: AnomalyEvent[] = [];
    for (const d of this.devices.values()) {
      for (let i = 0; i < d.rules.length; i++) {
        const rule = d.rules[i]!;
        const def = d.detectors[i]!;
        if (!def.tick) continue;
        const r = def.tick(rule.params, d.states[i], now);
        d.states[i] = r.state;
        this.emit(d, rule, r.events, events);
      }
    }
    return events;
  }

  private device(batch: DeviceRef): DeviceState {
    const key = deviceKey(batch);
    let d = this.devices.get(key);
    if (!d) {
      const rules = this.rulesFor(key);
      const detectors = detectorsOf(rules);
      d = {
        site: batch.site,
        line: batch.line,
        device: batch.device,
        rules,
        detectors,
        states: rules.map((r, i) => (r.metric === EACH_METRIC && !detectors[i]!.stepSample ? new Map() : detectors[i]!.initial(r.params))),
        lastTs: -Infinity,
        machineState: undefined,
        stateSince: -Infinity,
        energy: new DeviceEnergyAccumulator(batch, this.energy),
      };
      this.devices.set(key, d);
    }
    return d;
  }

  private detectWindow(d: DeviceState, w: EnergyWindow, events: AnomalyEvent[]): void {
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
      this.step(d, i, { ts: w.end, value }, events);
    }
  }

  /**
   * A rule on every metric (`+`): a per-sample detector gets the sample's signal metrics at once;
   * a per-value detector steps its own state of each signal metric (up to EACH_METRIC_CAP).
   */
  private stepEach(d: DeviceState, i: number, ts: number, m: Readonly<Record<string, number>>, out: AnomalyEvent[]): void {
    const rule = d.rules[i]!;
    const def = d.detectors[i]!;
    if (def.stepSample) {
      const values: Record<string, number> = {};
      for (const name in m) if (isSignalMetric(name)) values[name] = m[name]!;
      const r = def.stepSample(rule.params, d.states[i], d.machineState === undefined ? { ts, values } : { ts, values, state: d.machineState });
      d.states[i] = r.state;
      if (r.events.length > 0) this.emit(d, rule, r.events, out);
      return;
    }
    const states = d.states[i] as PerMetricStates;
    for (const name in m) {
      if (!isSignalMetric(name)) continue;
      const params = paramsFor(rule.params, name);
      let state = states.get(name);
      if (state === undefined) {
        if (states.size >= EACH_METRIC_CAP) continue;
        state = def.initial(params);
      }
      const r = def.step(params, state, { ts, value: m[name]! });
      states.set(name, r.state);
      if (r.events.length > 0) this.emit(d, rule, r.events, out, name);
    }
  }

  private step(d: DeviceState, i: number, input: DetectorInput, out: AnomalyEvent[]): void {
    const rule = d.rules[i]!;
    const r = d.detectors[i]!.step(rule.params, d.states[i], input);
    d.states[i] = r.state;
    if (r.events.length > 0) this.emit(d, rule, r.events, out);
  }

  /**
   * `metric`: the metric a `+` rule's per-value detector judged; its alert is keyed by rule and
   * metric (`robust:vibration_g`), so each metric of the device has its own open alert.
   */
  private emit(d: DeviceState, rule: ResolvedRule, events: readonly DetectorEvent[], out: AnomalyEvent[], metric?: string): void {
    const id = metric === undefined ? rule.id : `${rule.id}:${metric}`;
    for (const e of events) out.push({ ...e, site: d.site, line: d.line, device: d.device, rule: id, metric: metric ?? rule.metric, category: rule.category, severity: rule.severity });
  }
}
