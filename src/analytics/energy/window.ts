import type { DeviceRef } from '../../contract/ids.js';
import { MACHINE_STATES } from '../../contract/metrics.js';
import type { Sample } from '../../contract/payload.js';
import type { EnergyConfig } from './config.js';
import {
  ACCOUNTED_COUNTERS,
  COUNTER_REASONS,
  deltaInto,
  isPossibleReading,
  type CounterDelta,
  type AccountedCounter,
  type CounterReason,
  type Reading,
} from './counter.js';
import { convertQuantities, perUnit, type EnergyQuantities, type EnergyWindow } from './energy-window.js';
import { resolveSiteSettings, type SiteEnergySettings } from './site-settings.js';
import { intervalEndWindowStart, windowStart } from './window-sizes.js';

/**
 * Per-device energy accounting over tumbling windows, in event time (docs/analytics.md, "Energy accounting").
 *
 * The engine holds one accumulator per device and calls `feed(sample)` for every accepted sample
 * of that device, in the order received. It is a plain object: no I/O, no clock. Windows close
 * only on event time, when a sample at or after their end arrives; there is deliberately no
 * `flush(now)`. A device that stops reporting keeps its last window open until it reports again:
 * closing it on the wall clock would emit a window that later data (a gateway replaying its disk
 * buffer after hours offline) must still add to, and storage would then hold two different
 * answers for the same window. The engine should show a silent device through the silence
 * detector and data completeness, not through an energy window.
 *
 * Energy between two consecutive readings of a counter is spread over the windows the interval
 * covers in proportion to time (linear interpolation), so 1-min windows sum exactly to the
 * 15-min, 1-h and 1-day totals: every window size sees the same deltas, split at boundaries that
 * nest. One exception: readings more than `maxGapMs` apart. Their energy is still counted (the
 * meter is cumulative, nothing is lost) but it all goes to the window of the later reading: we do
 * not know when in the gap it was drawn, and spreading it evenly would paint hours of steady load
 * that may have been one busy minute before the gateway dropped out.
 */

/** The part of a sample the accumulator reads. */
export type EnergySample = Pick<Sample, 'ts' | 'm'>;

export interface AccumulatorStats {
  /** Samples taken into account. */
  accepted: number;
  /** Samples older than the last accepted one: ignored (windows already closed are final). */
  outOfOrder: number;
  /** Samples with the same timestamp as the last accepted one (redelivery): ignored. */
  duplicates: number;
  /** Per counter metric, how many readings each reason classified (see counter.ts). */
  counters: Record<AccountedCounter, Record<CounterReason, number>>;
}

type QuantityField = keyof EnergyQuantities;
const FIELD_OF: Record<AccountedCounter, QuantityField> = {
  energy_kwh: 'kwh',
  gas_m3: 'gasM3',
  steam_t: 'steamT',
  water_m3: 'waterM3',
  output_units: 'outputUnits',
};
// Output first: whether this sample's electricity interval was idle depends on it.
const READ_ORDER: readonly AccountedCounter[] = ['output_units', 'energy_kwh', 'gas_m3', 'steam_t', 'water_m3'];

/** The accumulator's last sample time before it has accepted one (sample times are validated, finite and positive). */
const NO_SAMPLE = -Infinity;

/** What feed returns when a sample closes no window: one frozen list, not a new one per sample. */
const NO_WINDOWS: readonly EnergyWindow[] = Object.freeze([]);

/** The deltas one sample counted and their quantities (feed's scratch: at most one per counter). */
const COUNTED: (Counted | undefined)[] = [];
const COUNTED_FIELDS: QuantityField[] = [];
/** readCounter's results, one per counter in READ_ORDER (scratch like COUNTED, which holds them). */
const COUNTED_SLOTS: Counted[] = READ_ORDER.map(() => ({ delta: 0, from: 0 }));
/** readCounter's scratch deltas: from the base, and from a suspect reading. */
const DELTA: CounterDelta = { delta: 0, reason: 'first' };
const DELTA_FROM_SUSPECT: CounterDelta = { delta: 0, reason: 'first' };

