import type { SiteScope } from '../auth/site-scope.js';

/**
 * The alert vocabulary: what every stage that raises alerts (analytics, data completeness)
 * and every consumer (store, API, webhooks, reports) speaks.
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

/**
 * What a detector (or a data check) says about one input (or tick):
 * - `raise`: the condition holds at `ts` (after any minimum duration). Emitted for every input
 *   while it holds: the first opens an alert, the later ones update it (count, last seen, peak).
 * - `clear`: the condition has ended (past any hysteresis). Emitted once.
 */
export interface ConditionEvent {
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

/** What an alert is about: which device, which rule. Dedup key: device + rule. */
export interface AlertSubject {
  site: string;
  line: string;
  device: string;
  /** The rule id from the rules configuration (e.g. `temperature-high`). */
  rule: string;
  metric: string;
  category: Category;
  severity: Severity;
}

/** A detector event placed in context: which device, which rule; ready for the alert manager. */
export interface AnomalyEvent extends ConditionEvent, AlertSubject {}

export type AlertState = 'open' | 'resolved';

/** One alert: an episode of one rule's condition on one device (dedup key: device + rule). */
export interface Alert extends AlertSubject {
  /** Deterministic: derived from the key and the opening event's time, so replays agree on it. */
  id: string;
  key: string;
  state: AlertState;
  /** Event time of the first raise. */
  openedAt: number;
  /** Event time of the latest raise. */
  lastSeen: number;
  resolvedAt: number | null;
  /** How many raise events this episode has seen. */
  count: number;
  /** Latest value, and the value farthest beyond the threshold (or baseline) in this episode. */
  value: number;
  peak: number;
  threshold: number | null;
  baseline: number | null;
  message: Message;
  /** Flapping: the rule opened this key too often recently; the alert is held open until quiet. */
  flapping: boolean;
  /** While flapping: event time of a clear being held back (null when none). */
  clearPendingSince: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
  ackNote: string | null;
  /** Wall-clock time of the last change (for staleness and sorting). */
  updatedAt: number;
}

/** What notifiers hear. `updated` is for live views only; the others are stored as history. */
export type AlertTransitionType = 'opened' | 'updated' | 'resolved' | 'acknowledged';

export interface AlertTransition {
  type: AlertTransitionType;
  /** Event time of the transition (the raise/clear sample time; wall clock for acknowledgements and stale resolutions). */
  ts: number;
  alert: Alert;
  /** Why it resolved: the condition cleared, or nothing was heard from the rule for too long. */
  reason?: 'cleared' | 'stale';
  /** On an API node: the sequence of the alert stream message it came from (none when the node decided it). */
  streamSeq?: number;
}

export interface AlertQuery {
  state?: AlertState;
  site?: string;
  line?: string;
  device?: string;
  category?: Category;
  /** Alerts whose episode overlaps [from, to] (epoch ms). */
  from?: number;
  to?: number;
  limit?: number;
  /** The caller's sites (its token's scope), applied in SQL. Unset: every site. */
  scope?: SiteScope;
}
