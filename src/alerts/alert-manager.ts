import { siteAllowed, type SiteScope } from '../auth/site-scope.js';
import { alertId, alertKey } from './alert-id.js';
import type { AlertStore } from './alert-store.js';
import type { Alert, AlertQuery, AlertTransition, AnomalyEvent, Category } from './types.js';

export interface AlertManagerOptions {
  /** Flapping: this many episodes of one key opened within `flapWindowMs` marks the next one flapping. */
  flapThreshold: number;
  flapWindowMs: number;
  /** A flapping alert resolves only after its condition stayed clear this long (wall clock). */
  flapQuietMs: number;
  /**
   * An open alert nothing has been heard about for this long (wall clock) resolves as `stale`:
   * detector state is in memory, so after a restart a condition that ended while we were down
   * would otherwise never send its clear. Longer than the slowest rule's cadence (15-min energy windows).
   */
  staleAfterMs: number;
}

/** Acknowledgements of alerts not held here that are remembered for a hand-over (the oldest go first). */
const ACKS_HEARD_CAP = 10_000;

export const DEFAULT_ALERT_OPTIONS: AlertManagerOptions = {
  flapThreshold: 4,
  flapWindowMs: 30 * 60_000,
  flapQuietMs: 10 * 60_000,
  staleAfterMs: 45 * 60_000,
};

/** How far `value` lies beyond the reference, in the direction the episode started. */
function excess(alert: Pick<Alert, 'threshold' | 'baseline' | 'peak'>, value: number, direction: number): number {
  const ref = alert.threshold ?? alert.baseline;
  return ref === null ? value * direction : (value - ref) * direction;
}

/**
 * Turns detector events into alerts: open, update (count, last seen, peak), resolve; dedup by
 * device + rule with exactly one open alert per key; flapping damped; acknowledgements.
 *
 * Idempotent under replays: every decision compares event times with what the alert has
 * already seen (a raise no newer than `lastSeen`, or falling inside an episode already resolved,
 * changes nothing), and ids derive from key + opening time. So at-least-once delivery, a
 * restart re-reading unacknowledged MQTT messages, or a second instance replaying the same data
 * cannot mint a second alert for one episode.
 */
export class AlertManager {
  /** Open alerts by key: the hot path never reads SQLite. */
  private readonly open = new Map<string, Alert>();
  /** Acknowledgements heard of alerts not held here, newest last (acknowledgedElsewhere). */
  private readonly acksHeard = new Map<string, { ackedAt: number; ackedBy: string | null; ackNote: string | null }>();