export interface OpenWindow extends EnergyQuantities {
  start: number;
  idleKwh: number;
  samples: number;
  implausibleJumps: number;
  /** Σ power_factor × kWh of the interval ending at that reading; and Σ kWh. */
  pfWeighted: number;
  pfWeight: number;
  /** kWh drawn while ready and idle (see EnergyWindow.readyIdleKwh). */
  readyIdleKwh: number;
  /** Σ power_factor × kWh and Σ kWh over the intervals under load only. */
  pfLoadedWeighted: number;
  pfLoadedWeight: number;
  /** Plain mean of power_factor readings, for a window without electricity. */
  pfSum: number;
  pfCount: number;
}

/** Where a counter stands: the last reading counted from, and a reading not yet believed. */
export interface CounterTrack {
  base: Reading;
  /** The last implausible reading since `base`: a glitch, or a meter now at a new level. */
  suspect?: Reading;
}

/** A counted delta and the interval it was drawn over. */
interface Counted {
  delta: number;
  from: number;
}

/** DeviceEnergyAccumulator.snapshot(): plain data, JSON as it is. */
export interface EnergyAccumulatorSnapshot {
  lastTs: number | null;
  counters: ({ metric: AccountedCounter } & CounterTrack)[];
  outputTotal: number;
  lastOutputMoveTs: number | null;
  lastState: number | null;
  open: { sizeMs: number; windows: OpenWindow[] }[];
  counts: AccumulatorStats;
}

export class DeviceEnergyAccumulator {
  readonly ref: DeviceRef;
  readonly settings: SiteEnergySettings;
  /**
   * The last accepted sample's time; NO_SAMPLE before the first. A number from the start: a field
   * that starts undefined makes V8 box every timestamp stored in it, once per sample.
   */
  private lastTs = NO_SAMPLE;
  private readonly counters = new Map<AccountedCounter, CounterTrack>();
  /** Σ of counted output deltas: only increases, whatever the counter does. */
  private outputTotal = 0;
  /** When output last increased (or the output counter was first read); null: no output counter. */
  private lastOutputMoveTs: number | null = null;
  private lastState: number | undefined;
  /**
   * One list per window size (parallel to settings.windowSizesMs), in the order opened. After each
   * sample only the window holding it is open (the others have closed), so a list is searched, not
   * hashed: a Map keyed by window start boxed the start (a float beyond the small integers) on every
   * look-up, and its iterator made an entry array per open window per sample.
   */
  private readonly open: OpenWindow[][];
  /**
   * The earliest end of an open window when the lists were last scanned (−Infinity: scan at the
   * next sample): a sample before it closes nothing, which is most samples, so the scan is skipped.
   * Not part of the snapshot (a restore rescans).
   */
  private nextEnd = -Infinity;
  private readonly counts: AccumulatorStats;

  constructor(ref: DeviceRef, config: EnergyConfig) {
    this.ref = { site: ref.site, line: ref.line, device: ref.device };
    this.settings = siteSettings(config, ref.site);
    this.open = this.settings.windowSizesMs.map(() => []);
    const counters = Object.fromEntries(
      ACCOUNTED_COUNTERS.map((m) => [m, Object.fromEntries(COUNTER_REASONS.map((r) => [r, 0]))]),
    ) as AccumulatorStats['counters'];
    this.counts = { accepted: 0, outOfOrder: 0, duplicates: 0, counters };
  }

  /** Where the accumulator stands, as plain data: a device handed over to another process continues from it (analytics/device-state.ts). */
  snapshot(): EnergyAccumulatorSnapshot {
    return {
      lastTs: this.lastTs === NO_SAMPLE ? null : this.lastTs,
      counters: [...this.counters].map(([metric, track]) => ({ metric, ...structuredClone(track) })),
      outputTotal: this.outputTotal,
      lastOutputMoveTs: this.lastOutputMoveTs,
      lastState: this.lastState ?? null,
      open: this.settings.windowSizesMs.map((sizeMs, i) => ({ sizeMs, windows: this.open[i]!.map((w) => ({ ...w })) })),
      counts: this.stats(),
    };
  }

