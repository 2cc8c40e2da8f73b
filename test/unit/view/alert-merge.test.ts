import { describe, expect, it } from 'vitest';
import { AlertManager, AlertStore, alertId, alertKey, type Alert, type AlertTransition } from '../../../src/alerts/index.js';
import { mergeTransition, type PublishedTransition } from '../../../src/view/index.js';

const KEY = alertKey('site-1', 'line-1', 'dev-1', 'temperature-high');

function alert(over: Partial<Alert> = {}): Alert {
  const openedAt = over.openedAt ?? 1000;
  return {
    id: alertId(over.key ?? KEY, openedAt),
    key: KEY,
    site: 'site-1',
    line: 'line-1',
    device: 'dev-1',
    rule: 'temperature-high',
    metric: 'temperature_c',
    category: 'safety',
    severity: 'critical',
    state: 'open',
    openedAt,
    lastSeen: openedAt,
    resolvedAt: null,
    count: 1,
    value: 120,
    peak: 120,
    threshold: 100,
    baseline: null,
    message: { en: 'hot', zh: '热' },
    flapping: false,
    clearPendingSince: null,
    ackedAt: null,
    ackedBy: null,
    ackNote: null,
    updatedAt: openedAt,
    ...over,
  };
}

const msg = (type: PublishedTransition['type'], a: Alert, ts = a.lastSeen, reason?: 'cleared' | 'stale'): PublishedTransition => ({ v: 1, type, ts, alert: a, ...(reason ? { reason } : {}) });
const kinds = (ts: AlertTransition[]) => ts.map((t) => `${t.type}@${t.ts}`);

/** An API node's alert manager fed through the merge, as AlertView does. */
function node() {
  const manager = new AlertManager(new AlertStore(':memory:'));
  const told: AlertTransition[] = [];
  const apply = (m: PublishedTransition) => {
    const out = mergeTransition(m, manager.get(m.alert.id), manager.openFor(m.alert.key), 99_000);
    told.push(...out.transitions);
    manager.mirror(out.save);
    return out;
  };
  return { manager, told, apply };
}

describe('merging published alert transitions on an API node', () => {
  it('tells an episode once, however often its transitions arrive', () => {
    const n = node();
    const opened = alert();
    const updated = alert({ lastSeen: 2000, count: 2, value: 130, peak: 130, updatedAt: 2000 });
    const resolved = alert({ lastSeen: 2000, count: 2, value: 90, peak: 130, state: 'resolved', resolvedAt: 3000, updatedAt: 3000 });
    const stream = [msg('opened', opened, 1000), msg('updated', updated), msg('resolved', resolved, 3000, 'cleared')];
    for (const m of [...stream, ...stream, stream[1]!, stream[0]!]) n.apply(m);
    expect(kinds(n.told)).toEqual(['opened@1000', 'updated@2000', 'resolved@3000']);
    expect(n.told[2]!.reason).toBe('cleared');
    const stored = n.manager.query({});
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: opened.id, state: 'resolved', count: 2, peak: 130, resolvedAt: 3000 });
    expect(n.manager.openCount).toBe(0);
  });

  it('an update older than what is held changes nothing', () => {
    const n = node();
    n.apply(msg('updated', alert({ lastSeen: 5000, count: 5, updatedAt: 5000 })));
    const before = n.told.length;
    expect(n.apply(msg('updated', alert({ lastSeen: 4000, count: 4, updatedAt: 4000 }))).save).toEqual([]);
    expect(n.told.length).toBe(before);
    expect(n.manager.get(alert().id)!.count).toBe(5);
  });

  it('an episode first heard of late is told from its start, with the single process\'s times (same webhook keys)', () => {
    const n = node();
    const a = alert({ state: 'resolved', lastSeen: 4000, count: 3, resolvedAt: 6000, ackedAt: 5000, ackedBy: 'ops', updatedAt: 6000 });
    n.apply(msg('resolved', a, 6000, 'stale'));
    expect(kinds(n.told)).toEqual(['opened@1000', 'acknowledged@5000', 'resolved@6000']);
    expect(n.told.at(-1)!.reason).toBe('stale');
  });

  it('keeps an acknowledgement made on the API node through later updates, and takes one published by another node once', () => {
    const n = node();
    n.apply(msg('opened', alert(), 1000));
    n.manager.acknowledge(alert().id, 'shift lead', 'on it');
    n.apply(msg('updated', alert({ lastSeen: 2000, count: 2, updatedAt: 2000 })));
    expect(n.manager.get(alert().id)).toMatchObject({ count: 2, ackedBy: 'shift lead', ackNote: 'on it' });
    // Another node's acknowledgement of a second alert: taken once.
    const other = alert({ key: alertKey('site-1', 'line-1', 'dev-2', 'temperature-high'), device: 'dev-2', openedAt: 1500 });
    const acked = { ...other, ackedAt: 1700, ackedBy: 'remote', ackNote: null };
    n.apply(msg('opened', other, 1500));
    n.apply(msg('acknowledged', acked, 1700));
    n.apply(msg('acknowledged', acked, 1700));
    expect(kinds(n.told.filter((t) => t.alert.id === other.id))).toEqual(['opened@1500', 'acknowledged@1700']);
  });

  it('a resolution is final: a late update of the episode does not reopen it', () => {
    const n = node();
    n.apply(msg('resolved', alert({ state: 'resolved', resolvedAt: 3000, updatedAt: 3000 }), 3000, 'cleared'));
    expect(n.apply(msg('updated', alert({ lastSeen: 2500, count: 2, updatedAt: 2500 }))).save).toEqual([]);
    expect(n.manager.get(alert().id)!.state).toBe('resolved');
    expect(n.manager.openCount).toBe(0);
  });

  it('keeps one open alert per key when a new owner opens a second episode: the older one resolves as stale', () => {
    const n = node();
    const first = alert({ openedAt: 1000 });
    const second = alert({ openedAt: 8000 });
    n.apply(msg('opened', first, 1000));
    n.apply(msg('opened', second, 8000));
    expect(n.manager.openFor(KEY)!.id).toBe(second.id);
    expect(n.manager.get(first.id)).toMatchObject({ state: 'resolved', resolvedAt: 8000 });
    expect(kinds(n.told)).toEqual(['opened@1000', 'resolved@8000', 'opened@8000']);
    // News of an episode older than the open one arrives late: kept as ended, the open one stays.
    const older = alert({ openedAt: 500 });
    n.apply(msg('opened', older, 500));
    expect(n.manager.openFor(KEY)!.id).toBe(second.id);
    expect(n.manager.get(older.id)).toMatchObject({ state: 'resolved', resolvedAt: 8000 });
  });
});
