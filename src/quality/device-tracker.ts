import type { DeviceRef, TelemetryBatch } from '../contract/index.js';
import { HOUR_MS, type QualityConfig } from './config.js';
import { DeviceWindow } from './device-window.js';
import { emptyFigures, type Figures } from './figures.js';
import { IntervalLearner } from './interval-learner.js';
import type { ByteMeter } from './time-set.js';
import { pruneGaps, stepSeq, type SeqVerdict } from './seq-tracker.js';
import type { StatusState } from '../contract/index.js';
import { initialDeviceState, NEVER, type DeviceState } from './device-state.js';
import { dayOf, dayRetained, hourOf } from './windows.js';

/** A gateway's own status (the device is offline while its gateway is). */
export interface GatewayStatus {
  state: StatusState;
  at: number;
}

export type OfflineReason = 'status' | 'gateway' | 'silent';

export interface AcceptOutcome {
  verdict: SeqVerdict | 'unsequenced';
  received: number;
  duplicates: number;
  tooLate: number;
  /** Delays of the samples received (for the gateway's delay alert). */
  delays: number[];
}

/**
 * Everything PlantPulse knows about one device's data delivery. No I/O and no clock: the caller
 * passes arrival time (`now`), so the same inputs always give the same figures.
 *
 * Two clocks meet here, on purpose:
 * - sample time (`ts`) places samples in windows: completeness of 10:00–11:00 is about samples
 *   taken then, whenever they arrive (a replayed backlog completes the window it belongs to);
 * - arrival time measures delay, silence and online time: a device is online while it is
 *   reachable now, not while its old samples trickle in.
 */
export class DeviceTracker {
  readonly ref: DeviceRef;
  readonly key: string;
  readonly windows = new Map<number, DeviceWindow>();
  private readonly learner: IntervalLearner;
  /** Changed since last saved. */
  dirty = true;
  /** In the stage's list of devices to save once the current burst of stored messages is accounted (QualityStage.accept). */
  awaitingSave = false;
  /**
   * When this process started watching a device it knew from before a restart: silence counts
   * from here, not from its last arrival before the platform went down (its queued messages are
   * on their way from the broker; the platform's downtime is not the device's silence).
   */
  watchedAgainAt = NEVER;
  /**
   * The window `window` returned last. Windows leave `windows` only through `evict`, and come
   * into it from outside only before the tracker is used (restore, hand-over).
   */
  private lastWindow: DeviceWindow | null = null;
  /** Where its windows' timestamps are counted (null: not adopted by a budget yet, TimestampBudget.adopt). */
  meter: ByteMeter | null = null;

  constructor(
    ref: DeviceRef,
    readonly state: DeviceState = initialDeviceState(),
  ) {
    this.ref = { site: ref.site, line: ref.line, device: ref.device };
    this.key = `${ref.site}/${ref.line}/${ref.device}`;
    // The learner keeps its spacings in the state's own array, so the state is always current
    // without a copy per message (it is serialised only when saved or handed over).
    this.learner = new IntervalLearner(state.spacings);
    state.spacings = this.learner.spacingsArray;
  }

  /** The gateway the two keys below were made for (undefined: not made yet). */
  private keysFor: string | null | undefined = undefined;
  private gwKey: string | null = null;
  private upKey = '';

  /** `site/gateway` of the gateway uploading this device (null: none known): the fleet's key for its status. */
  get gatewayKey(): string | null {
    this.refreshKeys();
    return this.gwKey;
  }

  /** Who uploads this device's data: `gateway:site/gateway`, or `device:site/line/device` when no gateway is known. */
  get uploaderKey(): string {
    this.refreshKeys();
    return this.upKey;
  }

  /** Both keys are asked for every stored message: made again only when the gateway changed, not per message. */
  private refreshKeys(): void {
    const g = this.state.gateway;
    if (g === this.keysFor) return;
    this.keysFor = g;
    this.gwKey = g === null ? null : `${this.ref.site}/${g}`;
    this.upKey = g === null ? `device:${this.key}` : `gateway:${this.ref.site}/${g}`;
  }

