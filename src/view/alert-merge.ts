import type { Alert, AlertTransition, AlertTransitionType } from '../alerts/index.js';

/** A transition as workers publish it (the public alert message, `alertMessage`). */
export interface PublishedTransition {
  v: 1;
  type: AlertTransitionType;
  ts: number;
  reason?: 'cleared' | 'stale';
  alert: Alert;
}

/** What applying one published transition changes: alerts to save (in this order), transitions to tell. */
export interface MergeOutcome {
  save: Alert[];
  transitions: AlertTransition[];
}

const NOTHING: MergeOutcome = { save: [], transitions: [] };

/** The acknowledgement an API node recorded stays, whatever later news from a worker (which never hears of it) says. */
function keepAck(next: Alert, local: Alert): Alert {
  return local.ackedAt !== null && next.ackedAt === null ? { ...next, ackedAt: local.ackedAt, ackedBy: local.ackedBy, ackNote: local.ackNote } : next;
}

/** Newer news of the same open episode: it has seen later raises, or changed later. */
function newerOpen(incoming: Alert, local: Alert): boolean {
  if (incoming.lastSeen !== local.lastSeen) return incoming.lastSeen > local.lastSeen;
  if (incoming.count !== local.count) return incoming.count > local.count;
  return incoming.updatedAt > local.updatedAt;
}

/**
 * The transitions the single process would have told about an episode first heard of now, with the
 * times it would have used (so webhook idempotency keys agree): opened at its opening time,
 * acknowledged at its acknowledgement, resolved at its end.
 */
function wholeEpisode(msg: PublishedTransition): AlertTransition[] {
  const a = msg.alert;
  const out: AlertTransition[] = [{ type: 'opened', ts: a.openedAt, alert: a }];
  if (a.ackedAt !== null) out.push({ type: 'acknowledged', ts: a.ackedAt, alert: a });
  if (a.state === 'resolved') out.push({ type: 'resolved', ts: a.resolvedAt ?? msg.ts, alert: a, ...(msg.reason ? { reason: msg.reason } : {}) });
  return out.sort((x, y) => x.ts - y.ts);
}

/**
 * Applies one alert transition published by a worker to an API node's view of that alert
 * (`local`, found by id) and of its key (`openForKey`: the episode open there now). Idempotent:
 * a repeat, or older news than what is held, changes nothing, so at-least-once delivery, a
 * worker's republish at start and an API node's replay after a restart tell each transition once.
 *
 * - Unknown alert: saved, and its episode told from the start (opened, then acknowledged or
 *   resolved if it already was).
 * - Resolved here: final; only an acknowledgement not yet recorded is taken.
 * - Open here: a resolution, a newer update, or an acknowledgement is taken; an acknowledgement
 *   made here is kept through later updates.
 * - One open alert per key, as on a single process: when a partition changed hands, the new
 *   owner may open a second episode of a condition the old owner had open; the older one is then
 *   resolved here (as stale, at the newer one's opening), because the old owner will not say so.
 */
export function mergeTransition(msg: PublishedTransition, local: Alert | null, openForKey: Alert | null, now: number): MergeOutcome {
  const incoming = msg.alert;
  if (!local) {
    const save: Alert[] = [];
    const transitions: AlertTransition[] = [];
    let alert = incoming;
    if (incoming.state === 'open' && openForKey && openForKey.id !== incoming.id) {
      if (openForKey.openedAt <= incoming.openedAt) {
        const older: Alert = { ...openForKey, state: 'resolved', resolvedAt: incoming.openedAt, clearPendingSince: null, updatedAt: now };
        save.push(older);
        transitions.push({ type: 'resolved', ts: incoming.openedAt, alert: older, reason: 'stale' });
      } else {
        // News of an episode older than the one open here: it has ended by now.
        alert = { ...incoming, state: 'resolved', resolvedAt: openForKey.openedAt, clearPendingSince: null, updatedAt: now };
        save.push(alert);
        return { save, transitions: wholeEpisode({ ...msg, alert, reason: 'stale' }) };
      }
    }
    save.push(alert);
    transitions.push(...(msg.type === 'opened' ? [{ type: 'opened' as const, ts: msg.ts, alert }] : wholeEpisode(msg)));
    return { save, transitions };
  }
  const ackNews = incoming.ackedAt !== null && local.ackedAt === null;
  if (local.state === 'resolved') {
    if (!ackNews) return NOTHING;
    const alert: Alert = { ...local, ackedAt: incoming.ackedAt, ackedBy: incoming.ackedBy, ackNote: incoming.ackNote };
    return { save: [alert], transitions: [{ type: 'acknowledged', ts: incoming.ackedAt!, alert }] };
  }
  if (incoming.state === 'resolved') {
    const alert = keepAck(incoming, local);
    const transitions: AlertTransition[] = [];
    if (ackNews) transitions.push({ type: 'acknowledged', ts: incoming.ackedAt!, alert });
    transitions.push({ type: 'resolved', ts: incoming.resolvedAt ?? msg.ts, alert, ...(msg.reason ? { reason: msg.reason } : {}) });
    return { save: [alert], transitions };
  }
  const newer = newerOpen(incoming, local);
  if (!newer && !ackNews) return NOTHING;
  const alert = keepAck(newer ? incoming : { ...local, ackedAt: incoming.ackedAt, ackedBy: incoming.ackedBy, ackNote: incoming.ackNote }, local);
  const transitions: AlertTransition[] = [];
  if (ackNews) transitions.push({ type: 'acknowledged', ts: incoming.ackedAt!, alert });
  if (newer) transitions.push({ type: 'updated', ts: msg.ts, alert });
  return { save: [alert], transitions };
}
