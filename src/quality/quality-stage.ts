import type { AnomalyEvent } from '../analytics/types.js';
import { deviceKey, GATEWAY_LINE, parseStatus, type DeviceRef, type ParsedStatus, type StatusState, type TelemetryBatch } from '../contract/index.js';
import type { Logger } from '../observability/index.js';
import type { HistoryReader } from '../storage/index.js';
import type { Point } from '../storage/point.js';
import { DAY_MS, HOUR_MS, type QualityConfig } from './config.js';
import { DelayPeriods } from './delay-periods.js';
import { DeviceTracker, initialDeviceState, type GatewayStatus } from './device-tracker.js';
import { DeviceWindow } from './device-window.js';
import { percentages } from './figures.js';
import { AlertLatches, deviceOfflineEvent, siteCompletenessEvent, uploadDelayEvent, QUALITY_RULES, SITE_LEVEL } from './quality-alerts.js';
import type { QualityMetrics } from './quality-metrics.js';
import { rollupPoints } from './quality-points.js';
import type { QualityStore, StoredWindow } from './quality-store.js';
import { storedSampleCounts } from './restore-counts.js';
import { rollup } from './rollup.js';
import { missingMessages } from './seq-tracker.js';
import { dayOf, dayRetained, hourOf, QUALITY_WINDOWS } from './windows.js';

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

interface PendingStatus {
  state: StatusState;
  at: number;
  reason: string | null;
  gateway: string | null;
}

/** Bound on status remembered for devices that never sent data (a hostile or broken publisher cannot grow it further). */
const MAX_PENDING = 100_000;

/**
 * The data completeness and gateway health stage (docs/completeness.md). It hears every
 * batch once it is durable (pipeline `onStored`) and every status message (MQTT source), keeps
 * per-device accounting (device-tracker.ts), writes the `quality` measurement every flush,
 * and raises data alerts through the alert manager. Its own state survives restarts through
 * SQLite (quality-store.ts) and InfluxDB telemetry counts (restore-counts.ts).
 */
export class QualityStage {
  private readonly cfg: QualityConfig;
  private readonly clock: () => number;
  private readonly devices = new Map<string, DeviceTracker>();
  /** By `site/gatewayId`. */
  private readonly gateways = new Map<string, GatewayStatus>();
  /** Status (and gateway membership) heard for devices not sending data yet, by device key. */
  private readonly pending = new Map<string, PendingStatus>();
  private readonly pendingGateway = new Map<string, string>();
  private readonly latches = new AlertLatches();
  private readonly periods: DelayPeriods;
  /** Latest verdict of each uploader's delay, judged once per period. */
  private readonly delayVerdicts = new Map<string, { ref: DeviceRef; name: string; p95: number; samples: number; fresh: boolean }>();
  /** Hours before this are closed (judged, interval fixed); set on the first tick. */
  private closedThrough: number | null = null;
  private readonly closedPending = new Set<number>();
  private lastFlush = -Infinity;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** After stop: the store is closed; a batch still landing (storage draining) is not accounted. */
  private stopped = false;
  /** Devices whose state changed in the current burst of stored batches, saved together (saveAccepted). */
  private readonly unsaved = new Set<DeviceTracker>();

  constructor(private readonly deps: QualityStageDeps) {
    this.cfg = deps.config;
    this.clock = deps.clock ?? Date.now;
    this.periods = new DelayPeriods(this.cfg.alerts.delayPeriodMs);
  }

