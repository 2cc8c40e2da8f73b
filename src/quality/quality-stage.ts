import type { AnomalyEvent } from '../alerts/types.js';
import { deviceKey, parseStatus, type DeviceRef, type ParsedStatus, type TelemetryBatch } from '../contract/index.js';
import type { Logger } from '../observability/index.js';
import type { HistoryReader } from '../storage/index.js';
import type { Point } from '../storage/point.js';
import { HOUR_MS, type QualityConfig } from './config.js';
import { DataChecks } from './data-checks.js';
import { NEVER, orNull } from './device-state.js';
import { exportTracker, importTracker, type QualityDeviceJson, type QualityPendingJson } from './device-hand-over.js';
import type { DeviceTracker } from './device-tracker.js';
import type { DeviceWindow } from './device-window.js';
import { Fleet } from './fleet.js';
import type { QualityMetrics } from './quality-metrics.js';
import { aggregatePoints, devicePoints } from './quality-points.js';
import { restoreQualityState } from './quality-restore.js';
import type { QualityStore, StoredWindow } from './quality-store.js';
import { addToRollup, emptyRollup } from './rollup.js';
import { TimestampBudget } from './timestamp-budget.js';
import { missingMessages } from './seq-tracker.js';
import { dayOf, firstRetainedDay, hourOf, type QualityWindow } from './windows.js';

/** Devices a flush handles between two turns of the event loop (about 10–30 ms of work with 5,000 devices' hours and days). */
const FLUSH_SLICE = 250;

/** `items` FLUSH_SLICE at a time (at least one slice, maybe empty), the event loop served between slices. */
async function* inSlices<T>(items: readonly T[]): AsyncGenerator<{ slice: T[]; last: boolean }> {
  for (let i = 0; i === 0 || i < items.length; i += FLUSH_SLICE) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    yield { slice: items.slice(i, i + FLUSH_SLICE), last: i + FLUSH_SLICE >= items.length };
  }
}

export interface QualityStageDeps {
  config: QualityConfig;
  store: QualityStore;
  history: HistoryReader;
  /** Storage (the batch writer): resolves when the points are durable. */
  write(points: Point[]): Promise<void>;
  /** Data alerts go to the ordinary alert manager (and on to its notifiers). */
  raise(events: AnomalyEvent[]): void;
  metrics: QualityMetrics;
  log: Logger;
  /** Arrival time. Tests drive it to script hours of plant time in seconds. */
  clock?: () => number;
  /**
   * Devices restored at start are accounted only once their data or status comes here, or their
   * state is handed over (importDevice): set when workers share the devices (PP_SOURCE=nats).
   */
  restoredDevicesParked?: boolean;
  /** Write device figures only, made for combining (quality-points.ts): set when workers share the devices (PP_SOURCE=nats). */
  devicePointsOnly?: boolean;
  /** Raise only the per-device data alerts, not a site's completeness or a gateway's delay (DataChecks): set when workers share the devices (PP_SOURCE=nats). */
  deviceAlertsOnly?: boolean;
}

/**
 * A handed-over state replaces what this worker's start restored of the device, but samples
 * InfluxDB held then and the state does not (acked by a SIGKILLed owner after its last save)
 * still count as received, as after a restart (quality-restore.ts): without their delays.
 */
function keepRecount(t: DeviceTracker, restored: DeviceTracker, now: number, cfg: QualityConfig): void {
  for (const [hour, r] of restored.windows) {
    const w = t.window(hour, now, cfg);
    if (!w || r.counts.received <= w.counts.received) continue;
    w.counts.received = r.counts.received;
    w.timesComplete = false;
    w.dirty = true;
  }
}

