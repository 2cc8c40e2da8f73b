import type { Category, Message, Severity } from '../analytics/types.js';
import type { SiteScope } from '../auth/site-scope.js';

export type AlertState = 'open' | 'resolved';

/** One alert: an episode of one rule's condition on one device (dedup key: device + rule). */
export interface Alert {
  /** Deterministic: derived from the key and the opening event's time, so replays agree on it. */
  id: string;
  key: string;
  site: string;
  line: string;
  device: string;
  rule: string;
  metric: string;
  category: Category;
  severity: Severity;
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