  /** The interval expectations use: configured, else learned; null while unknown. */
  intervalMs(cfg: QualityConfig): number | null {
    return cfg.sampleIntervalMs ?? this.learner.intervalMs;
  }

  /** What `accept` returns: one object per tracker, filled again by every call. */
  private readonly outcome: AcceptOutcome = { verdict: 'unsequenced', received: 0, duplicates: 0, tooLate: 0, delays: [] };

  /**
   * Account one stored batch, arrived at `now`. The outcome is read at once by the caller and is
   * valid until this tracker's next `accept`: with one-sample messages this runs per message, and
   * a new outcome and delay array each time were garbage per message.
   */
  accept(batch: TelemetryBatch, now: number, cfg: QualityConfig, gw: GatewayStatus | null): AcceptOutcome {
    const s = this.state;
    this.heard(now, cfg, gw);
    const out = this.outcome;
    out.verdict = 'unsequenced';
    out.received = 0;
    out.duplicates = 0;
    out.tooLate = 0;
    // Emptied by popping: V8 keeps the array's storage then, while `length = 0` drops it, and
    // the next push allocated it again (about 150 bytes per message).
    const delays = out.delays;
    while (delays.length > 0) delays.pop();
    const samples = batch.samples;
    let consecutive = true; // unsequenced sources: arrival order is all there is
    if (batch.seq !== null && samples.length > 0) {
      const last = s.lastSeq;
      if (s.seq.highest !== null && batch.seq === s.seq.highest + 1) {
        // The usual message, the next one: the state is the device's own (never shared: hand-over
        // clones it, restore parses it), so it moves in place instead of being copied per message.
        s.seq.highest = batch.seq;
        out.verdict = 'next';
      } else {
        let oldest = Infinity;
        for (const x of samples) if (x.ts < oldest) oldest = x.ts;
        const step = stepSeq(s.seq, batch.seq, oldest, s.newestTs, now);
        s.seq = step.state;
        s.abandoned += step.abandoned;
        out.verdict = step.verdict;
      }
      consecutive = last !== null && out.verdict !== 'reset' && last.epoch === s.seq.epoch && batch.seq === last.seq + 1;
      if (out.verdict !== 'duplicate') {
        if (last === null) s.lastSeq = { epoch: s.seq.epoch, seq: batch.seq };
        else {
          last.epoch = s.seq.epoch;
          last.seq = batch.seq;
        }
      }
    }
    const duplicateMessage = out.verdict === 'duplicate';
    let inMessage = false;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      const w = this.window(hourOf(sample.ts, cfg.utcOffsetMs), now, cfg);
      if (i === 0 && w) {
        // Message-level figures go to the window of the message's first sample.
        if (duplicateMessage) w.counts.duplicateMessages++;
        if (out.verdict === 'gap-fill') w.counts.lateMessages++;
      }
      if (!w) {
        out.tooLate++;
        s.tooLate++;
        continue;
      }
      w.dirty = true;
      if (duplicateMessage || (w.times !== null && !w.times.add(sample.ts))) {
        w.counts.duplicates++;
        out.duplicates++;
        continue;
      }
      w.counts.received++;
      out.received++;
      if (sample.ts < s.newestTs) w.counts.outOfOrder++; // never true before the first (NEVER is -Infinity)
      const delay = now - sample.ts;
      w.counts.timed++;
      if (delay <= cfg.delayLimitMs) w.counts.onTime++;
      w.delays.add(delay);
      delays.push(delay);
      if (s.prevTs !== NEVER && (inMessage || consecutive)) this.learner.add(sample.ts - s.prevTs);
      inMessage = true;
      s.prevTs = sample.ts;
      if (sample.ts > s.newestTs) s.newestTs = sample.ts;
      if (s.firstTs === NEVER || sample.ts < s.firstTs) s.firstTs = sample.ts;
    }
    s.lastArrival = now;
    this.dirty = true;
    return out;
  }

  /** The device's own status topic said `state` (heard at `at`, by default now). */
  setStatus(state: StatusState, reason: string | null, gateway: string | null, now: number, cfg: QualityConfig, gw: GatewayStatus | null, at = now): void {
    const s = this.state;
    this.advance(now, cfg, gw);
    // A retained status repeated (e.g. redelivered on resubscribe after a restart) is no change.
    if (s.status !== state) {
      s.status = state;
      s.statusAt = at;
    }
    s.statusReason = reason;
    if (gateway !== null) s.gateway = gateway;
    this.dirty = true;
  }

  /**
   * Account online and observed time up to `now`. Call before anything that changes whether the
   * device is online (its status, its gateway's status, a new arrival), so every stretch of time
   * is judged by the state that held during it.
   */
  advance(now: number, cfg: QualityConfig, gw: GatewayStatus | null): void {
    const s = this.state;
    if (s.firstHeard === NEVER) return;
    const from = s.lastAdvance === NEVER ? now : s.lastAdvance;
    s.lastAdvance = Math.max(from, now);
    if (now <= from) return;
    const statusOk = s.status !== 'offline' && gw?.state !== 'offline';
    // Online while the status allows it and the last arrival is recent enough; retired devices are no longer watched.
    const heard = this.lastHeard();
    const onlineUntil = !statusOk ? -Infinity : heard !== NEVER ? heard + cfg.silenceMs : Infinity;
    const watchedUntil = s.lastArrival !== NEVER ? s.lastArrival + cfg.retireAfterMs : Infinity;
    // [from, until) split at hour boundaries, written out here: this runs for every stored
    // message, and a helper taking a callback made a closure per message.
    const until = Math.min(now, watchedUntil);
    for (let hour = hourOf(from, cfg.utcOffsetMs); hour < until; hour += HOUR_MS) {
      const a = Math.max(from, hour);
      const b = Math.min(until, hour + HOUR_MS);
      if (b <= a) continue;
      const w = this.window(hour, now, cfg);
      if (!w) continue;
      w.counts.observedMs += b - a;
      w.counts.onlineMs += Math.max(0, Math.min(b, onlineUntil) - a);
      w.dirty = true;
    }
    // Not marking the device dirty: lastAdvance is not worth saving (restore restarts it anyway).
  }

  /** Offline now, since when and why (the earliest of the reasons that hold); null when online or not watched. */
  offline(now: number, cfg: QualityConfig, gw: GatewayStatus | null): { since: number; reason: OfflineReason } | null {
    const s = this.state;
    if (s.firstHeard === NEVER) return null;
    let best: { since: number; reason: OfflineReason } | null = null;
    const consider = (since: number, reason: OfflineReason) => {
      if (best === null || since < best.since) best = { since, reason };
    };
    if (s.status === 'offline' && s.statusAt !== NEVER) consider(s.statusAt, 'status');
    if (gw?.state === 'offline') consider(gw.at, 'gateway');
    const heard = this.lastHeard();
    if (heard !== NEVER && now - heard > cfg.silenceMs) consider(heard + cfg.silenceMs, 'silent');
    return best;
  }

  /** Silent longer than the retire period: no longer expected, no longer judged. */
  retired(now: number, cfg: QualityConfig): boolean {
    return this.state.lastArrival !== NEVER && now - this.state.lastArrival > cfg.retireAfterMs;
  }

  /** This device's figures for the hour starting `hour`, as known at `now` (`withDelays` false: skip the histogram, for alerts). */
  hourFigures(hour: number, now: number, cfg: QualityConfig, withDelays = true): Figures {
    const f = emptyFigures();
    const s = this.state;
    const w = this.windows.get(hour);
    const interval = w?.counts.intervalMs ?? this.intervalMs(cfg);
    if (interval !== null && s.firstTs !== NEVER && s.newestTs !== NEVER) {
      // Sampling slots from the device's first sample (or the hour's start) to the hour's end
      // (or now, for the hour still running), while it is in service.
      const from = Math.max(hour, s.firstTs);
      const to = Math.min(hour + HOUR_MS, now, s.newestTs + cfg.retireAfterMs);
      f.expected = to > from ? Math.ceil((to - from) / interval) : 0;
    }
    if (w) {
      const c = w.counts;
      f.received = c.received;
      f.receivedCounted = interval === null ? 0 : Math.min(c.received, f.expected);
      f.duplicates = c.duplicates;
      f.duplicateMessages = c.duplicateMessages;
      f.lateMessages = c.lateMessages;
      f.outOfOrder = c.outOfOrder;
      f.timed = c.timed;
      f.onTime = c.onTime;
      f.onlineMs = c.onlineMs;
      f.observedMs = c.observedMs;
      if (withDelays) f.delays.merge(w.delays);
    }
    f.devices = f.expected > 0 || f.received > 0 || f.duplicates > 0 || f.observedMs > 0 ? 1 : 0;
    return f;
  }

  /**
   * The hour closed: fix the interval it is judged with (a later change of sampling rate does not
   * rewrite history) and let its timestamps go (DeviceWindow.releaseTimes).
   */
  freeze(hour: number, now: number, cfg: QualityConfig): void {
    this.windows.get(hour)?.releaseTimes();
    const interval = this.intervalMs(cfg);
    const s = this.state;
    if (interval === null || s.firstTs === NEVER || s.firstTs >= hour + HOUR_MS) return;
    const w = this.window(hour, now, cfg);
    if (w && w.counts.intervalMs === null) {
      w.counts.intervalMs = interval;
      w.dirty = true;
    }
  }

  /** Drop hours whose day is past the late horizon, and seq gaps found before it. */
  evict(now: number, cfg: QualityConfig): void {
    for (const [start, w] of this.windows) {
      if (dayRetained(dayOf(start, cfg.utcOffsetMs), now, cfg.lateHorizonMs)) continue;
      w.times?.release(); // a window a backlog opened after its hour closed still holds them
      this.windows.delete(start);
      if (w === this.lastWindow) this.lastWindow = null;
    }
    const pruned = pruneGaps(this.state.seq, now - cfg.lateHorizonMs - HOUR_MS * 24);
    if (pruned.abandoned > 0) {
      this.state.seq = pruned.state;
      this.state.abandoned += pruned.abandoned;
      this.dirty = true;
    }
  }

  /** The window of an hour, created on demand; null when its day is past the late horizon. */
  window(hour: number, now: number, cfg: QualityConfig): DeviceWindow | null {
    // Nearly every call (each sample, each advance) asks for the hour asked for last, and a Map
    // lookup by an hour start (a number too large for a small integer) boxes it first.
    const last = this.lastWindow;
    if (last !== null && last.start === hour) return last;
    let w = this.windows.get(hour);
    if (!w) {
      if (!dayRetained(dayOf(hour, cfg.utcOffsetMs), now, cfg.lateHorizonMs)) return null;
      w = new DeviceWindow(hour, this.meter);
      this.windows.set(hour, w);
    }
    this.lastWindow = w;
    return w;
  }

  /** What silence is counted from (NEVER: nothing heard). */
  private lastHeard(): number {
    const a = this.state.lastArrival;
    return a === NEVER ? NEVER : Math.max(a, this.watchedAgainAt);
  }

  private heard(now: number, cfg: QualityConfig, gw: GatewayStatus | null): void {
    const s = this.state;
    if (s.firstHeard === NEVER) {
      s.firstHeard = now;
      s.lastAdvance = now;
    } else this.advance(now, cfg, gw);
  }
}