  /**
   * Continue from a snapshot taken by another process. Open windows of a size this process does
   * not account are dropped (another energy configuration), the rest go on as if fed here.
   */
  restore(s: EnergyAccumulatorSnapshot): void {
    this.lastTs = s.lastTs ?? NO_SAMPLE;
    this.counters.clear();
    // Copies: readCounter moves a track's base in place, and the snapshot is the caller's.
    for (const { metric, base, suspect } of s.counters) this.counters.set(metric, suspect === undefined ? { base: { ts: base.ts, value: base.value } } : { base: { ts: base.ts, value: base.value }, suspect: { ts: suspect.ts, value: suspect.value } });
    this.outputTotal = s.outputTotal;
    this.lastOutputMoveTs = s.lastOutputMoveTs;
    this.lastState = s.lastState ?? undefined;
    this.settings.windowSizesMs.forEach((sizeMs, i) => {
      const open = this.open[i]!;
      open.length = 0;
      for (const w of s.open.find((o) => o.sizeMs === sizeMs)?.windows ?? []) {
        // One window per start, the last one given winning (as a map by start kept it).
        const at = open.findIndex((o) => o.start === w.start);
        if (at >= 0) open[at] = restoredWindow(w);
        else open.push(restoredWindow(w));
      }
    });
    Object.assign(this.counts, structuredClone(s.counts));
    this.nextEnd = -Infinity;
  }

  /** Counts so far, for the engine's metrics (a copy). */
  stats(): AccumulatorStats {
    return structuredClone(this.counts);
  }

  /**
   * Take one sample (timestamps must increase; older or equal ones are counted and ignored) and
   * return the windows it closes, oldest first, smaller sizes first within a start (a shared
   * empty list when it closes none, as most samples do).
   */
  feed(sample: EnergySample): readonly EnergyWindow[] {
    const ts = sample.ts;
    if (this.lastTs !== NO_SAMPLE && ts <= this.lastTs) {
      if (ts === this.lastTs) this.counts.duplicates++;
      else this.counts.outOfOrder++;
      return NO_WINDOWS;
    }
    const previousTs = this.lastTs;
    this.lastTs = ts;
    this.counts.accepted++;
    const m = sample.m;

    // Scratch lists shared by all accumulators (feed runs to the end before another starts): this
    // runs for every sample of every device. Most devices report no counter at all: one named
    // look-up each tells, instead of a loop of look-ups by name.
    let counted = 0;
    let kwhCounted = false;
    let implausible = 0;
    if (m.output_units !== undefined || m.energy_kwh !== undefined || m.gas_m3 !== undefined || m.steam_t !== undefined || m.water_m3 !== undefined) {
      for (let r = 0; r < READ_ORDER.length; r++) {
        const metric = READ_ORDER[r]!;
        const value = m[metric];
        if (value === undefined) continue;
        const result = this.readCounter(metric, ts, value, COUNTED_SLOTS[r]!);
        if (result === 'implausible') implausible++;
        else if (result !== undefined && result.delta !== 0) {
          COUNTED[counted] = result;
          COUNTED_FIELDS[counted] = FIELD_OF[metric];
          counted++;
          if (metric === 'energy_kwh') kwhCounted = true;
        } else if (result !== undefined && metric === 'energy_kwh') kwhCounted = true;
      }
    }

    const pf = m.power_factor;
    const pfValid = pf !== undefined && pf >= -1 && pf <= 1;
    const idle = this.kwhIntervalWasIdle(sample, kwhCounted);
    const intervalState = this.lastState ?? m.state;
    const readyIdle = idle && (intervalState === undefined || intervalState === MACHINE_STATES.idle);
    if (m.state !== undefined) this.lastState = m.state;

    const sizes = this.settings.windowSizesMs;
    const offset = this.settings.utcOffsetMs;
    for (let i = 0; i < sizes.length; i++) {
      const sizeMs = sizes[i]!;
      const open = this.open[i]!;
      if (counted > 0 || implausible > 0) {
        // Windows that ended at or before the previous sample are closed and final: a part of an
        // interval that falls in them (a counter reported less often than the device's other
        // metrics) goes to the oldest window still open instead.
        const floor = previousTs === NO_SAMPLE ? -Infinity : windowStart(previousTs, sizeMs, offset);
        for (let k = 0; k < counted; k++) this.spread(open, floor, COUNTED[k]!, COUNTED_FIELDS[k]!, ts, sizeMs, idle, readyIdle, pfValid ? (pf as number) : null);
        if (implausible > 0) getOrOpen(open, Math.max(intervalEndWindowStart(ts, sizeMs, offset), floor)).implausibleJumps += implausible;
      }
      const own = getOrOpen(open, windowStart(ts, sizeMs, offset));
      own.samples++;
      if (pfValid) {
        own.pfSum += pf as number;
        own.pfCount++;
      }
    }
    for (let k = 0; k < counted; k++) COUNTED[k] = undefined;
    // A window a counter's delta or an implausible jump opened may end at or before this sample
    // (it starts no earlier than the previous sample's own window, which then ends there too, but
    // the lists are scanned anyway: counters are the rare case).
    return counted > 0 || implausible > 0 || ts >= this.nextEnd ? this.closeUpTo(ts) : NO_WINDOWS;
  }