  /** Rebuild from local state and stored telemetry. Call once, before intake starts. */
  async restore(): Promise<void> {
    const now = this.clock();
    for (const d of this.deps.store.devices()) {
      // The time the platform was down was not watched: online time restarts now.
      const t = new DeviceTracker(d.ref, { ...initialDeviceState(), ...d.state, lastAdvance: now });
      t.watchedAgainAt = now;
      t.dirty = false;
      this.devices.set(t.key, t);
    }
    for (const [k, g] of this.deps.store.gateways()) this.gateways.set(k, g);
    const firstDay = this.firstRetainedDay(now);
    for (const w of this.deps.store.windowsSince(firstDay)) {
      const t = this.devices.get(w.key);
      if (t) t.windows.set(w.start, DeviceWindow.restore(w.start, w.state, w.times));
    }
    let recounted = 0;
    if (this.deps.history.available) {
      try {
        const counts = await storedSampleCounts(this.deps.history, firstDay, now + HOUR_MS, this.cfg.utcOffsetMs);
        for (const [key, hours] of counts) recounted += this.recount(key, hours, now);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'could not read stored telemetry counts; quality figures restart from local state only');
      }
    }
    // Rewrite every retained window once: what closed while the platform was down, and what the recount changed.
    for (const t of this.devices.values()) for (const w of t.windows.values()) w.dirty = true;
    this.deps.log.info({ devices: this.devices.size, gateways: this.gateways.size, recounted }, 'quality state restored');
  }

  /** A batch is durable (pipeline onStored): account it, at arrival time now. */
  accept(batch: TelemetryBatch): void {
    if (this.stopped || batch.samples.length === 0) return;
    const now = this.clock();
    const t = this.tracker(batch, now);
    const out = t.accept(batch, now, this.cfg, this.gatewayOf(t));
    // Saved before the message is acknowledged, so a redelivery after a crash is a known
    // duplicate. One write completes many messages' batches at once, and their listeners run
    // one after another as microtasks; a microtask queued by the first runs after all of them
    // and before any of their acknowledgements (which are queued later still): one SQLite
    // transaction for the burst instead of one commit per message (4 % of the platform's CPU at
    // its maximum, docs/performance.md).
    t.dirty = true;
    if (this.unsaved.size === 0) queueMicrotask(() => this.saveAccepted());
    this.unsaved.add(t);
    const m = this.deps.metrics;
    m.messages.inc({ verdict: out.verdict });
    if (out.received > 0) m.samples.inc({ verdict: 'received' }, out.received);
    if (out.duplicates > 0) m.samples.inc({ verdict: 'duplicate' }, out.duplicates);
    if (out.tooLate > 0) m.samples.inc({ verdict: 'too_late' }, out.tooLate);
    const up = this.uploader(t);
    this.periods.add(up.key, out.delays, now);
  }

  private saveAccepted(): void {
    if (this.stopped) return;
    try {
      this.deps.store.saveDevices([...this.unsaved].map((t) => ({ key: t.key, ref: t.ref, state: t.state })));
      for (const t of this.unsaved) t.dirty = false;
    } catch (err) {
      // Disk trouble: they stay dirty, and the next flush saves them (or says why it cannot).
      this.deps.log.error({ err }, 'quality state could not be saved');
    }
    this.unsaved.clear();
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
    const now = this.clock();
    this.deps.metrics.statusMessages.inc({ kind: p.kind });
    if (p.kind === 'gateway') {
      const key = `${p.site}/${p.gateway}`;
      const before = this.gateways.get(key) ?? null;
      // Account each member's time up to now under the gateway state that held so far.
      for (const t of this.devices.values()) if (t.ref.site === p.site && t.state.gateway === p.gateway) t.advance(now, this.cfg, before);
      for (const d of p.devices) this.assignGateway(d, p.gateway, now);
      if (before?.state !== p.state) {
        const status = { state: p.state, at: now };
        this.gateways.set(key, status);
        this.deps.store.saveGateway(key, status);
      }
      return;
    }
    const key = deviceKey(p.ref);
    const t = this.devices.get(key);
    if (!t) {
      if (this.pending.size < MAX_PENDING || this.pending.has(key)) {
        const prev = this.pending.get(key);
        this.pending.set(key, { state: p.state, at: prev?.state === p.state ? prev.at : now, reason: p.reason, gateway: p.gateway ?? prev?.gateway ?? null });
      }
      return;
    }
    t.setStatus(p.state, p.reason, p.gateway, now, this.cfg, this.gatewayOf(t));
    this.deps.store.saveDevice(t.key, t.ref, t.state);
    t.dirty = false;
  }

  /** Time-driven work: online time, closing hours, alerts, and a flush when due. */
  tick(): void {
    const now = this.clock();
    for (const t of this.devices.values()) t.advance(now, this.cfg, this.gatewayOf(t));
    const closed = this.closeHours(now);
    const events = [...this.offlineEvents(now), ...this.delayEvents(now), ...this.siteEvents(now)];
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

  /** Per-device status now, for the API (one site, optionally one line). */
  statusOf(site: string, line?: string): DeviceQualityStatus[] {
    const now = this.clock();
    const out: DeviceQualityStatus[] = [];
    for (const t of this.devices.values()) {
      if (t.ref.site !== site || (line !== undefined && t.ref.line !== line)) continue;
      const off = t.offline(now, this.cfg, this.gatewayOf(t));
      const s = t.state;
      out.push({ ...t.ref, online: off === null, offlineSince: off?.since ?? null, offlineReason: off?.reason ?? null, lastSeen: s.lastArrival, lastSampleTs: s.newestTs, gateway: s.gateway, intervalMs: t.intervalMs(this.cfg), missingMessages: missingMessages(s.seq), retired: t.retired(now, this.cfg) });
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
    for (const t of this.devices.values()) t.advance(now, this.cfg, this.gatewayOf(t));
    await this.flushing;
    await this.flush();
    this.stopped = true;
    this.deps.store.close();
  }

  /** For metrics. */
  counts(): { devices: number; online: number; missingMessages: number } {
    const now = this.clock();
    let devices = 0;
    let online = 0;
    let missing = 0;
    for (const t of this.devices.values()) {
      missing += missingMessages(t.state.seq);
      if (t.state.firstHeard === null || t.retired(now, this.cfg)) continue;
      devices++;
      if (t.offline(now, this.cfg, this.gatewayOf(t)) === null) online++;
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
    const hours = new Set<number>([hourOf(now, this.cfg.utcOffsetMs), ...this.closedPending]);
    const dirtyWindows: DeviceWindow[] = [];
    const saveWindows: StoredWindow[] = [];
    for (const t of this.devices.values()) {
      for (const w of t.windows.values()) {
        if (!w.dirty) continue;
        hours.add(w.start);
        const saved = w.save();
        saveWindows.push({ key: t.key, start: w.start, state: saved.state, times: saved.times });
        dirtyWindows.push(w);
      }
    }
    const dirtyDevices = [...this.devices.values()].filter((t) => t.dirty);
    const firstDay = this.firstRetainedDay(now);
    this.deps.store.saveAll(
      saveWindows,
      dirtyDevices.map((t) => ({ key: t.key, ref: t.ref, state: t.state })),
      firstDay,
    );
    // Clean only once saved: a failed save leaves them dirty for the next flush.
    for (const w of dirtyWindows) w.dirty = false;
    for (const t of dirtyDevices) t.dirty = false;
    this.closedPending.clear();
    for (const t of this.devices.values()) t.evict(now, this.cfg);

    const points: Point[] = [];
    const days = new Set<number>();
    for (const h of hours) {
      if (h < firstDay) continue;
      days.add(dayOf(h, this.cfg.utcOffsetMs));
      points.push(...rollupPoints(rollup(this.devices.values(), '1h', h, now, this.cfg)));
    }
    for (const d of days) points.push(...rollupPoints(rollup(this.devices.values(), '1d', d, now, this.cfg)));
    try {
      if (points.length > 0) await this.deps.write(points);
      this.deps.metrics.points.inc(points.length);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message, points: points.length }, 'quality figures not stored');
    }
    this.deps.metrics.flushes.inc();
  }

  /** Close every hour whose end is `closeAfter` behind: fix the interval it is judged with. True when one closed. */
  private closeHours(now: number): boolean {
    const due = hourOf(now - this.cfg.closeAfterMs, this.cfg.utcOffsetMs); // the first hour not yet closable
    if (this.closedThrough === null) {
      // First tick: hours that closed before (or while the platform was down) are fixed now, judged from here on.
      for (const t of this.devices.values()) for (const h of t.windows.keys()) if (h < due) t.freeze(h, now, this.cfg);
      this.closedThrough = due;
      return false;
    }
    let closed = false;
    for (; this.closedThrough < due; this.closedThrough += HOUR_MS) {
      for (const t of this.devices.values()) t.freeze(this.closedThrough, now, this.cfg);
      this.closedPending.add(this.closedThrough);
      closed = true;
    }
    return closed;
  }

  private offlineEvents(now: number): AnomalyEvent[] {
    const limit = this.cfg.alerts.offlineAfterMs;
    if (limit <= 0) return [];
    const events: AnomalyEvent[] = [];
    for (const t of this.devices.values()) {
      const key = `${t.key}/${QUALITY_RULES.deviceOffline}`;
      if (t.state.firstHeard === null) continue;
      if (t.retired(now, this.cfg)) {
        this.latches.drop(key); // no longer judged: an open alert resolves as stale in the manager
        continue;
      }
      const off = t.offline(now, this.cfg, this.gatewayOf(t));
      const kind = this.latches.judge(key, off !== null && now - off.since >= limit, now);
      if (kind) events.push(deviceOfflineEvent(t.ref, kind, now, off ? now - off.since : 0, limit, off?.reason ?? ''));
    }
    return events;
  }

  private delayEvents(now: number): AnomalyEvent[] {
    const limit = this.cfg.alerts.gatewayDelayP95Ms;
    if (limit <= 0) return [];
    for (const [key, period] of this.periods.takeCompleted(now)) {
      const v = this.delayVerdicts.get(key);
      const p95 = period.delays.percentile(0.95) ?? 0;
      const ref = v?.ref ?? refOfUploader(key);
      this.delayVerdicts.set(key, { ref, name: nameOfUploader(key), p95, samples: period.delays.count, fresh: true });
    }
    const events: AnomalyEvent[] = [];
    for (const [key, v] of this.delayVerdicts) {
      const kind = this.latches.judge(`${key}/${QUALITY_RULES.uploadDelay}`, v.fresh ? v.p95 > limit : null, now);
      v.fresh = false;
      if (kind) events.push(uploadDelayEvent(v.ref, v.name, kind, now, v.p95, limit, v.samples));
    }
    return events;
  }

  private siteEvents(now: number): AnomalyEvent[] {
    const min = this.cfg.alerts.siteMinCompletenessPct;
    if (min <= 0) return [];
    const window = this.cfg.alerts.siteWindow;
    const size = QUALITY_WINDOWS[window];
    // The last window whose end is `closeAfter` behind now.
    const start = (window === '1h' ? hourOf(now - this.cfg.closeAfterMs, this.cfg.utcOffsetMs) : dayOf(now - this.cfg.closeAfterMs, this.cfg.utcOffsetMs)) - size;
    if (!dayRetained(dayOf(start, this.cfg.utcOffsetMs), now, this.cfg.lateHorizonMs)) return [];
    const sites = rollup(this.devices.values(), window, start, now, this.cfg, false).sites;
    const events: AnomalyEvent[] = [];
    for (const [site, f] of sites) {
      const pct = percentages(f).completenessPct;
      if (pct === null) continue;
      const kind = this.latches.judge(`${site}/${SITE_LEVEL}/${SITE_LEVEL}/${QUALITY_RULES.siteCompleteness}`, pct < min, now);
      if (kind) events.push(siteCompletenessEvent(site, kind, now, pct, min, window, start));
    }
    return events;
  }

  private tracker(ref: DeviceRef, now: number): DeviceTracker {
    const key = deviceKey(ref);
    let t = this.devices.get(key);
    if (t) return t;
    t = new DeviceTracker(ref);
    this.devices.set(key, t);
    const gw = this.pendingGateway.get(key);
    if (gw !== undefined) t.state.gateway = gw;
    const p = this.pending.get(key);
    if (p) t.setStatus(p.state, p.reason, p.gateway, now, this.cfg, this.gatewayOf(t), p.at);
    this.pending.delete(key);
    this.pendingGateway.delete(key);
    return t;
  }

  private assignGateway(ref: DeviceRef, gateway: string, now: number): void {
    const key = deviceKey(ref);
    const t = this.devices.get(key);
    if (!t) {
      if (this.pendingGateway.size < MAX_PENDING || this.pendingGateway.has(key)) this.pendingGateway.set(key, gateway);
      return;
    }
    if (t.state.gateway === gateway) return;
    t.advance(now, this.cfg, this.gatewayOf(t));
    t.state.gateway = gateway;
    t.dirty = true;
  }

  private gatewayOf(t: DeviceTracker): GatewayStatus | null {
    return t.state.gateway === null ? null : (this.gateways.get(`${t.ref.site}/${t.state.gateway}`) ?? null);
  }

  /** Who uploads a device's data: its gateway, or the device itself when no gateway is known. */
  private uploader(t: DeviceTracker): { key: string } {
    return { key: t.state.gateway === null ? `device:${t.key}` : `gateway:${t.ref.site}/${t.state.gateway}` };
  }

  /** The earliest day start whose samples are still accounted at `now`. */
  private firstRetainedDay(now: number): number {
    // The day holding (now − horizon − 1 day) ended at or before now − horizon; the next one did not.
    return dayOf(now - this.cfg.lateHorizonMs - DAY_MS, this.cfg.utcOffsetMs) + DAY_MS;
  }

  /** After a restart: samples stored but not in local state (stored just before a crash) count as received. */
  private recount(key: string, hours: Map<number, number>, now: number): number {
    let t = this.devices.get(key);
    if (!t) {
      // Local state lost (a new data dir): rebuild what the counts can tell.
      const [site, line, device] = key.split('/') as [string, string, string];
      t = new DeviceTracker({ site, line, device });
      const starts = [...hours.keys()];
      t.state.firstTs = Math.min(...starts);
      t.state.newestTs = Math.max(...starts);
      this.devices.set(key, t);
    }
    let added = 0;
    for (const [hour, n] of hours) {
      const w = t.window(hour, now, this.cfg);
      if (!w || n <= w.counts.received) continue;
      added += n - w.counts.received;
      w.counts.received = n;
      w.timesComplete = false; // these samples' timestamps (and delays) are not known here
    }
    return added;
  }
}

function refOfUploader(key: string): DeviceRef {
  const [kind, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  const parts = rest.split('/');
  if (kind === 'gateway') return { site: parts[0]!, line: GATEWAY_LINE, device: parts[1]! };
  return { site: parts[0]!, line: parts[1]!, device: parts[2]! };
}

function nameOfUploader(key: string): string {
  return key.startsWith('gateway:') ? `gateway ${key.slice('gateway:'.length)}` : `device ${key.slice('device:'.length)}`;
}