/** What the API shows about a device now. */
export interface DeviceQualityStatus {
  site: string;
  line: string;
  device: string;
  online: boolean;
  offlineSince: number | null;
  offlineReason: string | null;
  /** Arrival time of the last batch, and the newest sample time received. */
  lastSeen: number | null;
  lastSampleTs: number | null;
  gateway: string | null;
  intervalMs: number | null;
  /** Messages missing right now (open seq gaps). */
  missingMessages: number;
  retired: boolean;
}

/**
 * The data completeness and gateway health stage (docs/completeness.md). It hears every
 * batch once it is durable (pipeline `onStored`) and every status message (MQTT source), keeps
 * per-device accounting (device-tracker.ts), writes the `quality` measurement every flush,
 * and raises data alerts through the alert manager. It coordinates; the devices and gateways
 * are in fleet.ts, the data alerts in data-checks.ts, and the restore of its state (SQLite,
 * quality-store.ts, and InfluxDB telemetry counts) in quality-restore.ts.
 */
export class QualityStage {
  private readonly cfg: QualityConfig;
  private readonly clock: () => number;
  private readonly fleet: Fleet;
  private readonly checks: DataChecks;
  /** Hours before this are closed (judged, interval fixed); set on the first tick. */
  private closedThrough: number | null = null;
  private readonly closedPending = new Set<number>();
  private lastFlush = -Infinity;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** After stop: the store is closed; a batch still landing (storage draining) is not accounted. */
  private stopped = false;
  /** Devices whose state changed in the current burst of stored batches, saved together (saveAccepted). */
  private readonly unsaved: DeviceTracker[] = [];
  /** Bounds what every window's received timestamps hold together (timestamp-budget.ts). */
  private readonly budget: TimestampBudget;
  private budgetWarned = false;
  /** saveAccepted as a callback, made once: a closure per burst of stored messages was garbage. */
  private readonly saveBurst = (): void => this.saveAccepted();

  constructor(private readonly deps: QualityStageDeps) {
    this.cfg = deps.config;
    this.clock = deps.clock ?? Date.now;
    this.fleet = new Fleet(this.cfg, deps.store);
    this.checks = new DataChecks(this.cfg, this.fleet, this.deps.deviceAlertsOnly);
    this.budget = new TimestampBudget(this.cfg.timestampBudgetBytes);
  }

  /** Rebuild from local state and stored telemetry. Call once, before intake starts. */
  async restore(): Promise<void> {
    await restoreQualityState({ fleet: this.fleet, store: this.deps.store, history: this.deps.history, cfg: this.cfg, log: this.deps.log }, this.clock());
    if (this.deps.restoredDevicesParked) this.fleet.park();
    this.shedTimestamps(); // counts what was restored, and holds it to the budget
  }

  /** A batch is durable (pipeline onStored): account it, at arrival time now. */
  accept(batch: TelemetryBatch): void {
    if (this.stopped || batch.samples.length === 0) return;
    const now = this.clock();
    const t = this.fleet.tracker(batch, now);
    if (t.meter === null) this.budget.adopt(t);
    const out = t.accept(batch, now, this.cfg, this.fleet.gatewayOf(t));
    if (this.budget.over) this.shedTimestamps();
    // Saved before the message is acknowledged, so a redelivery after a crash is a known
    // duplicate. One write completes many messages' batches at once, and their listeners run
    // one after another as microtasks; a microtask queued by the first runs after all of them
    // and before any of their acknowledgements (which are queued later still): one SQLite
    // transaction for the burst instead of one commit per message (4 % of the platform's CPU at
    // its maximum, docs/performance.md).
    t.dirty = true;
    // A list and a flag rather than a Set: a Set emptied after every burst grew its table again
    // in the next (about 50 bytes per message); the list keeps its storage (emptied by popping).
    if (!t.awaitingSave) {
      if (this.unsaved.length === 0) queueMicrotask(this.saveBurst);
      t.awaitingSave = true;
      this.unsaved.push(t);
    }
    const m = this.deps.metrics;
    m.messageVerdicts.add(out.verdict);
    if (out.received > 0) m.sampleVerdicts.add('received', out.received);
    if (out.duplicates > 0) m.sampleVerdicts.add('duplicate', out.duplicates);
    if (out.tooLate > 0) m.sampleVerdicts.add('too_late', out.tooLate);
    this.checks.addDelays(t.uploaderKey, out.delays, now);
  }