  /**
   * Read one counter. Returns the counted delta, 'implausible', or undefined (first reading,
   * nothing to count). The delta is measured from the last reading believed (`base`), not from a
   * glitch: after an implausible reading, the base stays where it was, so a meter that jumps to
   * 9,999,999 for one sample and comes back costs nothing (the return reading counts from the base).
   * A meter that really is at a new level (swapped for one that starts at a high reading) is
   * believed once two readings in a row agree with each other: the second is then counted from
   * the first, and only the swap interval is lost (no one knows what was drawn across the swap).
   */
  private readCounter(metric: AccountedCounter, ts: number, value: number, into: Counted): Counted | 'implausible' | undefined {
    const rules = this.settings.counters[metric];
    const reasons = this.counts.counters[metric];
    if (!isPossibleReading(value)) {
      reasons.implausible++;
      return 'implausible';
    }
    const track = this.counters.get(metric);
    if (track === undefined) {
      reasons.first++;
      this.counters.set(metric, { base: { ts, value } });
      if (metric === 'output_units') this.lastOutputMoveTs = ts;
      return undefined;
    }
    const d = DELTA;
    deltaInto(d, track.base, ts, value, rules);
    if (d.reason !== 'implausible') {
      reasons[d.reason]++;
      into.delta = d.delta;
      into.from = track.base.ts;
      rebase(track, ts, value);
      return this.countOutput(metric, into);
    }
    if (track.suspect !== undefined) {
      const s = DELTA_FROM_SUSPECT;
      deltaInto(s, track.suspect, ts, value, rules);
      if ((s.reason === 'normal' || s.reason === 'rollover') && s.delta > 0) {
        reasons[s.reason]++;
        into.delta = s.delta;
        into.from = track.suspect.ts;
        rebase(track, ts, value);
        return this.countOutput(metric, into);
      }
    }
    reasons.implausible++;
    track.suspect = { ts, value };
    return 'implausible';
  }

  private countOutput(metric: AccountedCounter, c: Counted): Counted {
    if (metric === 'output_units') {
      this.outputTotal += c.delta;
      if (c.delta > 0) this.lastOutputMoveTs = this.lastTs === NO_SAMPLE ? null : this.lastTs;
    }
    return c;
  }