  /**
   * `holdAtStart`: which of the store's open alerts this process judges from the start (default
   * all). A NATS worker holds only what is not a device's (gateway and site alerts): a device's
   * alerts are held by the worker that owns its partition, taken over with its state or loaded
   * when the device first comes here (takeOver, loadOpenOf).
   */
  constructor(
    private readonly store: AlertStore,
    private readonly opts: AlertManagerOptions = DEFAULT_ALERT_OPTIONS,
    private readonly clock: () => number = Date.now,
    holdAtStart: (a: Alert) => boolean = () => true,
  ) {
    for (const a of store.allOpen()) if (holdAtStart(a)) this.open.set(a.key, a);
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Apply events in order; all resulting changes are saved in one transaction before returning. */
  handle(events: readonly AnomalyEvent[]): AlertTransition[] {
    if (events.length === 0) return [];
    const now = this.clock();
    const transitions: AlertTransition[] = [];
    const dirty = new Map<string, Alert>();
    for (const e of events) {
      const t = e.kind === 'raise' ? this.raise(e, now) : this.clear(e, now);
      if (!t) continue;
      dirty.set(t.alert.id, t.alert);
      transitions.push(t);
    }
    this.persist(dirty);
    return transitions;
  }

  /** Open alerts of one device (rule alerts and its data alerts), for handing the device over to another process. */
  openOf(site: string, line: string, device: string): Alert[] {
    const prefix = alertKey(site, line, device, '');
    return [...this.open.values()].filter((a) => a.key.startsWith(prefix));
  }

  /**
   * Alerts another process had open for a device now processed here: they go on here (a raise
   * updates them, a clear resolves them) instead of a second alert opening for the same episode.
   * An alert this process holds with a newer last-seen is kept.
   */
  adopt(alerts: readonly Alert[]): void {
    const dirty = new Map<string, Alert>();
    for (const a of alerts) {
      if (a.state !== 'open') continue;
      const mine = this.open.get(a.key);
      if (mine && mine.lastSeen > a.lastSeen) continue;
      this.open.set(a.key, a);
      dirty.set(a.id, a);
    }
    this.persist(dirty);
  }

  /**
   * A device taken over from another process with its state: its open alerts are exactly
   * `alerts` from now on (an alert of it this process holds with a newer last-seen is kept).
   * Open alerts of it in this store that are not among them were settled by another owner since
   * this process last held them: they are removed here (the fleet's record of them is what the
   * owner published), so they are neither judged nor republished from here, and a new episode of
   * their rule can open.
   */
  takeOver(site: string, line: string, device: string, alerts: readonly Alert[]): void {
    const keep = new Set(alerts.filter((a) => a.state === 'open').map((a) => a.id));
    const prefix = alertKey(site, line, device, '');
    this.store.transaction(() => {
      for (const a of this.store.openOf(site, line, device)) {
        if (keep.has(a.id)) continue;
        this.store.remove(a.id);
        if (this.open.get(a.key)?.id === a.id) this.open.delete(a.key);
      }
      for (const a of [...this.open.values()]) if (a.key.startsWith(prefix) && !keep.has(a.id)) this.open.delete(a.key);
    });
    this.adopt(alerts.map((a) => this.withStoredAck(a)));
  }

  /**
   * A device first processed here with no state handed over: hold its open alerts from this
   * store (this process was its last owner, or it predates sharing), unless some are held already.
   */
  loadOpenOf(site: string, line: string, device: string): number {
    if (this.openOf(site, line, device).length > 0) return 0;
    const found = this.store.openOf(site, line, device);
    for (const a of found) this.open.set(a.key, a);
    return found.length;
  }

  /** An acknowledgement heard here while another process held the alert (acknowledgedElsewhere) stays. */
  private withStoredAck(a: Alert): Alert {
    if (a.ackedAt !== null) return a;
    const stored = this.store.get(a.id);
    const ack = this.acksHeard.get(a.id) ?? (stored && stored.ackedAt !== null ? stored : null);
    return ack ? { ...a, ackedAt: ack.ackedAt, ackedBy: ack.ackedBy, ackNote: ack.ackNote } : a;
  }

  /**
   * The device is processed by another process now, which goes on with its open alerts: this one
   * stops judging them (no stale resolution here). Its own store keeps them as they were.
   */
  forget(site: string, line: string, device: string): number {
    let n = 0;
    for (const a of this.openOf(site, line, device)) if (this.open.delete(a.key)) n++;
    return n;
  }

  /** Time-driven transitions: flapping alerts that stayed quiet, stale alerts. */
  tick(): AlertTransition[] {
    const now = this.clock();
    const transitions: AlertTransition[] = [];
    for (const a of this.open.values()) {
      if (a.flapping && a.clearPendingSince !== null && now - a.updatedAt >= this.opts.flapQuietMs) {
        transitions.push(this.resolve(a, a.clearPendingSince, now, 'cleared'));
      } else if (now - a.updatedAt >= this.opts.staleAfterMs) {
        transitions.push(this.resolve(a, a.lastSeen, now, 'stale'));
      }
    }
    this.persist(new Map(transitions.map((t) => [t.alert.id, t.alert])));
    return transitions;
  }

  /**
   * Acknowledge (idempotent: a second acknowledgement changes nothing and returns no transition).
   * With `scope`, an alert of another site is not found.
   */
  acknowledge(id: string, by: string, note: string | null, scope?: SiteScope): { alert: Alert; transition: AlertTransition | null } | null {
    const current = this.get(id, scope);
    if (!current) return null;
    if (current.ackedAt !== null) return { alert: current, transition: null };
    const now = this.clock();
    const alert: Alert = { ...current, ackedAt: now, ackedBy: by, ackNote: note, updatedAt: current.state === 'open' ? current.updatedAt : now };
    // Kept in step only when held here: an open alert of a device another process owns stays unheld.
    if (alert.state === 'open' && this.open.get(alert.key)?.id === alert.id) this.open.set(alert.key, alert);
    this.store.save(alert);
    return { alert, transition: { type: 'acknowledged', ts: now, alert } };
  }

  /**
   * An acknowledgement made elsewhere (an API node, docs/scale-out.md): recorded with its own
   * time and author. Returns the transition when this process holds the alert (it then decides
   * its transitions, so it tells them: history, hand-over); an alert only in the store is updated
   * quietly; null when already acknowledged or unknown here.
   */
  acknowledgedElsewhere(id: string, ack: { ackedAt: number; ackedBy: string | null; ackNote: string | null }): AlertTransition | null {
    const held = [...this.open.values()].find((a) => a.id === id);
    if (!held) {
      // Its owner may hand it over to this process later, with a state saved before it heard of this.
      this.acksHeard.delete(id);
      this.acksHeard.set(id, ack);
      if (this.acksHeard.size > ACKS_HEARD_CAP) this.acksHeard.delete(this.acksHeard.keys().next().value!);
    }
    const current = held ?? this.store.get(id);
    if (!current || current.ackedAt !== null) return null;
    const alert: Alert = { ...current, ackedAt: ack.ackedAt, ackedBy: ack.ackedBy, ackNote: ack.ackNote };
    if (held) this.open.set(alert.key, alert);
    this.store.save(alert);
    return held ? { type: 'acknowledged', ts: ack.ackedAt, alert } : null;
  }

  /** The episode of `key` open now, if any. */
  openFor(key: string): Alert | null {
    return this.open.get(key) ?? null;
  }

  /**
   * Take alerts decided elsewhere as they are (an API node's view of what workers decided,
   * src/view/): saved in one transaction, in the order given, the open ones kept in step.
   */
  mirror(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    this.store.transaction(() => {
      for (const a of alerts) this.store.save(a);
    });
    for (const a of alerts) {
      if (a.state === 'open') this.open.set(a.key, a);
      else if (this.open.get(a.key)?.id === a.id) this.open.delete(a.key);
    }
  }

  /** With `scope`, an alert of another site is not found. */
  get(id: string, scope?: SiteScope): Alert | null {
    const open = [...this.open.values()].find((a) => a.id === id);
    if (open) return !scope || siteAllowed(scope, open.site) ? open : null;
    return this.store.get(id, scope);
  }

  query(q: AlertQuery): Alert[] {
    return this.store.query(q);
  }

  /** Alerts of a site opened in [from, to), per line and category (the energy report). */
  countOpened(q: { site: string; from: number; to: number; scope?: SiteScope }): { line: string; category: Category; count: number }[] {
    return this.store.countOpened(q);
  }

  private raise(e: AnomalyEvent, now: number): AlertTransition | null {
    const key = alertKey(e.site, e.line, e.device, e.rule);
    const current = this.open.get(key);
    if (current) {
      if (e.ts <= current.lastSeen) return null; // a replay of what this episode already counted
      const direction = Math.sign(current.peak - (current.threshold ?? current.baseline ?? 0)) || 1;
      const alert: Alert = {
        ...current,
        count: current.count + 1,
        lastSeen: e.ts,
        value: e.value,
        peak: excess(current, e.value, direction) > excess(current, current.peak, direction) ? e.value : current.peak,
        message: e.message,
        clearPendingSince: null,
        updatedAt: now,
      };
      this.open.set(key, alert);
      return { type: 'updated', ts: e.ts, alert };
    }
    const latest = this.store.latestFor(key);
    if (latest && latest.resolvedAt !== null && e.ts <= latest.resolvedAt) return null; // inside an episode already closed
    // Open in the store but not held: another process's episode this one no longer judges (a NATS
    // worker's device that moved). Removed here, so the store keeps one open alert per key.
    if (latest && latest.state === 'open') this.store.remove(latest.id);
    const recent = this.store.openedSince(key, e.ts - this.opts.flapWindowMs);
    const alert: Alert = {
      id: alertId(key, e.ts),
      key,
      site: e.site,
      line: e.line,
      device: e.device,
      rule: e.rule,
      metric: e.metric,
      category: e.category,
      severity: e.severity,
      state: 'open',
      openedAt: e.ts,
      lastSeen: e.ts,
      resolvedAt: null,
      count: 1,
      value: e.value,
      peak: e.value,
      threshold: e.threshold ?? null,
      baseline: e.baseline ?? null,
      message: e.message,
      flapping: recent + 1 >= this.opts.flapThreshold,
      clearPendingSince: null,
      ackedAt: null,
      ackedBy: null,
      ackNote: null,
      updatedAt: now,
    };
    this.open.set(key, alert);
    return { type: 'opened', ts: e.ts, alert };
  }

  private clear(e: AnomalyEvent, now: number): AlertTransition | null {
    const key = alertKey(e.site, e.line, e.device, e.rule);
    const current = this.open.get(key);
    if (!current || e.ts < current.lastSeen) return null;
    if (current.flapping) {
      // Damped: hold the alert open; it resolves in tick() if the condition stays clear.
      if (current.clearPendingSince !== null) return null;
      const alert: Alert = { ...current, clearPendingSince: e.ts, updatedAt: now };
      this.open.set(key, alert);
      return { type: 'updated', ts: e.ts, alert };
    }
    return this.resolve(current, e.ts, now, 'cleared');
  }

  private resolve(current: Alert, at: number, now: number, reason: 'cleared' | 'stale'): AlertTransition {
    const alert: Alert = { ...current, state: 'resolved', resolvedAt: at, clearPendingSince: null, updatedAt: now };
    this.open.delete(alert.key);
    return { type: 'resolved', ts: at, alert, reason };
  }

  private persist(dirty: Map<string, Alert>): void {
    if (dirty.size === 0) return;
    this.store.transaction(() => {
      for (const a of dirty.values()) this.store.save(a);
    });
  }
}