  private saveAccepted(): void {
    if (this.stopped) return;
    try {
      this.deps.store.saveDevices(this.unsaved); // trackers have the key, ref and state it saves
      for (const t of this.unsaved) t.dirty = false;
    } catch (err) {
      // Disk trouble: they stay dirty, and the next flush saves them (or says why it cannot).
      this.deps.log.error({ err }, 'quality state could not be saved');
    }
    const unsaved = this.unsaved;
    while (unsaved.length > 0) unsaved.pop()!.awaitingSave = false;
  }

  /** A status message (`pp/v1/{site}/{line}/{device}/status`, including `_gateway` topics). */
  status(ref: DeviceRef, payload: Buffer): void {
    this.statusParsed(parseStatus(ref, payload));
  }

  /** The same, parsed already (null: not a status message). */
  statusParsed(p: ParsedStatus | null): void {
    if (this.stopped) return;
    if (!p) {
      this.deps.metrics.statusMessages.inc({ kind: 'invalid' });
      return;
    }
    this.deps.metrics.statusMessages.inc({ kind: p.kind });
    this.fleet.applyStatus(p, this.clock());
  }

  /** Time-driven work: online time, closing hours, alerts, and a flush when due. */
  tick(): void {
    const now = this.clock();
    for (const t of this.fleet.devices.values()) t.advance(now, this.cfg, this.fleet.gatewayOf(t));
    const closed = this.closeHours(now);
    const events = this.checks.events(now);
    if (events.length > 0) this.deps.raise(events);
    if (!this.flushing && (closed || now - this.lastFlush >= this.cfg.flushMs)) void this.flush();
  }