  /**
   * Was the electricity interval that ends with this sample idle (energy drawn, nothing made)?
   * - With a `state` known: idle when it was not 2 (running). The machine says so itself, and
   *   a running machine with a long cycle (a furnace load, a CNC part every few minutes) makes
   *   no part in most sampling intervals without wasting anything. The state in effect over the
   *   interval is the last one reported before it ends (a PLC value holds until it changes); for
   *   the very first state report, the one in this sample.
   * - Otherwise, with an output counter: idle when output has not moved for longer than
   *   `idleAfterNoOutputMs` (longer than any normal cycle) by the end of the interval.
   * - Otherwise: not idle (unknown is not counted as waste).
   */
  private kwhIntervalWasIdle(sample: EnergySample, kwhCounted: boolean): boolean {
    if (!kwhCounted) return false;
    const state = this.lastState ?? sample.m.state;
    if (state !== undefined) return state !== MACHINE_STATES.running;
    if (this.lastOutputMoveTs !== null) return sample.ts - this.lastOutputMoveTs > this.settings.idleAfterNoOutputMs;
    return false;
  }

  /**
   * Credit a delta counted over (c.from, to] to the windows of `sizeMs` it falls into, in proportion
   * to time (none before `floor`, see feed); the electricity interval's idle flags and power factor
   * (null: none valid) go with a kWh delta.
   */
  private spread(open: OpenWindow[], floor: number, c: Counted, field: QuantityField, to: number, sizeMs: number, idle: boolean, readyIdle: boolean, pf: number | null): void {
    const offset = this.settings.utcOffsetMs;
    const last = intervalEndWindowStart(to, sizeMs, offset);
    if (to - c.from > this.settings.maxGapMs) {
      credit(getOrOpen(open, Math.max(last, floor)), field, c.delta, idle, readyIdle, pf);
      return;
    }
    let assigned = 0;
    for (let w = windowStart(c.from, sizeMs, offset); w <= last; w += sizeMs) {
      // The last part takes the remainder, so the parts add up to the delta exactly.
      const amount = w === last ? c.delta - assigned : (c.delta * (Math.min(to, w + sizeMs) - Math.max(c.from, w))) / (to - c.from);
      assigned += amount;
      credit(getOrOpen(open, Math.max(w, floor)), field, amount, idle, readyIdle, pf);
    }
  }

  private closeUpTo(ts: number): readonly EnergyWindow[] {
    let closed: EnergyWindow[] | null = null;
    let nextEnd = Infinity;
    const sizes = this.settings.windowSizesMs;
    for (let i = 0; i < sizes.length; i++) {
      const sizeMs = sizes[i]!;
      const open = this.open[i]!;
      for (let k = 0; k < open.length; ) {
        const w = open[k]!;
        if (w.start + sizeMs > ts) {
          if (w.start + sizeMs < nextEnd) nextEnd = w.start + sizeMs;
          k++;
          continue;
        }
        open.splice(k, 1);
        (closed ??= []).push(this.finish(w, sizeMs));
      }
    }
    this.nextEnd = nextEnd;
    if (closed === null) return NO_WINDOWS;
    if (closed.length > 1) closed.sort((a, b) => a.start - b.start || a.windowMs - b.windowMs);
    return closed;
  }

  private finish(w: OpenWindow, sizeMs: number): EnergyWindow {
    const converted = convertQuantities(w, this.settings.coefficients);
    return {
      start: w.start,
      end: w.start + sizeMs,
      windowMs: sizeMs,
      ...this.ref,
      kwh: w.kwh,
      gasM3: w.gasM3,
      steamT: w.steamT,
      waterM3: w.waterM3,
      outputUnits: w.outputUnits,
      idleKwh: w.idleKwh,
      kgce: converted.kgce,
      tce: converted.tce,
      co2Kg: converted.co2Kg,
      kwhPerUnit: perUnit(w.kwh, w.outputUnits),
      kgcePerUnit: perUnit(converted.kgce, w.outputUnits),
      samples: w.samples,
      powerFactorAvg: w.pfWeight > 0 ? w.pfWeighted / w.pfWeight : w.pfCount > 0 ? w.pfSum / w.pfCount : null,
      readyIdleKwh: w.readyIdleKwh,
      loadedPowerFactorAvg: w.pfLoadedWeight > 0 ? w.pfLoadedWeighted / w.pfLoadedWeight : null,
      implausibleJumps: w.implausibleJumps,
      notInTce: converted.notInTce,
      notInCo2: converted.notInCo2,
    };
  }
}

/**
 * The track counts from (ts, value) now, and what was suspect is forgotten. The base is moved in
 * place (not a new track and reading per counted sample: energy accounting reads every counter of
 * every sample); the suspect is always a reading of its own, never the base.
 */
function rebase(track: CounterTrack, ts: number, value: number): void {
  track.base.ts = ts;
  track.base.value = value;
  if (track.suspect !== undefined) delete track.suspect;
}

/** Devices of one site share its resolved settings (they are read-only): one object per site, not per device. */
const SETTINGS_CACHE = new WeakMap<EnergyConfig, Map<string, SiteEnergySettings>>();

function siteSettings(config: EnergyConfig, site: string): SiteEnergySettings {
  let bySite = SETTINGS_CACHE.get(config);
  if (!bySite) SETTINGS_CACHE.set(config, (bySite = new Map()));
  let s = bySite.get(site);
  if (!s) bySite.set(site, (s = resolveSiteSettings(config, site)));
  return s;
}

/** A window of `open` by its start, opened (empty) if it is not. */
function getOrOpen(open: OpenWindow[], start: number): OpenWindow {
  // The window wanted is nearly always the newest.
  for (let k = open.length - 1; k >= 0; k--) if (open[k]!.start === start) return open[k]!;
  const w = emptyWindow(start);
  open.push(w);
  return w;
}

/** Every window is made by this one literal (and restored ones by the next), so all have one shape and feed's reads of them stay fast. */
function emptyWindow(start: number): OpenWindow {
  return { start, kwh: 0, gasM3: 0, steamT: 0, waterM3: 0, outputUnits: 0, idleKwh: 0, readyIdleKwh: 0, samples: 0, implausibleJumps: 0, pfWeighted: 0, pfWeight: 0, pfLoadedWeighted: 0, pfLoadedWeight: 0, pfSum: 0, pfCount: 0 };
}

function restoredWindow(w: OpenWindow): OpenWindow {
  const out = emptyWindow(w.start);
  out.kwh = w.kwh;
  out.gasM3 = w.gasM3;
  out.steamT = w.steamT;
  out.waterM3 = w.waterM3;
  out.outputUnits = w.outputUnits;
  out.idleKwh = w.idleKwh;
  out.readyIdleKwh = w.readyIdleKwh;
  out.samples = w.samples;
  out.implausibleJumps = w.implausibleJumps;
  out.pfWeighted = w.pfWeighted;
  out.pfWeight = w.pfWeight;
  out.pfLoadedWeighted = w.pfLoadedWeighted;
  out.pfLoadedWeight = w.pfLoadedWeight;
  out.pfSum = w.pfSum;
  out.pfCount = w.pfCount;
  return out;
}

/** Add `amount` of a counted quantity to window `w`; a kWh amount also to the idle and power factor sums its interval is in. */
function credit(w: OpenWindow, field: QuantityField, amount: number, idle: boolean, readyIdle: boolean, pf: number | null): void {
  w[field] += amount;
  if (field !== 'kwh') return;
  if (idle) w.idleKwh += amount;
  if (readyIdle) w.readyIdleKwh += amount;
  if (pf !== null) {
    w.pfWeighted += pf * amount;
    w.pfWeight += amount;
    if (!idle) {
      w.pfLoadedWeighted += pf * amount;
      w.pfLoadedWeight += amount;
    }
  }
}