  /**
   * Write the figures that changed (and the running hour and day) to InfluxDB; save local state.
   * A flush asked for while one runs follows it (it sees everything up to when it starts). Never rejects.
   */
  flush(): Promise<void> {
    const run = (this.flushing ?? Promise.resolve()).then(() => this.doFlush());
    this.flushing = run;
    const clear = () => {
      if (this.flushing === run) this.flushing = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** One device's state as plain JSON (device-hand-over.ts), for handing it over; null when unknown. */
  exportDevice(key: string, ref?: DeviceRef): QualityDeviceJson | QualityPendingJson | null {
    const t = this.fleet.devices.get(key);
    if (t) return exportTracker(t);
    const pending = ref ? this.fleet.pendingOf(key) : null;
    return pending ? { ref: ref!, pending } : null;
  }

  /** Go on from a device state another worker exported (replaces what this stage had). */
  importDevice(json: QualityDeviceJson | QualityPendingJson): void {
    if (this.stopped) return;
    if ('pending' in json) {
      this.fleet.setPending(deviceKey(json.ref), json.pending);
      return;
    }
    const t = importTracker(json);
    const recounted = this.fleet.parked.get(t.key);
    this.fleet.parked.delete(t.key);
    if (recounted) keepRecount(t, recounted, this.clock(), this.cfg);
    this.fleet.devices.set(t.key, t);
    this.budget.adopt(t);
    if (this.budget.over) this.shedTimestamps();
  }

  /** The device is accounted by another worker now: drop it here and from local state, so this worker writes no more figures for it. */
  forgetDevice(key: string): boolean {
    const parked = this.fleet.parked.delete(key);
    if (!this.fleet.devices.delete(key) && !parked) return false;
    if (!this.stopped) this.deps.store.deleteDevice(key);
    return true;
  }

  /** Per-device status now, for the API (one site, optionally one line). */
  statusOf(site: string, line?: string): DeviceQualityStatus[] {
    return this.statuses((ref) => ref.site === site && (line === undefined || ref.line === line));
  }

  /** Per-device status now of every device `wanted` (default: all; a worker publishes them for API nodes). */
  statuses(wanted: (ref: DeviceRef) => boolean = () => true): DeviceQualityStatus[] {
    const now = this.clock();
    const out: DeviceQualityStatus[] = [];
    for (const t of this.fleet.devices.values()) {
      if (!wanted(t.ref)) continue;
      const off = t.offline(now, this.cfg, this.fleet.gatewayOf(t));
      const s = t.state;
      out.push({ ...t.ref, online: off === null, offlineSince: off?.since ?? null, offlineReason: off?.reason ?? null, lastSeen: orNull(s.lastArrival), lastSampleTs: orNull(s.newestTs), gateway: s.gateway, intervalMs: t.intervalMs(this.cfg), missingMessages: missingMessages(s.seq), retired: t.retired(now, this.cfg) });
    }
    return out.sort((a, b) => (a.line === b.line ? a.device.localeCompare(b.device) : a.line.localeCompare(b.line)));
  }

  start(everyMs: number): void {
    this.timer ??= setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  /** Stop ticking, account up to now, write and save everything, close the store. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const now = this.clock();
    for (const t of this.fleet.devices.values()) t.advance(now, this.cfg, this.fleet.gatewayOf(t));
    await this.flushing;
    await this.flush();
    this.stopped = true;
    this.deps.store.close();
  }

  /** Bytes the received timestamps of every window hold now (for metrics). */
  timestampBytes(): number {
    return this.budget.used;
  }

  /** For metrics. */
  counts(): { devices: number; online: number; missingMessages: number } {
    const now = this.clock();
    let devices = 0;
    let online = 0;
    let missing = 0;
    for (const t of this.fleet.devices.values()) {
      missing += missingMessages(t.state.seq);
      if (t.state.firstHeard === NEVER || t.retired(now, this.cfg)) continue;
      devices++;
      if (t.offline(now, this.cfg, this.fleet.gatewayOf(t)) === null) online++;
    }
    return { devices, online, missingMessages: missing };
  }

  private async doFlush(): Promise<void> {
    try {
      await this.flushNow();
    } catch (err) {
      // Local state could not be saved (disk full, …): it stays dirty and is retried next flush.
      this.deps.log.error({ err }, 'quality flush failed');
    }
  }

  private async flushNow(): Promise<void> {
    const now = this.clock();
    this.lastFlush = now;
    this.shedTimestamps(); // an exact recount: windows evicted or handed over since leave the meter here
    const hours = new Set<number>([hourOf(now, this.cfg.utcOffsetMs), ...this.closedPending]);
    const firstDay = firstRetainedDay(now, this.cfg);
    // A slice of devices at a time, the event loop served between slices: with thousands of
    // devices one flush is seconds of work (their windows saved, every hour and day rolled up),
    // and in one piece it held every message's acknowledgement and live update that long.
    // A device handed over or forgotten meanwhile is skipped (its rows are gone from the store).
    const trackers = [...this.fleet.devices.values()];
    const present = (t: DeviceTracker) => this.fleet.devices.get(t.key) === t;
    for await (const { slice, last } of inSlices(trackers)) {
      const here = slice.filter(present);
      this.saveSlice(here, hours, last ? firstDay : null);
      for (const t of here) t.evict(now, this.cfg);
    }
    this.closedPending.clear();

    const points: Point[] = [];
    const days = new Set<number>();
    const rollUp = async (window: QualityWindow, start: number) => {
      const r = emptyRollup(window, start);
      for await (const { slice } of inSlices(trackers)) {
        for (const t of slice) if (present(t)) addToRollup(r, t, now, this.cfg);
        points.push(...devicePoints(r, this.deps.devicePointsOnly));
        r.devices.clear(); // their points are made; the sums by line, site and gateway go on
      }
      if (!this.deps.devicePointsOnly) points.push(...aggregatePoints(r));
    };
    for (const h of hours) {
      if (h < firstDay) continue;
      days.add(dayOf(h, this.cfg.utcOffsetMs));
      await rollUp('1h', h);
    }
    for (const d of days) await rollUp('1d', d);
    try {
      if (points.length > 0) await this.deps.write(points);
      this.deps.metrics.points.inc(points.length);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message, points: points.length }, 'quality figures not stored');
    }
    this.deps.metrics.flushes.inc();
  }

  /**
   * One transaction: these devices' changed windows (their hours join `hours`) and states, and,
   * with `dropBefore`, windows older than retained. Marked saved only once written: a failed
   * save leaves them dirty for the next flush.
   */
  private saveSlice(slice: readonly DeviceTracker[], hours: Set<number>, dropBefore: number | null): void {
    const dirtyWindows: DeviceWindow[] = [];
    // Serialised one at a time as the transaction writes them: all windows' timestamps at once
    // would be a second copy of the largest thing the stage holds.
    function* saveWindows(): Iterable<StoredWindow> {
      for (const t of slice) {
        for (const w of t.windows.values()) {
          if (!w.dirty) continue;
          hours.add(w.start);
          dirtyWindows.push(w);
          const saved = w.save();
          yield { key: t.key, start: w.start, state: saved.state, times: saved.times };
        }
      }
    }
    const dirtyDevices = slice.filter((t) => t.dirty);
    this.deps.store.saveAll(
      saveWindows(),
      dirtyDevices.map((t) => ({ key: t.key, ref: t.ref, state: t.state })),
      dropBefore,
    );
    for (const w of dirtyWindows) w.dirty = false;
    for (const t of dirtyDevices) t.dirty = false;
  }

  /**
   * Recount the timestamps' bytes and, over the budget, let the oldest and largest windows' go
   * (TimestampBudget.shed): counted in pp_quality_timestamp_windows_dropped_total, logged the
   * first time, since from then on duplicates there are told by `seq` alone.
   */
  private shedTimestamps(): void {
    const shed = this.budget.shed(this.trackers());
    if (shed.windows === 0) return;
    this.deps.metrics.timestampWindowsDropped.inc(shed.windows);
    if (this.budgetWarned) return;
    this.budgetWarned = true;
    this.deps.log.warn(
      { windows: shed.windows, bytes: shed.bytes, budgetBytes: this.budget.limitBytes },
      'completeness timestamps reached PP_QUALITY_TIMESTAMP_BUDGET_MIB: the oldest and largest windows let theirs go and tell duplicates by seq alone (logged once; pp_quality_timestamp_windows_dropped_total counts them)',
    );
  }

  /** Every tracker holding windows: the accounted devices and those parked at start. */
  private *trackers(): Iterable<DeviceTracker> {
    yield* this.fleet.devices.values();
    yield* this.fleet.parked.values();
  }

  /** Close every hour whose end is `closeAfter` behind: fix the interval it is judged with. True when one closed. */
  private closeHours(now: number): boolean {
    const due = hourOf(now - this.cfg.closeAfterMs, this.cfg.utcOffsetMs); // the first hour not yet closable
    if (this.closedThrough === null) {
      // First tick: hours that closed before (or while the platform was down) are fixed now, judged from here on.
      for (const t of this.fleet.devices.values()) for (const h of t.windows.keys()) if (h < due) t.freeze(h, now, this.cfg);
      this.closedThrough = due;
      return false;
    }
    let closed = false;
    for (; this.closedThrough < due; this.closedThrough += HOUR_MS) {
      for (const t of this.fleet.devices.values()) t.freeze(this.closedThrough, now, this.cfg);
      this.closedPending.add(this.closedThrough);
      closed = true;
    }
    return closed;
  }


}
